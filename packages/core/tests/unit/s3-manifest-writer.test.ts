import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isPresignPipelineError } from '../../src/errors.js';
import { s3ManifestWriter } from '../../src/s3/s3-manifest-writer.js';
import type { ManifestContext, ManifestEntry, ManifestWriter, Presigner } from '../../src/types.js';

const MIB = 1024 * 1024;
const PART = 5 * MIB;

interface Call {
  readonly name: string;
  readonly input: Record<string, unknown>;
}

type Handler = (name: string, input: Record<string, unknown>, signal: AbortSignal | undefined) => Promise<unknown>;

/** Answers like S3 for the calls a manifest upload makes. */
const s3Like: Handler = async (name, input) => {
  switch (name) {
    case 'CreateMultipartUpload':
      return { UploadId: 'up-1' };
    case 'UploadPart':
      return { ETag: `"etag-${String(input.PartNumber)}"` };
    case 'ListMultipartUploads':
      return { Uploads: [] };
    case 'PutObject':
      return { ETag: '"etag-put"' };
    case 'CompleteMultipartUpload':
      return { ETag: '"etag-complete-2"' };
    default:
      return {};
  }
};

/**
 * A real S3Client (its resolved config is what lib-storage reads) whose transport is replaced: every command is
 * recorded and answered by `handler`, which also sees the request's abort signal.
 */
function fakeS3(handler: Handler = s3Like): { client: S3Client; calls: Call[] } {
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:9',
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const calls: Call[] = [];
  Object.defineProperty(client, 'send', {
    value: async (command: { input: Record<string, unknown> }, options?: { abortSignal?: AbortSignal }) => {
      const name = command.constructor.name.replace(/Command$/, '');
      // A part's body as sent: the writer reuses its part buffers once the request settles.
      const body = command.input.Body;
      const input =
        name === 'UploadPart' && body instanceof Uint8Array
          ? { ...command.input, Body: Buffer.from(body) }
          : command.input;
      calls.push({ name, input });
      return handler(name, command.input, options?.abortSignal);
    },
  });
  return { client, calls };
}

function context(expiresIn = 300): ManifestContext {
  return { requestId: 'req-1', expiresIn, signal: new AbortController().signal };
}

/** `count` entries whose lines are `lineBytes` long (ASCII), so sizes are easy to reason about. */
function entries(count: number, lineBytes = 1024, start = 0): ManifestEntry[] {
  const out: ManifestEntry[] = [];
  for (let i = start; i < start + count; i++) {
    const key = `k/${String(i).padStart(8, '0')}.pdf`;
    const overhead = JSON.stringify({ key, url: '' }).length + 1;
    out.push({ key, url: `https://h/${'u'.repeat(lineBytes - overhead - 'https://h/'.length)}` });
  }
  return out;
}

function jsonl(list: readonly ManifestEntry[]): string {
  return list.map((e) => `${JSON.stringify({ key: e.key, url: e.url })}\n`).join('');
}

function bodyText(body: unknown): string {
  return Buffer.from(body as Uint8Array).toString('utf8');
}

function named(calls: readonly Call[], name: string): Call[] {
  return calls.filter((c) => c.name === name);
}

/** Lets streams and promises move until nothing is left to run right now. */
async function settle(rounds = 30): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}

function deferred<T = unknown>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function s3Error(name: string, status: number): Error {
  return Object.assign(new Error(`${name} (mock)`), { name, $metadata: { httpStatusCode: status } });
}

/**
 * Writes batches of 256 lines until one does not settle (its parts have no room to go); that write, still waiting.
 * Fails the test when 200 batches all settle.
 */
async function writeUntilOneWaits(writer: ManifestWriter): Promise<{ waiting: Promise<void> }> {
  for (let i = 0; i < 200; i++) {
    let done = false;
    const write = Promise.resolve(writer.write(entries(256, 1024, i * 256))).then(() => {
      done = true;
    });
    await settle();
    if (!done) return { waiting: write };
  }
  throw new Error('every write settled: none waited for room');
}

const open = async (writer: ManifestWriter, ctx = context()): Promise<void> => {
  await writer.open?.(ctx);
};

describe('s3ManifestWriter', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  describe('options', () => {
    const { client } = fakeS3();
    it.each([
      ['client', { client: {} }, TypeError],
      ['bucket', { bucket: '' }, TypeError],
      ['keyPrefix', { keyPrefix: 3 }, TypeError],
      ['partSize', { partSize: PART - 1 }, RangeError],
      ['partSize', { partSize: 5.5 * MIB + 0.5 }, RangeError],
      ['partSize', { partSize: '8MB' }, TypeError],
      ['queueSize', { queueSize: 0 }, RangeError],
      ['queueSize', { queueSize: 1.5 }, RangeError],
      ['contentType', { contentType: '' }, TypeError],
      ['serverSideEncryption', { serverSideEncryption: 7 }, TypeError],
      ['sseKmsKeyId', { sseKmsKeyId: '' }, TypeError],
      ['presigner', { presigner: { sign: () => '' } }, TypeError],
    ])('rejects a bad %s at creation, naming it', (name, bad, type) => {
      const options = { client, bucket: 'b', ...bad } as never;
      expect(() => s3ManifestWriter(options)).toThrow(type);
      expect(() => s3ManifestWriter(options)).toThrow(new RegExp(`\\b${name}\\b`));
    });

    it('says what each option must be and describes the value without echoing it', () => {
      const messageOf = (bad: object): string => {
        try {
          s3ManifestWriter({ client, bucket: 'b', ...bad } as never);
        } catch (error) {
          return (error as Error).message;
        }
        return 'no error';
      };
      expect(messageOf({ bucket: '' })).toBe(
        's3ManifestWriter: bucket must be a non-empty string, got an empty string',
      );
      expect(messageOf({ keyPrefix: 3 })).toBe('s3ManifestWriter: keyPrefix must be a string, got 3');
      expect(messageOf({ partSize: '8MB' })).toBe('s3ManifestWriter: partSize must be a number, got a string');
      expect(messageOf({ partSize: 1024 })).toBe(
        's3ManifestWriter: partSize must be an integer in 5242880..5368709120 bytes (5 MiB..5 GiB), got 1024',
      );
      expect(messageOf({ queueSize: 0 })).toBe('s3ManifestWriter: queueSize must be an integer ≥ 1, got 0');
      expect(messageOf({ sseKmsKeyId: '' })).toBe(
        's3ManifestWriter: sseKmsKeyId must be a non-empty string, got an empty string',
      );
      expect(messageOf({ presigner: [] })).toBe(
        's3ManifestWriter: presigner must be an object with presign(), got an array',
      );
    });

    it('rejects an expiresIn the manifest URL cannot have, at open, before any request', async () => {
      const { client: c, calls } = fakeS3();
      expect(() => s3ManifestWriter({ client: c, bucket: 'b' }).open?.(context(604_801))).toThrow(/expiresIn/);
      expect(calls).toEqual([]);
    });
  });

  describe('a manifest smaller than one part', () => {
    it('is one PutObject of JSONL lines, key first, under keyPrefix/<uuid>.jsonl, and presigned', async () => {
      // Prepare
      const { client, calls } = fakeS3();
      const writer = s3ManifestWriter({ client, bucket: 'reports' });
      const written: ManifestEntry[] = [
        { url: 'https://example/1', key: 'a.pdf' } as ManifestEntry,
        { key: 'ü/€ "quoted".pdf', url: 'https://example/2?x=1&y=2' },
      ];

      // Act
      await open(writer, context(1234));
      await writer.write(written.slice(0, 1));
      await writer.write([]);
      await writer.write(written.slice(1));
      const info = await writer.close();

      // Assess
      expect(named(calls, 'CreateMultipartUpload')).toEqual([]);
      const [put] = named(calls, 'PutObject');
      const text = bodyText(put?.input.Body);
      expect(text).toBe(
        '{"key":"a.pdf","url":"https://example/1"}\n{"key":"ü/€ \\"quoted\\".pdf","url":"https://example/2?x=1&y=2"}\n',
      );
      expect(put?.input).toMatchObject({ Bucket: 'reports', ContentType: 'application/x-ndjson' });
      expect(info.key).toMatch(/^manifests\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.jsonl$/);
      expect(put?.input.Key).toBe(info.key);
      expect(info.location).toBe(`s3://reports/${info.key}`);
      expect(info.bytes).toBe(Buffer.byteLength(text, 'utf8'));
      expect(info.bytes).toBeGreaterThan(text.length); // UTF-8 bytes, not UTF-16 units
      const url = new URL(info.url ?? '');
      expect(url.pathname).toBe(`/reports/${info.key}`);
      expect(url.searchParams.get('X-Amz-Expires')).toBe('1234');
    });

    it('writes an empty manifest as an empty object', async () => {
      const { client, calls } = fakeS3();
      const writer = s3ManifestWriter({ client, bucket: 'b' });
      await open(writer);
      const info = await writer.close();
      expect(info.bytes).toBe(0);
      expect(named(calls, 'PutObject')).toHaveLength(1);
      expect(bodyText(named(calls, 'PutObject')[0]?.input.Body)).toBe('');
    });

    it('passes keyPrefix, contentType, SSE and the KMS key through, and presigns with the given presigner', async () => {
      // Prepare
      const { client, calls } = fakeS3();
      const presign = vi.fn(async () => 'https://signed.example/manifest');
      const presigner: Presigner = { presign };
      const writer = s3ManifestWriter({
        client,
        bucket: 'b',
        keyPrefix: 'runs/2026/',
        contentType: 'application/jsonl',
        serverSideEncryption: 'aws:kms',
        sseKmsKeyId: 'alias/manifests',
        presigner,
      });

      // Act
      await open(writer, context(77));
      await writer.write(entries(2));
      const info = await writer.close();

      // Assess
      expect(named(calls, 'PutObject')[0]?.input).toMatchObject({
        ContentType: 'application/jsonl',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: 'alias/manifests',
      });
      expect(info.key).toMatch(/^runs\/2026\/.+\.jsonl$/);
      expect(presign).toHaveBeenCalledWith({ bucket: 'b', key: info.key }, { expiresIn: 77 });
      expect(info.url).toBe('https://signed.example/manifest');
    });

    it('uses a new key for every writer', async () => {
      const keys = new Set<string | undefined>();
      for (let i = 0; i < 3; i++) {
        const writer = s3ManifestWriter({ client: fakeS3().client, bucket: 'b' });
        await open(writer);
        keys.add((await writer.close()).key);
      }
      expect(keys.size).toBe(3);
    });
  });

  describe('a manifest larger than one part', () => {
    it('is a multipart upload of partSize parts whose bytes are the JSONL in order', async () => {
      // Prepare
      const { client, calls } = fakeS3();
      const writer = s3ManifestWriter({
        client,
        bucket: 'b',
        partSize: PART,
        queueSize: 2,
        serverSideEncryption: 'AES256',
      });
      const list = entries(12 * 1024); // 12 MiB

      // Act
      await open(writer);
      for (let i = 0; i < list.length; i += 500) await writer.write(list.slice(i, i + 500));
      const info = await writer.close();

      // Assess
      expect(named(calls, 'PutObject')).toEqual([]);
      expect(named(calls, 'CreateMultipartUpload')).toHaveLength(1);
      expect(named(calls, 'CreateMultipartUpload')[0]?.input).toMatchObject({
        ContentType: 'application/x-ndjson',
        ServerSideEncryption: 'AES256',
      });
      const parts = named(calls, 'UploadPart').sort((a, b) => Number(a.input.PartNumber) - Number(b.input.PartNumber));
      expect(parts.map((p) => (p.input.Body as Uint8Array).byteLength)).toEqual([PART, PART, 2 * MIB]);
      expect(parts.map((p) => bodyText(p.input.Body)).join('')).toBe(jsonl(list));
      const [complete] = named(calls, 'CompleteMultipartUpload');
      expect(complete?.input).toMatchObject({
        UploadId: 'up-1',
        MultipartUpload: { Parts: [{ PartNumber: 1 }, { PartNumber: 2 }, { PartNumber: 3 }] },
      });
      expect(info.bytes).toBe(12 * MIB);
      expect(named(calls, 'AbortMultipartUpload')).toEqual([]);
    });
  });

  describe('encoding', () => {
    it('writes awkward keys and a line larger than a whole chunk exactly as JSON.stringify does, in order', async () => {
      const { client, calls } = fakeS3();
      const writer = s3ManifestWriter({ client, bucket: 'b', partSize: PART });
      const huge = `https://h/${'x'.repeat(3 * MIB)}?q="1"`; // beyond one 1 MiB chunk, and it needs escaping
      const list: ManifestEntry[] = [
        ...entries(2000, 700),
        { key: 'ctl\u0001\ttab "q" back\\slash', url: 'https://h/a' },
        { key: 'lone \ud800 surrogate/é/😀', url: huge },
        ...entries(3000, 900, 2000),
      ];
      await open(writer);
      for (let i = 0; i < list.length; i += 512) await writer.write(list.slice(i, i + 512));
      const info = await writer.close();
      const parts = named(calls, 'UploadPart').sort((a, b) => Number(a.input.PartNumber) - Number(b.input.PartNumber));
      const uploaded = Buffer.concat(parts.map((p) => Buffer.from(p.input.Body as Uint8Array)));
      expect(uploaded.equals(Buffer.from(jsonl(list), 'utf8'))).toBe(true);
      expect(info.bytes).toBe(uploaded.length);
    });
  });

  describe('backpressure', () => {
    it('stops accepting writes while the upload is busy, and holds about partSize × (queueSize + 1)', async () => {
      // Prepare: UploadPart answers only when released.
      const held: Array<() => void> = [];
      let release = false;
      const { client, calls } = fakeS3(async (name, input, signal) => {
        if (name === 'UploadPart' && !release) {
          await new Promise<void>((resolve) => held.push(resolve));
          if (signal?.aborted) throw s3Error('AbortError', 0);
        }
        return s3Like(name, input, signal);
      });
      const queueSize = 1;
      const writer = s3ManifestWriter({ client, bucket: 'b', partSize: PART, queueSize });
      await open(writer);

      // Act: write 256 KiB batches until one is not accepted.
      let accepted = 0;
      let pending: Promise<void> | undefined;
      let batch = 0;
      while (accepted < 64 * MIB) {
        let done = false;
        const writing = Promise.resolve(writer.write(entries(256, 1024, batch * 256))).then(() => {
          done = true;
        });
        batch += 1;
        await settle();
        if (!done) {
          pending = writing;
          break;
        }
        accepted += 256 * 1024;
      }

      // Assess: it stopped, within the documented bound (plus the 1 MiB chunk being filled, the stream's buffer, which
      // takes a chunk past its 1 MiB mark, the rest of the chunk being copied into a full part, and one batch).
      expect(pending).toBeDefined();
      expect(accepted).toBeGreaterThanOrEqual(PART);
      expect(accepted).toBeLessThanOrEqual(PART * (queueSize + 1) + 4 * MIB + 256 * 1024);
      expect(named(calls, 'UploadPart').length).toBeLessThanOrEqual(queueSize);

      // Act: S3 catches up.
      release = true;
      for (const go of held.splice(0)) go();
      await pending;
      const info = await writer.close();

      // Assess
      expect(info.bytes).toBe(accepted + 256 * 1024);
      expect(named(calls, 'CompleteMultipartUpload')).toHaveLength(1);
    });
  });

  describe('abort', () => {
    it('aborts the multipart upload with its UploadId (aws-sdk-client-mock), once however often it is called', async () => {
      // Prepare
      const client = new S3Client({
        region: 'us-east-1',
        endpoint: 'http://127.0.0.1:9',
        forcePathStyle: true,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      });
      const mock = mockClient(client);
      mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'mpu-42' });
      mock.on(UploadPartCommand).resolves({ ETag: '"e"' });
      mock.on(AbortMultipartUploadCommand).resolves({});
      mock.on(ListMultipartUploadsCommand).resolves({ Uploads: [] });
      const writer = s3ManifestWriter({ client, bucket: 'b', partSize: PART });
      await open(writer);
      await writer.write(entries(7 * 1024)); // 7 MiB: the first part went out
      await vi.waitFor(() => expect(mock.commandCalls(UploadPartCommand).length).toBeGreaterThan(0));

      // Act
      const first = writer.abort(new Error('run failed'));
      const second = writer.abort();
      await Promise.all([first, second]);
      const abortsAfterFirst = mock.commandCalls(AbortMultipartUploadCommand).length;
      await writer.abort();

      // Assess
      const aborts = mock.commandCalls(AbortMultipartUploadCommand);
      expect(aborts.length).toBeGreaterThan(0);
      for (const call of aborts) expect(call.args[0].input).toMatchObject({ Bucket: 'b', UploadId: 'mpu-42' });
      expect(mock.commandCalls(AbortMultipartUploadCommand)).toHaveLength(abortsAfterFirst);
      expect(mock.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
      expect(mock.commandCalls(PutObjectCommand)).toHaveLength(0);
      await expect(writer.write(entries(1))).rejects.toThrow(/abort/);
      await expect(writer.close()).rejects.toThrow();
      mock.restore();
    });

    it('sends nothing when nothing was opened, and never aborts a manifest already handed over', async () => {
      const { client, calls } = fakeS3();
      await s3ManifestWriter({ client, bucket: 'b' }).abort();
      const writer = s3ManifestWriter({ client, bucket: 'b' });
      await open(writer);
      await writer.close();
      const before = calls.length;
      await writer.abort();
      expect(calls.length).toBe(before);
      expect(named(calls, 'DeleteObject')).toEqual([]);
    });

    it('tolerates NoSuchUpload (lib-storage may have aborted first)', async () => {
      const { client, calls } = fakeS3(async (name, input, signal) => {
        if (name === 'AbortMultipartUpload') throw s3Error('NoSuchUpload', 404);
        return s3Like(name, input, signal);
      });
      const writer = s3ManifestWriter({ client, bucket: 'b', partSize: PART });
      await open(writer);
      await writer.write(entries(6 * 1024));
      await vi.waitFor(() => expect(named(calls, 'UploadPart').length).toBeGreaterThan(0));
      await expect(writer.abort()).resolves.toBeUndefined();
      expect(named(calls, 'AbortMultipartUpload').length).toBeGreaterThan(0);
    });

    it('rejects with MANIFEST_WRITE_FAILED when the upload cannot be aborted (something may be left)', async () => {
      const denied = s3Error('AccessDenied', 403);
      const { client, calls } = fakeS3(async (name, input, signal) => {
        if (name === 'AbortMultipartUpload') throw denied;
        return s3Like(name, input, signal);
      });
      const writer = s3ManifestWriter({ client, bucket: 'b', partSize: PART });
      await open(writer);
      await writer.write(entries(6 * 1024));
      await vi.waitFor(() => expect(named(calls, 'UploadPart').length).toBeGreaterThan(0));
      const error = await writer.abort().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isPresignPipelineError(error) && error.code).toBe('MANIFEST_WRITE_FAILED');
      expect((error as Error).cause).toBe(denied);
    });

    it('cancels requests in flight and, when the upload was being created, finds it by key and aborts it', async () => {
      // Prepare: CreateMultipartUpload reaches the server (which creates "ghost") but the answer never comes.
      let manifestKey = '';
      const { client, calls } = fakeS3(async (name, input, signal) => {
        if (name === 'CreateMultipartUpload') {
          manifestKey = String(input.Key);
          return new Promise((_resolve, reject) => {
            signal?.addEventListener('abort', () => reject(s3Error('AbortError', 0)));
          });
        }
        if (name === 'ListMultipartUploads') {
          return {
            Uploads: [
              { Key: manifestKey, UploadId: 'ghost' },
              { Key: `${manifestKey}.other`, UploadId: 'not-ours' },
            ],
          };
        }
        return s3Like(name, input, signal);
      });
      const writer = s3ManifestWriter({ client, bucket: 'b', partSize: PART });
      await open(writer);
      await writer.write(entries(6 * 1024));
      await vi.waitFor(() => expect(named(calls, 'CreateMultipartUpload')).toHaveLength(1));

      // Act
      await writer.abort();

      // Assess
      expect(named(calls, 'ListMultipartUploads')[0]?.input).toEqual({ Bucket: 'b', Prefix: manifestKey });
      expect(named(calls, 'AbortMultipartUpload').map((c) => c.input)).toEqual([
        { Bucket: 'b', Key: manifestKey, UploadId: 'ghost' },
      ]);
      expect(named(calls, 'UploadPart')).toEqual([]);
    });

    it('wakes a write that waits for room: it rejects with an AbortError', async () => {
      const { client, calls } = fakeS3(async (name, input, signal) => {
        if (name === 'UploadPart') {
          return new Promise((_resolve, reject) => {
            signal?.addEventListener('abort', () => reject(s3Error('AbortError', 0)));
          });
        }
        return s3Like(name, input, signal);
      });
      const writer = s3ManifestWriter({ client, bucket: 'b', partSize: PART, queueSize: 1 });
      await open(writer);
      const { waiting } = await writeUntilOneWaits(writer);
      const outcome = waiting.then(
        () => 'resolved',
        (e: unknown) => (e as Error).name,
      );
      await writer.abort();
      expect(await outcome).toBe('AbortError');
      expect(named(calls, 'AbortMultipartUpload').map((c) => c.input.UploadId)).toContain('up-1');
    });
  });

  describe('when the upload fails on its own', () => {
    it('rejects the next write and close with the S3 error, and leaves no upload behind', async () => {
      // Prepare
      const failure = s3Error('InternalError', 500);
      const { client, calls } = fakeS3(async (name, input, signal) => {
        if (name === 'UploadPart') throw failure;
        return s3Like(name, input, signal);
      });
      const writer = s3ManifestWriter({ client, bucket: 'b', partSize: PART });
      await open(writer);
      await writer.write(entries(6 * 1024));

      // Act
      await vi.waitFor(() => expect(named(calls, 'AbortMultipartUpload').length).toBeGreaterThan(0));
      const write = writer.write(entries(1));
      const close = writer.close();

      // Assess
      await expect(write).rejects.toBe(failure);
      await expect(close).rejects.toBe(failure);
      await expect(writer.abort()).resolves.toBeUndefined();
      for (const call of named(calls, 'AbortMultipartUpload')) expect(call.input.UploadId).toBe('up-1');
      expect(named(calls, 'CompleteMultipartUpload')).toEqual([]);
    });

    it('rejects a write that waits for room instead of hanging', async () => {
      // Prepare: parts hang, then fail.
      const failure = s3Error('SlowDown', 503);
      const gate = deferred<never>();
      gate.promise.catch(() => undefined);
      const { client } = fakeS3(async (name, input, signal) =>
        name === 'UploadPart' ? gate.promise : s3Like(name, input, signal),
      );
      const writer = s3ManifestWriter({ client, bucket: 'b', partSize: PART, queueSize: 1 });
      await open(writer);
      const { waiting } = await writeUntilOneWaits(writer);

      // Act
      gate.reject(failure);

      // Assess
      await expect(waiting).rejects.toBe(failure);
      await writer.abort();
    });

    it('rejects close with the error of the single PutObject (e.g. NoSuchBucket)', async () => {
      const missing = s3Error('NoSuchBucket', 404);
      const { client } = fakeS3(async (name, input, signal) => {
        if (name === 'PutObject') throw missing;
        return s3Like(name, input, signal);
      });
      const writer = s3ManifestWriter({ client, bucket: 'nope' });
      await open(writer);
      await writer.write(entries(3));
      await expect(writer.close()).rejects.toBe(missing);
    });

    it('deletes the manifest when it cannot be presigned, and rejects', async () => {
      const { client, calls } = fakeS3();
      const broken = new Error('no credentials');
      const writer = s3ManifestWriter({
        client,
        bucket: 'b',
        presigner: { presign: async () => Promise.reject(broken) },
      });
      await open(writer);
      await writer.write(entries(1));
      await expect(writer.close()).rejects.toBe(broken);
      const key = named(calls, 'PutObject')[0]?.input.Key;
      expect(named(calls, 'DeleteObject').map((c) => c.input)).toEqual([{ Bucket: 'b', Key: key }]);
    });
  });

  describe('lifecycle', () => {
    it('refuses writes before open and after close, a second open, and entries without string key and url', async () => {
      const writer = s3ManifestWriter({ client: fakeS3().client, bucket: 'b' });
      await expect(writer.write(entries(1))).rejects.toThrow(/before open/);
      await open(writer);
      expect(() => writer.open?.(context())).toThrow(/once/);
      await expect(writer.write([{ key: 'k' } as ManifestEntry])).rejects.toThrow(TypeError);
      await writer.close();
      await expect(writer.write(entries(1))).rejects.toThrow(/after close/);
    });
  });

  it('on abort, lists the uploads open for its key and aborts each: the one it knows and any from a retried create', async () => {
    // Prepare: S3 holds an earlier upload for the same key (a CreateMultipartUpload whose answer was lost).
    const { client, calls } = fakeS3(async (name, input, signal) =>
      name === 'ListMultipartUploads'
        ? {
            Uploads: [
              { Key: input.Prefix, UploadId: 'lost-0' },
              { Key: `${String(input.Prefix)}.other`, UploadId: 'not-ours' },
              { Key: input.Prefix, UploadId: 'up-1' },
            ],
          }
        : s3Like(name, input, signal),
    );
    const writer = s3ManifestWriter({ client, bucket: 'b', partSize: PART });
    await open(writer);
    await writer.write(entries(6 * 1024));
    await vi.waitFor(() => expect(named(calls, 'UploadPart').length).toBeGreaterThan(0));

    // Act
    await writer.abort();

    // Assess: only uploads of the exact key are aborted, each once.
    expect(named(calls, 'ListMultipartUploads')).toHaveLength(1);
    const aborted = named(calls, 'AbortMultipartUpload').map((c) => c.input.UploadId);
    expect(new Set(aborted)).toEqual(new Set(['up-1', 'lost-0']));
    expect(aborted.filter((id) => id === 'lost-0')).toHaveLength(1);
  });

  describe('every upload accounted for, every manifest confirmed', () => {
    it('after completing a multipart manifest, aborts every other upload open for its key (one ListMultipartUploads)', async () => {
      // Prepare: the first CreateMultipartUpload took effect but its answer was lost; the retry started up-1.
      const { client, calls } = fakeS3(async (name, input, signal) =>
        name === 'ListMultipartUploads'
          ? { Uploads: [{ Key: input.Prefix, UploadId: 'lost-0' }] }
          : s3Like(name, input, signal),
      );
      const writer = s3ManifestWriter({ client, bucket: 'b', partSize: PART });
      await open(writer);
      await writer.write(entries(6 * 1024));

      // Act
      const info = await writer.close();

      // Assess
      expect(info.bytes).toBe(6 * 1024 * 1024);
      expect(named(calls, 'CompleteMultipartUpload')).toHaveLength(1);
      expect(named(calls, 'ListMultipartUploads')).toEqual([
        { name: 'ListMultipartUploads', input: { Bucket: 'b', Prefix: info.key } },
      ]);
      expect(named(calls, 'AbortMultipartUpload').map((c) => c.input)).toEqual([
        { Bucket: 'b', Key: info.key, UploadId: 'lost-0' },
      ]);
    });

    it('a manifest stored with one PutObject costs no ListMultipartUploads', async () => {
      const { client, calls } = fakeS3();
      const writer = s3ManifestWriter({ client, bucket: 'b' });
      await open(writer);
      await writer.write(entries(10));
      await writer.close();
      expect(named(calls, 'ListMultipartUploads')).toEqual([]);
      expect(named(calls, 'HeadObject')).toEqual([]);
    });

    it('fails loudly, deleting the manifest, when the stray uploads cannot be listed', async () => {
      const { client, calls } = fakeS3(async (name, input, signal) => {
        if (name === 'ListMultipartUploads') throw Object.assign(new Error('denied'), { name: 'AccessDenied' });
        return s3Like(name, input, signal);
      });
      const writer = s3ManifestWriter({ client, bucket: 'b', partSize: PART });
      await open(writer);
      await writer.write(entries(6 * 1024));
      const error = await writer.close().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isPresignPipelineError(error) && error.code).toBe('MANIFEST_WRITE_FAILED');
      expect((error as Error).message).toMatch(/no other multipart upload is left open/);
      expect(named(calls, 'DeleteObject')).toHaveLength(1);
    });

    it.each(['PutObject', 'CompleteMultipartUpload'] as const)(
      'a %s answer without an ETag is confirmed with HeadObject: the manifest counts when it holds exactly the bytes written',
      async (operation) => {
        const size = operation === 'PutObject' ? 10 * 1024 : 6 * 1024 * 1024;
        const { client, calls } = fakeS3(async (name, input, signal) => {
          if (name === operation) return {};
          if (name === 'HeadObject') return { ContentLength: size, ETag: '"from-head"' };
          return s3Like(name, input, signal);
        });
        const writer = s3ManifestWriter({ client, bucket: 'b', partSize: PART });
        await open(writer);
        await writer.write(entries(size / 1024));
        const info = await writer.close();
        expect(info.bytes).toBe(size);
        expect(named(calls, 'HeadObject').map((c) => c.input)).toEqual([{ Bucket: 'b', Key: info.key }]);
        expect(named(calls, 'DeleteObject')).toEqual([]);
      },
    );

    it.each([
      ['PutObject', 'no object', undefined],
      ['PutObject', 'an object of another size', 5],
      ['CompleteMultipartUpload', 'no object', undefined],
    ] as const)(
      'a %s answer without an ETag, and %s behind it, fails with MANIFEST_WRITE_FAILED and leaves nothing',
      async (operation, _what, foundSize) => {
        const size = operation === 'PutObject' ? 10 * 1024 : 6 * 1024 * 1024;
        const { client, calls } = fakeS3(async (name, input, signal) => {
          if (name === operation) return {};
          if (name === 'HeadObject') {
            if (foundSize === undefined) throw Object.assign(new Error('NotFound'), { name: 'NotFound' });
            return { ContentLength: foundSize, ETag: '"x"' };
          }
          return s3Like(name, input, signal);
        });
        const writer = s3ManifestWriter({ client, bucket: 'b', partSize: PART });
        await open(writer);
        await writer.write(entries(size / 1024));
        const error = await writer.close().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isPresignPipelineError(error) && error.code).toBe('MANIFEST_WRITE_FAILED');
        expect((error as Error).message).toContain(`${operation} of s3://b/manifests/`);
        expect((error as Error).message).toContain('was answered without an ETag');
        expect((error as Error).message).toContain(
          foundSize === undefined ? 'finds no object' : `finds ${foundSize} bytes, not ${size}`,
        );
        expect(named(calls, 'DeleteObject')).toHaveLength(1);
        if (operation === 'CompleteMultipartUpload') {
          expect(named(calls, 'AbortMultipartUpload').map((c) => c.input.UploadId)).toContain('up-1');
        }
      },
    );

    it('an answer the SDK could not parse, with no manifest behind it, is MANIFEST_WRITE_FAILED, not a bare parse error', async () => {
      const parseError = Object.assign(new Error('@aws-sdk XML parse error: expected ">" not found.'), {
        $metadata: { httpStatusCode: 200, attempts: 1 },
      });
      const { client } = fakeS3(async (name, input, signal) => {
        if (name === 'PutObject') throw parseError;
        if (name === 'HeadObject')
          throw Object.assign(new Error('NotFound'), {
            name: 'NotFound',
            $fault: 'client',
            $metadata: { httpStatusCode: 404 },
          });
        return s3Like(name, input, signal);
      });
      const writer = s3ManifestWriter({ client, bucket: 'b' });
      await open(writer);
      await writer.write(entries(10));
      const error = await writer.close().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isPresignPipelineError(error) && error.code).toBe('MANIFEST_WRITE_FAILED');
      expect((error as Error).message).toMatch(/PutObject of s3:\/\/b\/.* got a 2xx answer that is not S3's/);
      expect((error as Error).message).toContain('(@aws-sdk XML parse error: expected ">" not found.)');
    });

    it('a CreateMultipartUpload answer the SDK could not parse is MANIFEST_WRITE_FAILED, the parse error its cause', async () => {
      // Prepare: a 200 whose body is not S3's XML, as a proxy's HTML page would be.
      const parseError = Object.assign(new Error('@aws-sdk XML parse error: expected ">" not found.'), {
        $metadata: { httpStatusCode: 200, attempts: 1 },
      });
      const { client, calls } = fakeS3(async (name, input, signal) => {
        if (name === 'CreateMultipartUpload') throw parseError;
        return s3Like(name, input, signal);
      });
      const writer = s3ManifestWriter({ client, bucket: 'b', partSize: PART });
      await open(writer);

      // Act
      const error = await (async () => {
        await writer.write(entries(6 * 1024));
        await writer.close();
      })().then(
        () => undefined,
        (e: unknown) => e,
      );
      await writer.abort(error);

      // Assess
      expect(isPresignPipelineError(error) && error.code).toBe('MANIFEST_WRITE_FAILED');
      expect((error as Error).message).toMatch(
        /CreateMultipartUpload of s3:\/\/b\/.* got a 2xx answer that is not S3's \(@aws-sdk XML/,
      );
      expect((error as Error).cause).toBe(parseError);
      expect(named(calls, 'ListMultipartUploads').length).toBeGreaterThan(0);
      expect(named(calls, 'CompleteMultipartUpload')).toEqual([]);
    });

    it('an UploadPart answered without an ETag fails the upload there, before any CompleteMultipartUpload', async () => {
      const { client, calls } = fakeS3(async (name, input, signal) => {
        if (name === 'UploadPart') return {};
        return s3Like(name, input, signal);
      });
      const writer = s3ManifestWriter({ client, bucket: 'b', partSize: PART });
      await open(writer);
      const error = await (async () => {
        await writer.write(entries(6 * 1024));
        await writer.close();
      })().then(
        () => undefined,
        (e: unknown) => e,
      );
      await writer.abort(error);
      expect(isPresignPipelineError(error) && error.code).toBe('MANIFEST_WRITE_FAILED');
      expect((error as Error).message).toMatch(/UploadPart 1 of s3:\/\/b\/.* was answered without an ETag/);
      expect(named(calls, 'AbortMultipartUpload').map((c) => c.input.UploadId)).toContain('up-1');
      expect(named(calls, 'CompleteMultipartUpload')).toEqual([]);
    });

    it('a CreateMultipartUpload answer without an UploadId fails the upload; the upload is found by key and aborted', async () => {
      const { client, calls } = fakeS3(async (name, input, signal) => {
        if (name === 'CreateMultipartUpload') return {};
        if (name === 'ListMultipartUploads') return { Uploads: [{ Key: input.Prefix, UploadId: 'created-unseen' }] };
        return s3Like(name, input, signal);
      });
      const writer = s3ManifestWriter({ client, bucket: 'b', partSize: PART });
      await open(writer);
      // The part fills during write, so the failure may surface there or at close; either way the caller aborts,
      // as presignPipeline does after a failed write or close.
      const error = await (async () => {
        await writer.write(entries(6 * 1024));
        await writer.close();
      })().then(
        () => undefined,
        (e: unknown) => e,
      );
      await writer.abort(error);
      expect(isPresignPipelineError(error) && error.code).toBe('MANIFEST_WRITE_FAILED');
      expect((error as Error).message).toMatch(
        /CreateMultipartUpload of s3:\/\/b\/.* was answered without an UploadId/,
      );
      expect(named(calls, 'AbortMultipartUpload').map((c) => c.input.UploadId)).toEqual(['created-unseen']);
      expect(named(calls, 'UploadPart')).toEqual([]);
    });
  });

  describe('the stop signal', () => {
    /** Answers like S3, but `held` requests wait until their own signal aborts (a stalled connection). */
    function stalling(held: readonly string[]): ReturnType<typeof fakeS3> {
      return fakeS3(async (name, input, signal) => {
        if (!held.includes(name)) return s3Like(name, input, signal);
        return new Promise((_, reject) => {
          const fail = (): void => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
          if (signal?.aborted) fail();
          signal?.addEventListener('abort', fail);
        });
      });
    }

    it('stops a stalled UploadPart: close rejects with MANIFEST_WRITE_FAILED and the upload is aborted', async () => {
      // Prepare
      const { client, calls } = stalling(['UploadPart']);
      const stop = new AbortController();
      const writer = s3ManifestWriter({ client, bucket: 'b', partSize: PART, signal: stop.signal });
      await open(writer);
      await writer.write(entries(6 * 1024));
      const closing = writer.close().then(
        () => undefined,
        (e: unknown) => e,
      );
      await vi.waitFor(() => expect(named(calls, 'UploadPart').length).toBeGreaterThan(0));

      // Act
      const reason = new Error('the invocation is ending');
      stop.abort(reason);
      const error = await closing;
      await writer.abort(error);

      // Assess
      expect(isPresignPipelineError(error) && error.code).toBe('MANIFEST_WRITE_FAILED');
      expect((error as Error).message).toMatch(
        /stopped by its signal before s3:\/\/b\/manifests\/.*\.jsonl was stored/,
      );
      expect((error as Error).cause).toBe(reason);
      expect(named(calls, 'AbortMultipartUpload').map((c) => c.input.UploadId)).toContain('up-1');
      expect(named(calls, 'CompleteMultipartUpload')).toEqual([]);
    });

    it('stops a stalled PutObject, and deletes the object it may have stored', async () => {
      const { client, calls } = stalling(['PutObject']);
      const stop = new AbortController();
      const writer = s3ManifestWriter({ client, bucket: 'b', signal: stop.signal });
      await open(writer);
      await writer.write(entries(10));
      const closing = writer.close().then(
        () => undefined,
        (e: unknown) => e,
      );
      await vi.waitFor(() => expect(named(calls, 'PutObject')).toHaveLength(1));
      stop.abort(new Error('late'));
      const error = await closing;
      expect(isPresignPipelineError(error) && error.code).toBe('MANIFEST_WRITE_FAILED');
      await writer.abort(error);
      expect(named(calls, 'DeleteObject')).toHaveLength(1);
      // No HeadObject confirms a PutObject the stop cancelled.
      expect(named(calls, 'HeadObject')).toEqual([]);
    });

    it('bounds the cleanup: a stalled AbortMultipartUpload is given up after cleanupTimeoutMs', async () => {
      const { client, calls } = stalling(['UploadPart', 'AbortMultipartUpload', 'ListMultipartUploads']);
      const stop = new AbortController();
      const writer = s3ManifestWriter({
        client,
        bucket: 'b',
        partSize: PART,
        signal: stop.signal,
        cleanupTimeoutMs: 20,
      });
      await open(writer);
      await writer.write(entries(6 * 1024));
      const closing = writer.close().then(
        () => undefined,
        (e: unknown) => e,
      );
      await vi.waitFor(() => expect(named(calls, 'UploadPart').length).toBeGreaterThan(0));
      stop.abort(new Error('late'));
      expect(isPresignPipelineError(await closing)).toBe(true);
      // Without the bound, the held cleanup requests would keep abort() pending for ever.
      await expect(writer.abort()).rejects.toMatchObject({ code: 'MANIFEST_WRITE_FAILED' });
      expect(named(calls, 'AbortMultipartUpload').length).toBeGreaterThan(0);
    });

    it('a signal aborted before open fails the first write; one aborted after close keeps the manifest', async () => {
      const { client, calls } = fakeS3();
      const early = new AbortController();
      early.abort(new Error('no time'));
      const stopped = s3ManifestWriter({ client, bucket: 'b', signal: early.signal });
      await open(stopped);
      await expect(stopped.write(entries(1))).rejects.toMatchObject({ code: 'MANIFEST_WRITE_FAILED' });

      const late = new AbortController();
      const kept = s3ManifestWriter({ client, bucket: 'b', signal: late.signal });
      await open(kept);
      await kept.write(entries(1));
      const info = await kept.close();
      const deletesBefore = named(calls, 'DeleteObject').length;
      late.abort(new Error('after the end'));
      await kept.abort();
      expect(info.key).toMatch(/^manifests\//);
      expect(named(calls, 'DeleteObject')).toHaveLength(deletesBefore);
    });

    it('refuses a signal that is not an AbortSignal and a cleanupTimeoutMs below 1, naming the option', () => {
      const { client } = fakeS3();
      expect(() => s3ManifestWriter({ client, bucket: 'b', signal: 'soon' as unknown as AbortSignal })).toThrow(
        /signal must be an AbortSignal/,
      );
      expect(() => s3ManifestWriter({ client, bucket: 'b', cleanupTimeoutMs: 0 })).toThrow(
        /cleanupTimeoutMs must be an integer ≥ 1, got 0/,
      );
    });
  });
});
