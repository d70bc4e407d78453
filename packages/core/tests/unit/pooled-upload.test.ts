import { PassThrough } from 'node:stream';
import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { PooledUpload } from '../../src/s3/pooled-upload.js';

interface Call {
  name: string;
  input: Record<string, unknown>;
}

/** An S3Client whose `send` records each command and answers it after `delayMs`, failing where `fail` says. */
function fakeS3(delayMs = 2, fail?: (name: string, input: Record<string, unknown>) => Error | undefined) {
  const client = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 't', secretAccessKey: 't' } });
  const calls: Call[] = [];
  const bodies = new Map<number, Buffer>();
  let inFlight = 0;
  let maxInFlight = 0;
  Object.defineProperty(client, 'send', {
    value: async (command: { input: Record<string, unknown> }) => {
      const name = command.constructor.name.replace(/Command$/, '');
      calls.push({ name, input: command.input });
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        // The body as it is when sent: a copy, since the pool reuses the buffer afterwards.
        if (name === 'UploadPart')
          bodies.set(command.input.PartNumber as number, Buffer.from(command.input.Body as Buffer));
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        const error = fail?.(name, command.input);
        if (error) throw error;
        if (name === 'CreateMultipartUpload') return { UploadId: 'up-1' };
        if (name === 'UploadPart') return { ETag: `"e${String(command.input.PartNumber)}"` };
        return {};
      } finally {
        inFlight -= 1;
      }
    },
  });
  return { client, calls, bodies, maxInFlight: () => maxInFlight };
}

const params = (body: PassThrough) => ({
  Bucket: 'b',
  Key: 'm.jsonl',
  Body: body,
  ContentType: 'application/x-ndjson',
});

async function feed(body: PassThrough, data: Buffer, chunk: number): Promise<void> {
  for (let at = 0; at < data.length; at += chunk) {
    if (!body.write(data.subarray(at, at + chunk))) await new Promise((resolve) => body.once('drain', resolve));
  }
  body.end();
}

describe('PooledUpload', () => {
  it('uploads parts from at most queueSize + 1 buffers, reused, with the bytes in order, and completes in part order', async () => {
    const s3 = fakeS3(3);
    const body = new PassThrough({ highWaterMark: 1024 });
    const upload = new PooledUpload({ client: s3.client, params: params(body), partSize: 1000, queueSize: 2 });
    const data = Buffer.from(Array.from({ length: 25_500 }, (_, i) => String.fromCharCode(97 + (i % 26))).join(''));
    await Promise.all([feed(body, data, 333), upload.done()]);
    expect(upload.buffersAllocated).toBe(3);
    expect(s3.calls.filter((c) => c.name === 'UploadPart')).toHaveLength(26);
    const parts = [...s3.bodies.entries()].sort((a, b) => a[0] - b[0]).map(([, b]) => b);
    expect(parts.slice(0, -1).every((p) => p.length === 1000)).toBe(true);
    expect(Buffer.concat(parts).equals(data)).toBe(true);
    const complete = s3.calls.find((c) => c.name === 'CompleteMultipartUpload')!;
    const listed = (complete.input.MultipartUpload as { Parts: { PartNumber: number; ETag: string }[] }).Parts;
    expect(listed.map((p) => p.PartNumber)).toEqual(Array.from({ length: 26 }, (_, i) => i + 1));
    expect(listed[4]!.ETag).toBe('"e5"');
    expect(s3.calls.filter((c) => c.name === 'CreateMultipartUpload')).toHaveLength(1);
    expect(s3.calls[0]!.input).toMatchObject({ Bucket: 'b', Key: 'm.jsonl', ContentType: 'application/x-ndjson' });
    // Part uploads (plus the Create they wait on) never exceed the pool.
    expect(s3.maxInFlight()).toBeLessThanOrEqual(3);
  });

  it('sends a body smaller than one part, or empty, with one PutObject', async () => {
    for (const size of [0, 999]) {
      const s3 = fakeS3();
      const body = new PassThrough();
      const upload = new PooledUpload({ client: s3.client, params: params(body), partSize: 1000, queueSize: 4 });
      await Promise.all([feed(body, Buffer.alloc(size, 'x'), 100), upload.done()]);
      expect(s3.calls.map((c) => c.name)).toEqual(['PutObject']);
      expect((s3.calls[0]!.input.Body as Buffer).length).toBe(size);
      expect(upload.buffersAllocated).toBe(1);
    }
  });

  it('rejects with the first failed part and stops reading the stream', async () => {
    const boom = new Error('part 3 failed');
    const s3 = fakeS3(2, (name, input) => (name === 'UploadPart' && input.PartNumber === 3 ? boom : undefined));
    const body = new PassThrough({ highWaterMark: 1024 });
    const upload = new PooledUpload({ client: s3.client, params: params(body), partSize: 1000, queueSize: 2 });
    void feed(body, Buffer.alloc(100_000, 'y'), 500).catch(() => undefined);
    await expect(upload.done()).rejects.toBe(boom);
    expect(body.destroyed).toBe(true);
    expect(s3.calls.filter((c) => c.name === 'UploadPart').length).toBeLessThan(100);
    expect(s3.calls.some((c) => c.name === 'CompleteMultipartUpload')).toBe(false);
  });

  it('abort() rejects done() and sends nothing more', async () => {
    const s3 = fakeS3(5);
    const body = new PassThrough({ highWaterMark: 1024 });
    const upload = new PooledUpload({ client: s3.client, params: params(body), partSize: 1000, queueSize: 1 });
    void feed(body, Buffer.alloc(50_000, 'z'), 500).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 15));
    await upload.abort();
    await expect(upload.done()).rejects.toMatchObject({ name: 'AbortError' });
    const sent = s3.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(s3.calls.length).toBe(sent);
    expect(s3.calls.some((c) => c.name === 'CompleteMultipartUpload' || c.name === 'PutObject')).toBe(false);
  });
});
