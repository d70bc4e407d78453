import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createS3Client, startS3Simulator } from '../../src/index.js';

async function failure(promise: Promise<unknown>): Promise<{ name: string; status?: number }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { name: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail');
}

describe('startS3Simulator over HTTP', () => {
  it('lists a generated bucket to the end through the SDK, every key once, and counts the requests', async () => {
    await using sim = await startS3Simulator({
      buckets: { dated: { layout: 'dated', count: 2_500, prefix: 'logs/' } },
      latencyMs: 1,
    });
    const client = createS3Client(sim);
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: 'dated', Prefix: 'logs/', ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) seen.push(object.Key!);
      token = page.NextContinuationToken;
    } while (token);
    client.destroy();
    expect(seen).toHaveLength(2_500);
    expect(new Set(seen).size).toBe(2_500);
    expect([...seen].sort()).toEqual(seen);
    expect(sim.counters.byOperation.ListObjectsV2).toBe(3);
    expect(sim.counters.keysListed).toBe(2_500);
    sim.resetCounters();
    expect(sim.counters.total).toBe(0);
  });

  it('answers 503 SlowDown past the per-prefix read rate, which the SDK retries, and counts the refusals', async () => {
    await using sim = await startS3Simulator({
      buckets: { flat: { layout: 'flat', count: 100, prefix: 'p/' } },
      latencyMs: 0,
      jitterMs: 0,
      rateLimit: { readsPerSecond: 5 },
    });
    const once = createS3Client(sim, { maxAttempts: 1 });
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, () =>
        once.send(new ListObjectsV2Command({ Bucket: 'flat', Prefix: 'p/', MaxKeys: 1 })),
      ),
    );
    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused.length).toBeGreaterThanOrEqual(6);
    expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({
      name: 'SlowDown',
      $metadata: { httpStatusCode: 503 },
    });
    expect(sim.counters.throttled).toBe(refused.length);
    // Another prefix has its own budget.
    await expect(once.send(new ListObjectsV2Command({ Bucket: 'flat', Prefix: 'q/' }))).resolves.toMatchObject({
      KeyCount: 0,
    });
    once.destroy();
    // The SDK backs off and retries: with enough attempts the request gets through.
    const patient = createS3Client(sim, { maxAttempts: 10 });
    await expect(
      patient.send(new ListObjectsV2Command({ Bucket: 'flat', Prefix: 'p/', MaxKeys: 1 })),
    ).resolves.toMatchObject({ KeyCount: 1 });
    patient.destroy();
  });

  it('stores a multipart upload, refuses small parts and wrong ETags as S3 does, and lists and aborts uploads', async () => {
    await using sim = await startS3Simulator({
      buckets: { out: { layout: 'handful' } },
      latencyMs: 0,
      minPartSize: 1024,
    });
    const client = createS3Client(sim, { maxAttempts: 1 });
    const Bucket = 'out';
    const Key = 'manifests/m.jsonl';
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket, Key, ContentType: 'application/x-ndjson' }),
    );
    const one = Buffer.from('{"k":1}\n'.repeat(200));
    const two = Buffer.from('{"k":2}\n');
    const p1 = await client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: one }));
    const p2 = await client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 2, Body: two }));
    const listed = await client.send(new ListMultipartUploadsCommand({ Bucket, Prefix: 'manifests/' }));
    expect(listed.Uploads?.map((u) => [u.Key, u.UploadId])).toEqual([[Key, UploadId]]);
    const wrong = await failure(
      client.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key,
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"00"' }] },
        }),
      ),
    );
    expect(wrong).toEqual({ name: 'InvalidPart', status: 400 });
    const missing = await failure(
      client.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key,
          UploadId,
          MultipartUpload: {
            Parts: [
              { PartNumber: 1, ETag: p1.ETag },
              { PartNumber: 3, ETag: p2.ETag },
            ],
          },
        }),
      ),
    );
    expect(missing).toEqual({ name: 'InvalidPart', status: 400 });
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: p1.ETag },
            { PartNumber: 2, ETag: p2.ETag },
          ],
        },
      }),
    );
    expect(sim.uploads()).toEqual([]);
    const got = await client.send(new GetObjectCommand({ Bucket, Key }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat([one, two]))).toBe(true);
    expect(got.ETag).toMatch(/^"[0-9a-f]{32}-2"$/);
    expect(sim.objects(Bucket).get(Key)).toMatchObject({
      size: one.length + two.length,
      lines: 201,
      parts: 2,
      contentType: 'application/x-ndjson',
    });

    // A part under the minimum size anywhere but last: EntityTooSmall. Then abort: nothing left.
    const second = await client.send(new CreateMultipartUploadCommand({ Bucket, Key: 'manifests/n.jsonl' }));
    const a = await client.send(
      new UploadPartCommand({ Bucket, Key: 'manifests/n.jsonl', UploadId: second.UploadId, PartNumber: 1, Body: two }),
    );
    const b = await client.send(
      new UploadPartCommand({ Bucket, Key: 'manifests/n.jsonl', UploadId: second.UploadId, PartNumber: 2, Body: two }),
    );
    const tooSmall = await failure(
      client.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key: 'manifests/n.jsonl',
          UploadId: second.UploadId,
          MultipartUpload: {
            Parts: [
              { PartNumber: 1, ETag: a.ETag },
              { PartNumber: 2, ETag: b.ETag },
            ],
          },
        }),
      ),
    );
    expect(tooSmall).toEqual({ name: 'EntityTooSmall', status: 400 });
    await client.send(new AbortMultipartUploadCommand({ Bucket, Key: 'manifests/n.jsonl', UploadId: second.UploadId }));
    expect(sim.uploads('out')).toEqual([]);
    expect(
      await failure(
        client.send(new AbortMultipartUploadCommand({ Bucket, Key: 'manifests/n.jsonl', UploadId: second.UploadId })),
      ),
    ).toEqual({
      name: 'NoSuchUpload',
      status: 404,
    });
    expect(sim.counters.byOperation).toMatchObject({
      CreateMultipartUpload: 2,
      UploadPart: 4,
      CompleteMultipartUpload: 4,
      AbortMultipartUpload: 2,
    });
    client.destroy();
  });

  it('answers InvalidPart for a part never uploaded, even after a part under the minimum size', async () => {
    await using sim = await startS3Simulator({ buckets: { out: { layout: 'handful' } }, latencyMs: 0 });
    const client = createS3Client(sim, { maxAttempts: 1 });
    const Bucket = 'out';
    const Key = 'manifests/gap.jsonl';
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const small = await client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: 'tiny\n' }));
    const complete = client.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: small.ETag },
            { PartNumber: 2, ETag: small.ETag },
          ],
        },
      }),
    );
    expect(await failure(complete)).toEqual({ name: 'InvalidPart', status: 400 });
    client.destroy();
  });

  it('lists multipart uploads as S3 does: keys in UTF-8 byte order, max-uploads pages joined by the markers', async () => {
    await using sim = await startS3Simulator({ buckets: { out: { layout: 'handful' } }, latencyMs: 0 });
    const client = createS3Client(sim, { maxAttempts: 1 });
    const Bucket = 'out';
    // UTF-16 order puts U+1F600 (a surrogate pair) before U+FFFD; UTF-8 byte order puts it after.
    const keys = ['up/\u{1F600}', 'up/b', 'up/a', 'up/\uFFFD', 'up/a', 'other/x'];
    const created: [string, string][] = [];
    for (const Key of keys) {
      const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
      created.push([Key, UploadId!]);
    }
    const pages: { uploads: [string, string][]; truncated?: boolean; max?: number }[] = [];
    let marker: { KeyMarker?: string; UploadIdMarker?: string } = {};
    for (let i = 0; i < 10; i++) {
      const page = await client.send(
        new ListMultipartUploadsCommand({ Bucket, Prefix: 'up/', MaxUploads: 2, ...marker }),
      );
      pages.push({
        uploads: (page.Uploads ?? []).map((u) => [u.Key!, u.UploadId!]),
        truncated: page.IsTruncated,
        max: page.MaxUploads,
      });
      if (!page.IsTruncated) break;
      marker = { KeyMarker: page.NextKeyMarker, UploadIdMarker: page.NextUploadIdMarker };
    }

    const [a1, a2] = created.filter(([key]) => key === 'up/a');
    const byKey = (key: string) => created.find(([k]) => k === key)!;
    expect(pages).toEqual([
      { uploads: [a1, a2], truncated: true, max: 2 },
      { uploads: [byKey('up/b'), byKey('up/\uFFFD')], truncated: true, max: 2 },
      { uploads: [byKey('up/\u{1F600}')], truncated: false, max: 2 },
    ]);
    // A key marker alone resumes after every upload of that key.
    const afterA = await client.send(new ListMultipartUploadsCommand({ Bucket, Prefix: 'up/', KeyMarker: 'up/a' }));
    expect(afterA.Uploads?.map((u) => u.Key)).toEqual(['up/b', 'up/\uFFFD', 'up/\u{1F600}']);
    client.destroy();
  });

  it('answers a malformed percent-escape in the path with 400 InvalidURI, counted as an error', async () => {
    await using sim = await startS3Simulator({ buckets: { bkt: { layout: 'keys', keys: ['a'] } }, latencyMs: 0 });
    const answer = await fetch(`${sim.endpoint}/bkt/a%zz`);
    expect(answer.status).toBe(400);
    expect(await answer.text()).toContain('<Code>InvalidURI</Code>');
    expect(sim.counters.errors).toBe(1);
  });

  it("in 'count' mode keeps sizes and line counts only: HeadObject answers, GetObject says why it cannot", async () => {
    await using sim = await startS3Simulator({ buckets: { out: { layout: 'handful' } }, latencyMs: 0, store: 'count' });
    const client = createS3Client(sim, { maxAttempts: 1 });
    const body = 'a\nb\nc\n'.repeat(1000);
    await client.send(new PutObjectCommand({ Bucket: 'out', Key: 'm.jsonl', Body: body }));
    expect(sim.objects('out').get('m.jsonl')).toMatchObject({ size: body.length, lines: 3000 });
    expect(sim.objects('out').get('m.jsonl')?.body).toBeUndefined();
    await expect(client.send(new HeadObjectCommand({ Bucket: 'out', Key: 'm.jsonl' }))).resolves.toMatchObject({
      ContentLength: body.length,
    });
    expect(await failure(client.send(new GetObjectCommand({ Bucket: 'out', Key: 'm.jsonl' })))).toEqual({
      name: 'NotImplemented',
      status: 501,
    });
    expect(sim.counters.bytesReceived).toBe(body.length);
    client.destroy();
  });

  it('reads bodies sent with flexible checksums (aws-chunked framing) and serves listed keys to GET and HEAD', async () => {
    await using sim = await startS3Simulator({ buckets: { out: { layout: 'handful', prefix: 'k/' } }, latencyMs: 0 });
    // The SDK's defaults: a CRC32 checksum streamed in a trailer.
    const client = new S3Client({
      endpoint: sim.endpoint,
      region: sim.region,
      credentials: sim.credentials,
      forcePathStyle: true,
      maxAttempts: 1,
    });
    const body = Buffer.alloc(100_000, 'x\n');
    await client.send(new PutObjectCommand({ Bucket: 'out', Key: 'c.txt', Body: body, ContentLength: body.length }));
    expect(sim.objects('out').get('c.txt')?.body?.equals(body)).toBe(true);
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'out' }));
    const first = listed.Contents![0]!;
    const head = await client.send(new HeadObjectCommand({ Bucket: 'out', Key: first.Key! }));
    expect(head.ETag).toBe(first.ETag);
    expect(await failure(client.send(new HeadObjectCommand({ Bucket: 'out', Key: 'k/absent' })))).toMatchObject({
      status: 404,
    });
    expect(await failure(client.send(new ListObjectsV2Command({ Bucket: 'nobucket' })))).toEqual({
      name: 'NoSuchBucket',
      status: 404,
    });
    client.destroy();
  });

  it('serves objects given up front in either store mode; a bucket named only there exists and lists nothing', async () => {
    const bytes = Buffer.from([0x1f, 0x8b, 0, 1, 2, 10, 255]);
    await using sim = await startS3Simulator({
      buckets: { listed: { layout: 'handful' } },
      objects: { reports: { 'inv/manifest.json': '{"files":[]}\n', 'inv/data/0.csv.gz': bytes } },
      latencyMs: 0,
      store: 'count',
    });
    const client = createS3Client(sim, { maxAttempts: 1 });
    const text = await client.send(new GetObjectCommand({ Bucket: 'reports', Key: 'inv/manifest.json' }));
    expect(await text.Body!.transformToString()).toBe('{"files":[]}\n');
    const data = await client.send(new GetObjectCommand({ Bucket: 'reports', Key: 'inv/data/0.csv.gz' }));
    expect(Buffer.from(await data.Body!.transformToByteArray()).equals(bytes)).toBe(true);
    expect(data.ETag).toBe(`"${createHash('md5').update(bytes).digest('hex')}"`);
    await expect(client.send(new ListObjectsV2Command({ Bucket: 'reports' }))).resolves.toMatchObject({ KeyCount: 0 });
    expect(await failure(client.send(new GetObjectCommand({ Bucket: 'reports', Key: 'inv/absent' })))).toEqual({
      name: 'NoSuchKey',
      status: 404,
    });
    // Written objects in 'count' mode still keep no bytes.
    await client.send(new PutObjectCommand({ Bucket: 'reports', Key: 'out.jsonl', Body: 'a\n' }));
    expect(sim.objects('reports').get('out.jsonl')?.body).toBeUndefined();
    client.destroy();
  });

  it('waits the configured latency before answering', async () => {
    await using sim = await startS3Simulator({ latencyMs: 120, jitterMs: 0 });
    const client = createS3Client(sim);
    const started = performance.now();
    await client.send(new ListObjectsV2Command({ Bucket: 'simulated-bucket', MaxKeys: 1 }));
    // A lower bound only (a timer never fires early); no upper bound is asserted.
    expect(performance.now() - started).toBeGreaterThanOrEqual(115);
    client.destroy();
  });

  it('rejects bad options naming the field, and closes idempotently', async () => {
    await expect(startS3Simulator({ latencyMs: -1 })).rejects.toThrow(/latencyMs/);
    await expect(startS3Simulator({ buckets: { B: { layout: 'flat' } } })).rejects.toThrow(/bucket name/);
    await expect(startS3Simulator({ buckets: { ok1: { layout: 'flat', count: 1.5 } } })).rejects.toThrow(/count/);
    await expect(startS3Simulator({ store: 'disk' as 'count' })).rejects.toThrow(/store/);
    await expect(startS3Simulator({ rateLimit: { writesPerSecond: -3 } })).rejects.toThrow(/writesPerSecond/);
    await expect(startS3Simulator({ objects: { Bad: { k: 'v' } } })).rejects.toThrow(
      /objects: "Bad" is not a valid bucket name/,
    );
    await expect(startS3Simulator({ objects: { good: { k: 3 as unknown as string } } })).rejects.toThrow(
      /objects\["good"\]\["k"\]/,
    );
    const sim = await startS3Simulator();
    await sim.close();
    await sim.close();
    await expect(fetch(`${sim.endpoint}/simulated-bucket?list-type=2`)).rejects.toThrow();
  });
});
