import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { describe, expect, it, vi } from 'vitest';
import { isPresignPipelineError } from '../../src/errors.js';
import { writeLines } from '../../src/manifest/jsonl.js';
import { ManifestBody } from '../../src/s3/manifest-body.js';
import { removeUploadTraces, sweepStrayUploads } from '../../src/s3/upload-cleanup.js';
import { UploadRequests } from '../../src/s3/upload-requests.js';

const MIB = 1024 * 1024;

/** A real S3Client whose `send` records each command's name and input and answers with `answer`. */
function recordingClient(answer: (name: string, input: Record<string, unknown>) => unknown) {
  const client = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 's' } });
  const calls: { name: string; input: Record<string, unknown> }[] = [];
  Object.defineProperty(client, 'send', {
    value: async (command: { input: Record<string, unknown> }) => {
      const name = command.constructor.name.replace(/Command$/, '');
      calls.push({ name, input: command.input });
      return answer(name, command.input);
    },
  });
  return { client, calls };
}

describe('ManifestBody (the part buffer between write and the upload)', () => {
  it('gathers lines into a chunk and hands the chunk to the stream only when asked', async () => {
    // Prepare
    const body = new ManifestBody(() => undefined);
    const received: Buffer[] = [];
    body.stream.on('data', (data: Buffer) => received.push(Buffer.from(data)));

    // Act
    body.sink.buffer().append('a.pdf', 'https://u/1');
    body.sink.buffer().append('b.pdf', 'https://u/2');
    await new Promise((resolve) => setImmediate(resolve));
    const beforeHandOver = received.length;
    await body.sink.handOver();
    await new Promise((resolve) => setImmediate(resolve));

    // Assess
    expect(beforeHandOver).toBe(0);
    expect(Buffer.concat(received).toString()).toBe(
      '{"key":"a.pdf","url":"https://u/1"}\n{"key":"b.pdf","url":"https://u/2"}\n',
    );
    expect(body.bytes).toBe(Buffer.concat(received).length);
  });

  it('makes a push wait while the stream is full, until it drains', async () => {
    // Prepare
    const body = new ManifestBody(() => undefined);
    let settled = false;

    // Act
    const pushing = body.push(Buffer.alloc(2 * MIB)).then(() => {
      settled = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    const whileFull = settled;
    body.stream.resume();
    await pushing;

    // Assess
    expect(whileFull).toBe(false);
    expect(settled).toBe(true);
    expect(body.bytes).toBe(2 * MIB);
  });

  it('reuses a chunk once the upload has copied it: a 38 MiB manifest allocates a few 1 MiB chunks, bytes intact', async () => {
    // Prepare: a consumer that reads the stream as the upload does, copying each chunk and handing it back.
    const body = new ManifestBody(() => undefined);
    const copies: Buffer[] = [];
    const consumed = (async () => {
      for await (const chunk of body.stream as AsyncIterable<Buffer>) {
        copies.push(Buffer.from(chunk));
        body.release(chunk);
      }
    })();
    const url = `https://b.s3.amazonaws.com/k?X-Amz-Security-Token=${'t'.repeat(1600)}`;
    const entries = Array.from({ length: 24_000 }, (_, i) => ({ key: `k/${i}.pdf`, url: `${url}&n=${i}` }));

    // Act
    for (let i = 0; i < entries.length; i += 1000) await writeLines('test', entries.slice(i, i + 1000), body.sink);
    await body.pushChunk();
    body.stream.end();
    await consumed;

    // Assess
    const expected = entries.map((entry) => `${JSON.stringify(entry)}\n`).join('');
    expect(body.bytes).toBeGreaterThan(38 * MIB);
    expect(Buffer.concat(copies).toString()).toBe(expected);
    expect(body.chunksAllocated).toBeLessThanOrEqual(4);
  });

  it('wake ends a wait for room with the given error', async () => {
    const body = new ManifestBody(() => undefined);
    const pushing = body.push(Buffer.alloc(2 * MIB));
    const boom = new Error('upload failed');
    body.wake(boom);
    await expect(pushing).rejects.toBe(boom);
  });

  it('refuses bytes once the writer says it is no longer writable, counting nothing', async () => {
    const boom = new Error('aborted');
    const body = new ManifestBody(() => {
      throw boom;
    });
    await expect(body.push(Buffer.from('x'))).rejects.toBe(boom);
    expect(body.bytes).toBe(0);
  });
});

describe('upload cleanup', () => {
  it('aborts the known upload and every other one open for the key, then deletes a requested object', async () => {
    // Prepare
    const { client, calls } = recordingClient((name) =>
      name === 'ListMultipartUploads'
        ? {
            Uploads: [
              { Key: 'm/x.jsonl', UploadId: 'lost' },
              { Key: 'm/x.jsonl.other', UploadId: 'not-ours' },
            ],
          }
        : {},
    );

    // Act
    await removeUploadTraces(
      { client, bucket: 'b', key: 'm/x.jsonl' },
      { multipartRequested: true, objectRequested: true, uploadId: 'known' },
    );

    // Assess
    expect(calls.map((c) => [c.name, c.input.UploadId])).toEqual([
      ['ListMultipartUploads', undefined],
      ['AbortMultipartUpload', 'known'],
      ['AbortMultipartUpload', 'lost'],
      ['DeleteObject', undefined],
    ]);
  });

  it('treats NoSuchUpload as done but reports another failure as MANIFEST_WRITE_FAILED', async () => {
    const gone = Object.assign(new Error('gone'), { name: 'NoSuchUpload' });
    const { client } = recordingClient((name) => {
      if (name === 'ListMultipartUploads') return { Uploads: [] };
      if (name === 'AbortMultipartUpload') throw gone;
      return {};
    });
    const location = { client, bucket: 'b', key: 'k' };
    await expect(
      removeUploadTraces(location, { multipartRequested: true, objectRequested: false, uploadId: 'u' }),
    ).resolves.toBeUndefined();

    const denied = recordingClient((name) => {
      if (name === 'DeleteObject') throw new Error('AccessDenied');
      return {};
    });
    const error = await removeUploadTraces(
      { ...location, client: denied.client },
      { multipartRequested: false, objectRequested: true, uploadId: undefined },
    ).catch((e: unknown) => e);
    expect(isPresignPipelineError(error) && error.code).toBe('MANIFEST_WRITE_FAILED');
    expect((error as Error).message).toMatch(/could not delete s3:\/\/b\/k/);
  });

  it('the sweep after completion aborts every upload but the completed one, following pages', async () => {
    // Prepare
    const pages = [
      { Uploads: [{ Key: 'k', UploadId: 'done' }], IsTruncated: true, NextKeyMarker: 'k', NextUploadIdMarker: 'done' },
      { Uploads: [{ Key: 'k', UploadId: 'stray' }], IsTruncated: false },
    ];
    const { client, calls } = recordingClient((name) => (name === 'ListMultipartUploads' ? pages.shift() : {}));

    // Act
    await sweepStrayUploads({ client, bucket: 'b', key: 'k' }, 'done');

    // Assess
    expect(calls.map((c) => c.name)).toEqual(['ListMultipartUploads', 'ListMultipartUploads', 'AbortMultipartUpload']);
    expect(calls[1]?.input).toMatchObject({ KeyMarker: 'k', UploadIdMarker: 'done' });
    expect(calls[2]?.input.UploadId).toBe('stray');
  });
});

describe('UploadRequests (the upload client view)', () => {
  const target = (client: S3Client, onFatal = vi.fn()) => ({
    client,
    bucket: 'b',
    key: () => 'k',
    bytes: () => 10,
    onFatal,
  });

  it('records what was requested, learns nothing from other commands, and reports a failed request as fatal', async () => {
    // Prepare
    const boom = new Error('500');
    const { client } = recordingClient((name) => {
      if (name === 'UploadPart') throw boom;
      return { ETag: '"e"' };
    });
    const onFatal = vi.fn();
    const requests = new UploadRequests(target(client, onFatal));

    // Act
    await requests.client.send(new PutObjectCommand({ Bucket: 'b', Key: 'k' }));
    await expect(
      requests.client.send(new UploadPartCommand({ Bucket: 'b', Key: 'k', UploadId: 'u', PartNumber: 1 })),
    ).rejects.toBe(boom);
    await requests.settled();

    // Assess
    expect(requests.objectRequested).toBe(true);
    expect(requests.multipartRequested).toBe(false);
    expect(onFatal).toHaveBeenCalledWith(boom);
  });

  it('confirms a PutObject answered without an ETag by the object size, and refuses a wrong size', async () => {
    let length = 10;
    const { client } = recordingClient((name) => (name === 'HeadObject' ? { ContentLength: length, ETag: '"h"' } : {}));
    const requests = new UploadRequests(target(client));
    await expect(requests.client.send(new PutObjectCommand({ Bucket: 'b', Key: 'k' }))).resolves.toMatchObject({
      ETag: '"h"',
      Key: 'k',
    });
    length = 9;
    await expect(requests.client.send(new PutObjectCommand({ Bucket: 'b', Key: 'k' }))).rejects.toThrow(
      /answered without an ETag, and HeadObject finds 9 bytes, not 10/,
    );
  });

  it('after cancel refuses new requests but still lets AbortMultipartUpload through, without reporting it', async () => {
    const { client, calls } = recordingClient(() => ({}));
    const onFatal = vi.fn();
    const requests = new UploadRequests(target(client, onFatal));
    requests.cancel();
    await expect(requests.client.send(new HeadObjectCommand({ Bucket: 'b', Key: 'k' }))).rejects.toMatchObject({
      name: 'AbortError',
    });
    await requests.client.send(new AbortMultipartUploadCommand({ Bucket: 'b', Key: 'k', UploadId: 'u' }));
    expect(calls.map((c) => c.name)).toEqual(['AbortMultipartUpload']);
    expect(onFatal).not.toHaveBeenCalled();
    expect(requests.cancelled).toBe(true);
  });

  it('leaves ListMultipartUploads and DeleteObject untouched by the view', async () => {
    const { client, calls } = recordingClient(() => ({ Uploads: [] }));
    const requests = new UploadRequests(target(client));
    await requests.client.send(new ListMultipartUploadsCommand({ Bucket: 'b' }));
    await requests.client.send(new DeleteObjectCommand({ Bucket: 'b', Key: 'k' }));
    expect(calls.map((c) => c.name)).toEqual(['ListMultipartUploads', 'DeleteObject']);
    expect(requests.objectRequested).toBe(false);
  });
});
