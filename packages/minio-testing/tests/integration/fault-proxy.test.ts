import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createS3Client, startFaultProxy, type FaultProxy, type S3Endpoint } from '../../src/index.js';
import { useS3Endpoint } from '../../src/vitest.js';
import { bucketName } from '../helpers/s3.js';

/** The S3 error an SDK call rejected with, or a failure if it did not reject. */
async function failure(
  promise: Promise<unknown>,
): Promise<{ name: string; code?: string; status?: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { name: string; code?: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, code: e.code, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  throw new Error('expected the call to fail');
}

describe('startFaultProxy against a real S3 endpoint', () => {
  let endpoint: S3Endpoint;
  let bucket: string;
  let proxy: FaultProxy;
  const clients: S3Client[] = [];
  /** A client that goes through the proxy, with a given number of attempts. */
  const viaProxy = (maxAttempts: number, extra: Parameters<typeof createS3Client>[1] = {}): S3Client => {
    const client = createS3Client({ ...endpoint, endpoint: proxy.endpoint }, { maxAttempts, ...extra });
    clients.push(client);
    return client;
  };
  const exists = async (key: string): Promise<boolean> =>
    endpoint.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
      () => true,
      (error: { name?: string }) => (error.name === 'NotFound' ? false : Promise.reject(error)),
    );

  beforeAll(async () => {
    endpoint = useS3Endpoint();
    bucket = bucketName('faults');
    await endpoint.createBucket(bucket);
    await endpoint.seed(bucket, ['list/a', 'list/b', 'list/c', 'get/one']);
    proxy = await startFaultProxy({ target: endpoint });
  });
  afterEach(() => {
    proxy.setRules([]);
    proxy.resetHits();
    for (const client of clients.splice(0)) client.destroy();
  });
  afterAll(async () => {
    await proxy.stop();
    await endpoint.stop();
  });

  it('forwards requests untouched when no rule matches, and counts them by operation', async () => {
    const client = viaProxy(1);
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain/x.txt', Body: 'through the proxy' }));
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'plain/x.txt' }));
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'list/' }));

    expect(await got.Body?.transformToString()).toBe('through the proxy');
    expect(listed.Contents?.map((o) => o.Key)).toEqual(['list/a', 'list/b', 'list/c']);
    expect(proxy.hits).toMatchObject({
      total: 3,
      injected: 0,
      byOperation: { PutObject: 1, GetObject: 1, ListObjectsV2: 1 },
    });
  });

  it('503 SlowDown on PutObject: one attempt fails with SlowDown, three attempts recover', async () => {
    proxy.setRules([{ fault: 'slow-down', operation: 'PutObject', times: 1 }]);
    const single = await failure(viaProxy(1).send(new PutObjectCommand({ Bucket: bucket, Key: 'slow/1', Body: 'x' })));
    expect(single).toMatchObject({ name: 'SlowDown', status: 503 });
    expect(await exists('slow/1')).toBe(false);

    proxy.setRules([{ fault: 'slow-down', operation: 'PutObject', times: 2 }]);
    await viaProxy(3).send(new PutObjectCommand({ Bucket: bucket, Key: 'slow/2', Body: 'x' }));
    expect(await exists('slow/2')).toBe(true);
    expect(proxy.hits.rules).toEqual([{ matched: 3, injected: 2 }]);
    expect(proxy.hits.injectedByOperation).toEqual({ PutObject: 3 });
  });

  it('500 InternalError on ListObjectsV2: one attempt fails, three attempts list every key', async () => {
    proxy.setRules([{ fault: 'internal-error', operation: 'ListObjectsV2', times: 2 }]);
    expect(
      await failure(viaProxy(1).send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'list/' }))),
    ).toMatchObject({
      name: 'InternalError',
      status: 500,
    });
    const listed = await viaProxy(3).send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'list/' }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual(['list/a', 'list/b', 'list/c']);
    expect(proxy.hits.rules).toEqual([{ matched: 3, injected: 2 }]);
  });

  it('connection reset on UploadPart: one attempt fails with ECONNRESET, three attempts complete the upload', async () => {
    const key = 'multipart/reset.bin';
    const create = await endpoint.client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const part = { Bucket: bucket, Key: key, UploadId: create.UploadId, PartNumber: 1, Body: 'part one' };
    proxy.setRules([{ fault: 'reset', operation: 'UploadPart', times: 1 }]);

    const single = await failure(viaProxy(1).send(new UploadPartCommand(part)));
    expect(single.code ?? single.name).toMatch(/ECONNRESET|socket hang up/i);

    proxy.setRules([{ fault: 'reset', operation: 'UploadPart', times: 2 }]);
    const client = viaProxy(3);
    const uploaded = await client.send(new UploadPartCommand(part));
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: create.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: uploaded.ETag }] },
      }),
    );
    expect(await exists(key)).toBe(true);
    expect(proxy.hits.rules).toEqual([{ matched: 3, injected: 2 }]);
  });

  it("phase 'response': CompleteMultipartUpload takes effect on the server while the client sees a 500", async () => {
    const key = 'multipart/after.bin';
    const create = await endpoint.client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const part = await endpoint.client.send(
      new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: create.UploadId, PartNumber: 1, Body: 'only part' }),
    );
    proxy.setRules([{ fault: 'internal-error', operation: 'CompleteMultipartUpload', phase: 'response' }]);

    const error = await failure(
      viaProxy(1).send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: create.UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
        }),
      ),
    );

    expect(error).toMatchObject({ name: 'InternalError', status: 500 });
    expect(await exists(key)).toBe(true);
  });

  it("'after' lets the first n matching requests through: CreateMultipartUpload fails only the second time", async () => {
    proxy.setRules([{ fault: 'slow-down', operation: 'CreateMultipartUpload', after: 1, times: 1 }]);
    const client = viaProxy(1);
    const first = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'after/1' }));
    const second = await failure(client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'after/2' })));
    const third = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'after/3' }));

    expect(first.UploadId).toBeTruthy();
    expect(second).toMatchObject({ name: 'SlowDown', status: 503 });
    expect(third.UploadId).toBeTruthy();
    expect(proxy.hits.rules).toEqual([{ matched: 3, injected: 1 }]);

    // AbortMultipartUpload is a separate operation a rule can target.
    proxy.setRules([{ fault: 'internal-error', operation: 'AbortMultipartUpload', times: 1 }]);
    const abort = (k: string, id: string | undefined) =>
      client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: k, UploadId: id }));
    expect(await failure(abort('after/1', first.UploadId))).toMatchObject({ name: 'InternalError' });
    await abort('after/1', first.UploadId);
    await abort('after/3', third.UploadId);
    const left = await endpoint.client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'after/' }));
    expect(left.Uploads ?? []).toEqual([]);
  });

  it('a 6 MiB body passes through intact, and a reset before them is retried', async () => {
    const body = new Uint8Array(6 * 1024 * 1024).map((_, i) => i % 251);
    proxy.setRules([{ fault: 'reset', operation: 'PutObject', times: 1 }]);
    const client = viaProxy(3);

    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'large/six-mib.bin', Body: body }));
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'large/six-mib.bin' }));
    const bytes = await got.Body!.transformToByteArray();

    expect(bytes.length).toBe(body.length);
    expect(Buffer.compare(Buffer.from(bytes), Buffer.from(body))).toBe(0);
    expect(proxy.hits.rules).toEqual([{ matched: 2, injected: 1 }]);
  });

  it('foreign-body: a 200 HTML page the SDK reads as an empty listing, and the target never sees the request', async () => {
    proxy.setRules([{ fault: 'foreign-body', operation: 'ListObjectsV2' }]);
    const listed = await viaProxy(1).send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'list/' }));
    expect(listed).toMatchObject({ $metadata: { httpStatusCode: 200 } });
    expect(listed.Contents).toBeUndefined();
    expect(listed.IsTruncated).toBeUndefined();
    expect(proxy.hits).toMatchObject({ forwarded: 0, injected: 1 });

    const raw = await fetch(`${proxy.endpoint}/${bucket}?list-type=2`);
    expect(raw.status).toBe(200);
    expect(raw.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await raw.text()).toMatch(/^<!DOCTYPE html>[\s\S]*Bad Gateway/);
  });

  it('foreign-body with a body, content type and status of its own', async () => {
    proxy.setRules([{ fault: 'foreign-body', body: '{"ok":true}', contentType: 'application/json', status: 203 }]);
    const raw = await fetch(`${proxy.endpoint}/${bucket}?list-type=2`);
    expect(raw.status).toBe(203);
    expect(raw.headers.get('content-type')).toBe('application/json');
    expect(await raw.text()).toBe('{"ok":true}');
  });

  it("empty-body: PutObject answered 200 without an ETag; with phase 'response' the object is stored, without it not", async () => {
    proxy.setRules([{ fault: 'empty-body', operation: 'PutObject' }]);
    const unsent = await viaProxy(1).send(new PutObjectCommand({ Bucket: bucket, Key: 'empty/unsent', Body: 'x' }));
    expect(unsent.ETag).toBeUndefined();
    expect(await exists('empty/unsent')).toBe(false);

    proxy.setRules([{ fault: 'empty-body', operation: 'PutObject', phase: 'response' }]);
    const sent = await viaProxy(1).send(new PutObjectCommand({ Bucket: bucket, Key: 'empty/sent', Body: 'x' }));
    expect(sent.ETag).toBeUndefined();
    expect(await exists('empty/sent')).toBe(true);
  });

  it('truncate: S3 carries the request out, the client gets half the body and a reset (the SDK retries it)', async () => {
    proxy.setRules([{ fault: 'truncate', operation: 'CreateMultipartUpload', times: 1 }]);
    const key = 'truncate/create.bin';
    const single = await failure(viaProxy(1).send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key })));
    expect(single).toMatchObject({ code: 'ECONNRESET', message: 'aborted' });
    const uploads = await endpoint.client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
    expect(uploads.Uploads?.map((u) => u.Key)).toEqual([key]);
    for (const upload of uploads.Uploads ?? []) {
      await endpoint.client.send(
        new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: upload.UploadId }),
      );
    }
    expect(proxy.hits).toMatchObject({ forwarded: 1, injected: 1 });
  });

  it('truncate on answers without a body: the targeted request fails, the next one on the connection succeeds', async () => {
    proxy.setRules([{ fault: 'truncate', operation: ['PutObject', 'UploadPart', 'HeadObject'] }]);
    const client = viaProxy(1);
    const key = 'truncate/bodiless.txt';

    const put = await failure(client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'hello' })));
    // Unmatched, and sent on the connection the truncated answer came over if it had survived.
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const part = await failure(
      client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: 'part' })),
    );
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId }));
    const head = await failure(client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));

    for (const error of [put, part, head]) expect(error.code).toBe('ECONNRESET');
    expect(await exists(key)).toBe(true);
    expect(proxy.hits).toMatchObject({
      injected: 3,
      injectedByOperation: { PutObject: 1, UploadPart: 1, HeadObject: 1 },
    });
  });

  it('a match predicate narrows a rule to chosen keys', async () => {
    proxy.setRules([{ fault: 'internal-error', operation: 'GetObject', match: (r) => r.key === 'list/b' }]);
    const client = viaProxy(1);
    const a = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'list/a' }));
    await a.Body?.transformToString();
    expect(await failure(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'list/b' })))).toMatchObject({
      status: 500,
    });
    expect(proxy.hits.rules).toEqual([{ matched: 1, injected: 1 }]);
  });

  it('a delay rule slows matching responses, enough to trip a client request timeout', async () => {
    proxy.setRules([{ fault: 'delay', operation: 'GetObject', delayMs: 2_000 }]);
    const impatient = viaProxy(1, { requestHandler: { requestTimeout: 200, throwOnRequestTimeout: true } });
    const error = await failure(impatient.send(new GetObjectCommand({ Bucket: bucket, Key: 'get/one' })));
    expect(error.name).toMatch(/TimeoutError/);

    proxy.setRules([{ fault: 'delay', operation: 'GetObject', delayMs: 300 }]);
    const started = performance.now();
    const got = await viaProxy(1).send(new GetObjectCommand({ Bucket: bucket, Key: 'get/one' }));
    await got.Body?.transformToString();
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });

  // A body of 256 KiB fills the socket buffers, so the server cannot see the client's close before it reads the body:
  // the case a proxy that only watched the response missed. The small body shows the simple case still holds.
  it.each([
    ['abortSignal', 'a 256 KiB body', 256 * 1024],
    ['abortSignal', 'a 1-byte body', 1],
    ['requestTimeout', 'a 256 KiB body', 256 * 1024],
    ['requestTimeout', 'a 1-byte body', 1],
  ] as const)('a delayed PutObject whose client gives up (%s, %s) is never forwarded', async (how, _size, bytes) => {
    // Prepare
    const key = `abandoned/${how}-${bytes}`;
    const delayMs = 600;
    proxy.setRules([{ fault: 'delay', operation: 'PutObject', delayMs }]);
    const controller = new AbortController();
    const client =
      how === 'abortSignal'
        ? viaProxy(1)
        : viaProxy(1, { requestHandler: { requestTimeout: 100, throwOnRequestTimeout: true } });
    const started = performance.now();

    // Act
    const put = client.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: new Uint8Array(bytes).fill(7) }),
      how === 'abortSignal' ? { abortSignal: controller.signal } : {},
    );
    if (how === 'abortSignal') setTimeout(() => controller.abort(), 100);
    const error = await failure(put);
    await vi.waitFor(() => expect(proxy.hits.abandoned).toBe(1), { timeout: delayMs });
    // Past the delay (and some), when a forward the proxy had kept would have landed.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + delayMs + 300 - performance.now())));

    // Assess
    expect(error.name).toBe(how === 'abortSignal' ? 'AbortError' : 'TimeoutError');
    expect(await exists(key)).toBe(false);
    expect(proxy.hits).toMatchObject({ total: 1, forwarded: 0, abandoned: 1, byOperation: { PutObject: 1 } });
  });

  it('a delayed PutObject that the client waits for is forwarded with its whole body', async () => {
    // Prepare
    const body = new Uint8Array(256 * 1024).map((_, i) => (i * 7) % 253);
    proxy.setRules([{ fault: 'delay', operation: 'PutObject', delayMs: 200 }]);
    const client = viaProxy(1);

    // Act
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'held/whole.bin', Body: body }));
    const got = await endpoint.client.send(new GetObjectCommand({ Bucket: bucket, Key: 'held/whole.bin' }));
    const bytes = await got.Body!.transformToByteArray();

    // Assess
    expect(Buffer.compare(Buffer.from(bytes), Buffer.from(body))).toBe(0);
    expect(proxy.hits).toMatchObject({ total: 1, forwarded: 1, abandoned: 0, injected: 1 });
  });

  it('a rule without an operation adds latency to every request and combines with a fault', async () => {
    proxy.setRules([
      { fault: 'delay', delayMs: 50 },
      { fault: 'slow-down', operation: 'HeadObject', times: 1 },
    ]);
    const client = viaProxy(3);
    const started = performance.now();
    await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'get/one' }));
    await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'list/' }));
    const elapsed = performance.now() - started;

    // HeadObject: one 503 and one retry, then one list: three requests, each delayed.
    expect(proxy.hits.rules).toEqual([
      { matched: 3, injected: 3 },
      { matched: 2, injected: 1 },
    ]);
    expect(proxy.hits.injected).toBe(4);
    expect(elapsed).toBeGreaterThanOrEqual(145);
  });
});

describe('FaultProxy lifecycle', () => {
  it('stop() drops pending delayed requests and refuses new connections', async () => {
    const endpoint = useS3Endpoint();
    const proxy = await startFaultProxy({ target: endpoint.endpoint, rules: [{ fault: 'delay', delayMs: 60_000 }] });
    const client = createS3Client({ ...endpoint, endpoint: proxy.endpoint }, { maxAttempts: 1 });
    try {
      const pending = client.send(new ListObjectsV2Command({ Bucket: 'whatever' }));
      await new Promise((resolve) => setTimeout(resolve, 100));
      await proxy.stop();
      await expect(pending).rejects.toThrow();
      await expect(fetch(`${proxy.endpoint}/`)).rejects.toThrow();
      expect(proxy.hits.total).toBe(1);
    } finally {
      client.destroy();
      await endpoint.stop();
    }
  }, 10_000);
});
