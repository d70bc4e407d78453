import { fastPresigner, PresignPipelineError, type Presigner } from '@presign-pipeline/core';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { BatchInputError, batchPartKey, createBatchHandler, createManifestIndexHandler } from '../../src/batch.js';
import { countingS3Client, lineSink, readCaptured } from '../helpers/capture.js';
import { memoryS3Client } from '../helpers/memory-s3.js';

const context = (requestId = 'batch-req'): Context =>
  ({ awsRequestId: requestId, getRemainingTimeInMillis: () => 60_000 }) as unknown as Context;

/** Items in the shape the s3:listObjectsV2 ItemReader produces. */
function items(keys: readonly string[]) {
  return keys.map((Key, i) => ({
    Key,
    Etag: `"${i.toString(16).padStart(32, '0')}"`,
    LastModified: 1_775_000_000 + i,
    Size: 10 + i,
    StorageClass: 'STANDARD',
  }));
}

const keys = ['r/a.pdf', 'r/b.txt', 'r/c.PDF', 'r/d/', 'r/e.pdf.txt', 'r/f.Pdf', 'r/g.csv'];
const batch = (over: Record<string, unknown> = {}) => ({
  Items: items(keys),
  BatchInput: { bucket: 'reports', run: 'exec-2026-04-01', expiry_seconds: 900, ...over },
});

async function rejection(promise: Promise<unknown>): Promise<BatchInputError> {
  try {
    await promise;
  } catch (error) {
    return error as BatchInputError;
  }
  throw new Error('expected a rejection');
}

describe('createBatchHandler: input validation, before any S3 call', () => {
  it.each([
    ['a string event', 'Items', 'event'],
    ['no Items', { BatchInput: batch().BatchInput }, 'Items'],
    ['Items not an array', { ...batch(), Items: { Key: 'a.pdf' } }, 'Items'],
    ['an item without Key', { ...batch(), Items: [...items(['a.pdf', 'b.pdf']), { Size: 3 }] }, 'Items[2].Key'],
    ['an item with an empty Key', { ...batch(), Items: [{ Key: '' }] }, 'Items[0].Key'],
    ['a Key longer than 1024 bytes', { ...batch(), Items: [{ Key: 'é'.repeat(513) }] }, 'Items[0].Key'],
    ['too many items', { ...batch(), Items: Array.from({ length: 10_001 }, (_, i) => ({ Key: `k${i}` })) }, 'Items'],
    ['no BatchInput', { Items: items(keys) }, 'BatchInput'],
    ['no bucket', batch({ bucket: undefined }), 'BatchInput.bucket'],
    ['an invalid bucket name', batch({ bucket: 'Not_A_Bucket' }), 'BatchInput.bucket'],
    ['no run', batch({ run: undefined }), 'BatchInput.run'],
    [
      'a run with a slash (an execution ARN)',
      batch({ run: 'arn:aws:states:us-east-1:1:execution:sm:x' }),
      'BatchInput.run',
    ],
    ['a run of ..', batch({ run: '..' }), 'BatchInput.run'],
    ['expiry_seconds of 0', batch({ expiry_seconds: 0.5 }), 'BatchInput.expiry_seconds'],
    ['expiry_seconds over seven days', batch({ expiry_seconds: 604_801 }), 'BatchInput.expiry_seconds'],
    ['a NaN expiry_seconds', batch({ expiry_seconds: Number.NaN }), 'BatchInput.expiry_seconds'],
    ['an Infinity expiry_seconds', batch({ expiry_seconds: Number.POSITIVE_INFINITY }), 'BatchInput.expiry_seconds'],
    ['an empty suffix', batch({ suffix: '' }), 'BatchInput.suffix'],
    ['a numeric suffix', batch({ suffix: 7 }), 'BatchInput.suffix'],
  ])('%s → InvalidBatchInput naming the field', async (_name, event, field) => {
    const s3 = countingS3Client();
    const sink = lineSink();
    const handler = createBatchHandler({ s3Client: s3.client, write: sink.write, env: {} });
    const error = await rejection(handler(event, context()));
    expect(error).toBeInstanceOf(BatchInputError);
    expect(error).toBeInstanceOf(PresignPipelineError);
    expect(error.name).toBe('InvalidBatchInput');
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.field).toBe(field);
    expect(error.message).toContain(field.replace(/\[\d+\]\.Key$/, ''));
    expect(s3.calls()).toBe(0);
    expect(readCaptured(sink.lines).logs).toEqual([
      expect.objectContaining({ event: 'invalid_batch', field, error_name: 'InvalidBatchInput' }),
    ]);
  });

  it('refuses buckets and keys outside the allow-list with ForbiddenBatchInput', async () => {
    const s3 = countingS3Client();
    const byOption = createBatchHandler({ s3Client: s3.client, write: () => {}, env: {}, allowedBuckets: ['other'] });
    expect(await rejection(byOption(batch(), context()))).toMatchObject({
      name: 'ForbiddenBatchInput',
      code: 'FORBIDDEN_INPUT',
      field: 'BatchInput.bucket',
    });
    const byEnv = createBatchHandler({
      s3Client: s3.client,
      write: () => {},
      env: { ALLOWED_BUCKETS: 'reports', ALLOWED_PREFIXES: 'r/a,r/b' },
    });
    expect(await rejection(byEnv(batch(), context()))).toMatchObject({
      name: 'ForbiddenBatchInput',
      field: 'Items[2].Key',
    });
    expect(s3.calls()).toBe(0);
  });

  it('refuses bad options when created', () => {
    expect(() => createBatchHandler({ concurrency: 0 })).toThrow(/concurrency/);
    expect(() => createBatchHandler({ suffix: '' })).toThrow(/suffix/);
    expect(() => createBatchHandler({ presigner: 'slow' as 'fast' })).toThrow(/presigner/);
    expect(() => createManifestIndexHandler({ write: 'stdout' as unknown as (line: string) => void })).toThrow(/write/);
  });
});

describe('createBatchHandler: a batch becomes one part manifest', () => {
  it('presigns the kept keys into manifests/<run>/part-<n>.jsonl and answers {part_key, count, errors}', async () => {
    // Prepare
    const s3 = memoryS3Client({ keys });
    const sink = lineSink();
    const handler = createBatchHandler({ s3Client: s3.client, write: sink.write, env: {} });

    // Act
    const result = await handler(batch(), context());

    // Assess: the answer is small and exact.
    expect(Object.keys(result)).toEqual(['part_key', 'count', 'errors']);
    expect(result).toEqual({
      part_key: batchPartKey('manifests/', 'exec-2026-04-01', items(keys)),
      count: 3,
      errors: 0,
    });
    expect(result.part_key).toMatch(/^manifests\/exec-2026-04-01\/part-[0-9a-f]{16}\.jsonl$/);
    // The part: the .pdf keys (any case) in batch order, each with a URL for its key, valid 900 s.
    expect(s3.manifestKeys(result.part_key!)).toEqual(['r/a.pdf', 'r/c.PDF', 'r/f.Pdf']);
    const lines = s3.objects
      .get(result.part_key!)!
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { key: string; url: string });
    for (const line of lines) {
      const url = new URL(line.url);
      expect(url.pathname).toBe(`/reports/${line.key.split('/').map(encodeURIComponent).join('/')}`);
      expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
    }
    // The metadata the index reads: the counts, and when the part's URLs die (signed from the start, for 900 s).
    const metadata = s3.stored.get(result.part_key!)?.metadata ?? {};
    expect(metadata).toEqual({ count: '3', errors: '0', 'urls-expire-at': expect.any(String) });
    const dieIn = Date.parse(metadata['urls-expire-at']!) - Date.now();
    expect(dieIn).toBeGreaterThan(890_000);
    expect(dieIn).toBeLessThanOrEqual(900_000);
    expect(s3.count('PutObject')).toBe(1);
    expect(s3.count('ListObjectsV2')).toBe(0);

    // One batch_complete line, no URL in any line, one EMF document.
    const { logs, documents, metrics } = readCaptured(sink.lines);
    expect(logs).toEqual([
      expect.objectContaining({
        event: 'batch_complete',
        request_id: 'batch-req',
        run: 'exec-2026-04-01',
        part_key: result.part_key,
        items: keys.length,
        count: 3,
        errors: 0,
      }),
    ]);
    expect(sink.lines.join('\n')).not.toContain('X-Amz-Signature');
    expect(documents).toHaveLength(1);
    const byName = Object.fromEntries(metrics.map((m) => [m.name, m.value]));
    expect(byName).toMatchObject({ BatchItems: keys.length, PDFsProcessed: 3, PresignCount: 3, PresignErrors: 0 });
    expect(byName.PartBytes).toBe(Buffer.byteLength(s3.objects.get(result.part_key!)!));
  });

  it('writes the same part again when the same batch is retried, and another part for another batch', async () => {
    const s3 = memoryS3Client({ keys });
    const handler = createBatchHandler({ s3Client: s3.client, write: () => {}, env: {} });
    const first = await handler(batch(), context('try-1'));
    const retry = await handler(batch(), context('try-2'));
    const other = await handler({ ...batch(), Items: items(['r/x.pdf', 'r/y.pdf']) }, context('other'));
    expect(retry.part_key).toBe(first.part_key);
    expect(other.part_key).not.toBe(first.part_key);
    const parts = [...s3.objects.keys()].filter((key) => key.startsWith('manifests/exec-2026-04-01/'));
    expect(parts.sort()).toEqual([first.part_key, other.part_key].sort());
  });

  it('honours BatchInput.suffix and writes no part when nothing is kept', async () => {
    const s3 = memoryS3Client({ keys });
    const handler = createBatchHandler({ s3Client: s3.client, write: () => {}, env: {} });
    expect(await handler(batch({ suffix: '.CSV' }), context())).toMatchObject({ count: 1 });
    const none = await handler({ ...batch(), Items: items(['r/b.txt', 'r/d/']) }, context());
    expect(none).toEqual({ part_key: null, count: 0, errors: 0 });
    expect(s3.count('PutObject')).toBe(1);
  });

  it('takes expiry_seconds from URL_EXPIRY_SECONDS when BatchInput has none', async () => {
    const s3 = memoryS3Client({ keys });
    const handler = createBatchHandler({ s3Client: s3.client, write: () => {}, env: { URL_EXPIRY_SECONDS: '120' } });
    const result = await handler(batch({ expiry_seconds: undefined }), context());
    const line = JSON.parse(s3.objects.get(result.part_key!)!.split('\n')[0]!) as { url: string };
    expect(new URL(line.url).searchParams.get('X-Amz-Expires')).toBe('120');
  });

  it('fails with the S3 error code as the error name when the part cannot be written', async () => {
    const s3 = memoryS3Client({ keys, failures: { PutObject: { call: 1, name: 'SlowDown' } } });
    const sink = lineSink();
    const handler = createBatchHandler({ s3Client: s3.client, write: sink.write, env: {} });
    await expect(handler(batch(), context())).rejects.toMatchObject({ name: 'SlowDown' });
    expect(readCaptured(sink.lines).logs).toContainEqual(
      expect.objectContaining({ event: 'error', error_name: 'SlowDown' }),
    );
    expect(readCaptured(sink.lines).documents).toHaveLength(1);
    // The retry succeeds and writes the part the first attempt meant to write.
    const retried = await handler(batch(), context());
    expect(retried.part_key).toBe(batchPartKey('manifests/', 'exec-2026-04-01', items(keys)));
  });
});

describe('createBatchHandler: S3 Inventory rows (a MANIFEST ItemReader)', () => {
  /** Rows as Step Functions hands them from a CSV inventory: Bucket, the URL-encoded Key, Size as a string. */
  const rows = (bucket: string, encoded: readonly string[]) =>
    encoded.map((Key) => ({ Bucket: bucket, Key, Size: '10', LastModifiedDate: '2026-04-01T00:00:00.000Z' }));

  it('decodes the URL-encoded keys before presigning them', async () => {
    const decoded = ['r/a b.pdf', 'r/é+x.pdf', 'r/c.txt'];
    const s3 = memoryS3Client({ keys: decoded });
    const handler = createBatchHandler({ s3Client: s3.client, write: () => {}, env: {} });
    const event = { ...batch(), Items: rows('reports', ['r/a+b.pdf', 'r/%C3%A9%2Bx.pdf', 'r/c.txt']) };
    const result = await handler(event, context());
    expect(result.count).toBe(2);
    expect(s3.manifestKeys(result.part_key!)).toEqual(['r/a b.pdf', 'r/é+x.pdf']);
  });

  it('presigns only the latest version of a versioned report, never an old version or a delete marker', async () => {
    // Rows as the reader hands them from a report whose fileSchema has VersionId, IsLatest, IsDeleteMarker: strings.
    const version = (Key: string, VersionId: string, IsLatest: string, IsDeleteMarker: string, Size = '100') => ({
      Bucket: 'reports',
      Key,
      VersionId,
      IsLatest,
      IsDeleteMarker,
      Size,
    });
    const s3 = memoryS3Client({ keys: ['r/a.pdf', 'r/b.pdf', 'r/c.pdf'] });
    const handler = createBatchHandler({ s3Client: s3.client, write: () => {}, env: {} });
    const Items = [
      version('r/a.pdf', '1', 'false', 'false'),
      version('r/a.pdf', '2', 'true', 'false'),
      version('r/b.pdf', '1', 'false', 'false'),
      version('r/b.pdf', '2', 'true', 'true', ''),
      version('r/c.pdf', 'null', 'true', ''),
    ];
    const result = await handler({ ...batch(), Items }, context());
    expect(result.count).toBe(2);
    expect(s3.manifestKeys(result.part_key!)).toEqual(['r/a.pdf', 'r/c.pdf']);
  });

  it('writes no part for a batch of old versions and delete markers only', async () => {
    const s3 = countingS3Client();
    const handler = createBatchHandler({ s3Client: s3.client, write: () => {}, env: {} });
    const Items = [
      { Bucket: 'reports', Key: 'r/a.pdf', IsLatest: 'false', IsDeleteMarker: 'false' },
      { Bucket: 'reports', Key: 'r/a.pdf', IsLatest: 'true', IsDeleteMarker: 'true' },
    ];
    expect(await handler({ ...batch(), Items }, context())).toEqual({ part_key: null, count: 0, errors: 0 });
    expect(s3.calls()).toBe(0);
  });

  it('takes the 1024-byte limit on the key a row names, not on its URL-encoded form', async () => {
    // 340 three-byte characters: 1,020 bytes decoded, 3,060 characters encoded.
    const long = `r/${'漢'.repeat(340)}.pdf`.slice(0, 2 + 340);
    const s3 = memoryS3Client({ keys: [long] });
    const handler = createBatchHandler({ s3Client: s3.client, write: () => {}, env: {}, suffix: '漢' });
    const result = await handler({ ...batch(), Items: rows('reports', [encodeURIComponent(long)]) }, context());
    expect(result.count).toBe(1);
    expect(s3.manifestKeys(result.part_key!)).toEqual([long]);
    const tooLong = `r/${'漢'.repeat(341)}`;
    const error = await rejection(
      handler({ ...batch(), Items: rows('reports', [encodeURIComponent(tooLong)]) }, context()),
    );
    expect(error).toMatchObject({ name: 'InvalidBatchInput', field: 'Items[0].Key' });
  });

  it.each([
    ['a row of another bucket', rows('elsewhere', ['r/a.pdf']), 'Items[0].Bucket'],
    ['a key that is not URL-encoded', rows('reports', ['r/a.pdf', 'r/100%.pdf']), 'Items[1].Key'],
  ])('refuses %s before any S3 call', async (_name, Items, field) => {
    const s3 = countingS3Client();
    const handler = createBatchHandler({ s3Client: s3.client, write: () => {}, env: {} });
    const error = await rejection(handler({ ...batch(), Items }, context()));
    expect(error).toBeInstanceOf(BatchInputError);
    expect(error.field).toBe(field);
    expect(s3.calls()).toBe(0);
  });
});

describe('createManifestIndexHandler: the final step', () => {
  it('indexes every part of the run, presigned, with the counts the batches stored', async () => {
    // Prepare: two parts of the run, plus objects that are not parts of it.
    const s3 = memoryS3Client({
      keys: ['manifests/exec-1/notes.txt', 'manifests/exec-10/part-0000000000000000.jsonl'],
    });
    const batchHandler = createBatchHandler({ s3Client: s3.client, write: () => {}, env: {} });
    const one = await batchHandler(
      { Items: items(['r/1.pdf', 'r/2.pdf', 'r/3.txt']), BatchInput: { bucket: 'reports', run: 'exec-1' } },
      context(),
    );
    const two = await batchHandler(
      { Items: items(['r/4.PDF']), BatchInput: { bucket: 'reports', run: 'exec-1' } },
      context(),
    );
    const sink = lineSink();
    const handler = createManifestIndexHandler({ s3Client: s3.client, write: sink.write, env: {} });

    // Act
    const result = await handler({ bucket: 'reports', run: 'exec-1', expiry_seconds: 600 }, context('index'));

    // Assess
    expect(Object.keys(result)).toEqual(['index_key', 'index_url', 'parts', 'count', 'errors', 'urls_expire_at']);
    expect(result).toMatchObject({ index_key: 'manifests/exec-1/index.jsonl', parts: 2, count: 3, errors: 0 });
    expect(new URL(result.index_url).searchParams.get('X-Amz-Expires')).toBe('600');
    const lines = s3.objects
      .get(result.index_key)!
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((line) => line.key)).toEqual([one.part_key, two.part_key].sort());
    expect(lines.map((line) => Object.keys(line))).toEqual([
      ['key', 'url', 'count', 'errors'],
      ['key', 'url', 'count', 'errors'],
    ]);
    const counts = Object.fromEntries(lines.map((line) => [line.key, line.count]));
    expect(counts).toEqual({ [one.part_key!]: 2, [two.part_key!]: 1 });
    expect(Date.parse(String(result.urls_expire_at)) - Date.now()).toBeGreaterThan(500_000);
    expect(readCaptured(sink.lines).logs).toEqual([
      expect.objectContaining({ event: 'index_complete', parts: 2, count: 3 }),
    ]);
    expect(sink.lines.join('\n')).not.toContain('X-Amz-Signature');

    // Running it again rewrites the same index.
    const again = await handler({ bucket: 'reports', run: 'exec-1', expiry_seconds: 600 }, context('index-2'));
    expect(again).toMatchObject({ index_key: result.index_key, parts: 2, count: 3 });
  });

  it('writes an empty index for a run without parts', async () => {
    const s3 = memoryS3Client({ keys: [] });
    const handler = createManifestIndexHandler({ s3Client: s3.client, write: () => {}, env: {} });
    const result = await handler({ bucket: 'reports', run: 'empty-run' }, context());
    expect(result).toMatchObject({ parts: 0, count: 0, errors: 0, urls_expire_at: null });
    expect(s3.objects.get('manifests/empty-run/index.jsonl')).toBe('');
  });

  it.each([
    ['a string event', 'go', 'event'],
    ['no run', { bucket: 'reports' }, 'run'],
    ['a bad bucket', { bucket: 'x', run: 'r1' }, 'bucket'],
    ['a bad expiry', { bucket: 'reports', run: 'r1', expiry_seconds: 'soon' }, 'expiry_seconds'],
  ])('refuses %s before any S3 call', async (_name, event, field) => {
    const s3 = countingS3Client();
    const handler = createManifestIndexHandler({ s3Client: s3.client, write: () => {}, env: {} });
    expect(await rejection(handler(event, context()))).toMatchObject({ name: 'InvalidBatchInput', field });
    expect(s3.calls()).toBe(0);
  });
});

/** The fast presigner over the handler's signing client, whose credentials expire `inMs` from now. */
function expiringPresigner(inMs: number): (client: S3Client) => Presigner {
  return (client) => {
    const inner = fastPresigner({ client });
    const expiresAt = new Date(Date.now() + inMs);
    return Object.assign(Object.create(inner) as Presigner, { credentialsExpiration: async () => expiresAt });
  };
}

describe('batch and index under credentials that expire before expiry_seconds would', () => {
  const run = { bucket: 'reports', run: 'exec-caps', expiry_seconds: 3600 };

  it("caps the parts' and the index's URLs, and urls_expire_at says when the capped URLs die", async () => {
    // Prepare: credentials that expire in 600 s, URLs asked for an hour.
    const s3 = memoryS3Client({ keys: ['r/a.pdf'] });
    const sink = lineSink();
    const options = { s3Client: s3.client, write: sink.write, env: {}, presigner: expiringPresigner(600_000) };
    const part = await createBatchHandler(options)({ Items: items(['r/a.pdf']), BatchInput: run }, context('b1'));

    // Act
    const index = await createManifestIndexHandler(options)(run, context('i1'));

    // Assess: every URL the run handed out lives at most the 600 s the credentials have left.
    const expiresOf = (url: string) => Number(new URL(url).searchParams.get('X-Amz-Expires'));
    const partUrl = JSON.parse(s3.objects.get(part.part_key!)!.trim()).url as string;
    const indexLine = JSON.parse(s3.objects.get(index.index_key)!.trim()) as { url: string };
    for (const url of [partUrl, indexLine.url, index.index_url]) {
      expect(expiresOf(url)).toBeGreaterThan(590);
      expect(expiresOf(url)).toBeLessThanOrEqual(600);
    }
    const untilExpiry = Date.parse(String(index.urls_expire_at)) - Date.now();
    expect(untilExpiry).toBeGreaterThan(580_000);
    expect(untilExpiry).toBeLessThanOrEqual(600_000);
    const capped = readCaptured(sink.lines).logs.filter((line) => line.event === 'expiry_capped');
    expect(capped).toHaveLength(2);
    expect(capped[1]).toMatchObject({ request_id: 'i1', requested_expiry_seconds: 3600 });
  });

  it.each([
    ['ON_EXPIRY_CAPPED=refuse', { env: { ON_EXPIRY_CAPPED: 'refuse' } }],
    ["onExpiryCapped: 'refuse'", { onExpiryCapped: 'refuse' as const }],
  ])('%s: batch and index fail with CREDENTIALS_EXPIRE_TOO_SOON and write nothing', async (_name, over) => {
    const s3 = memoryS3Client({ keys: ['r/a.pdf'] });
    const options = { s3Client: s3.client, write: () => {}, env: {}, presigner: expiringPresigner(600_000), ...over };
    const batchError = await rejection(
      createBatchHandler(options)({ Items: items(['r/a.pdf']), BatchInput: run }, context()),
    );
    const indexError = await rejection(createManifestIndexHandler(options)(run, context()));
    expect(batchError).toMatchObject({ code: 'CREDENTIALS_EXPIRE_TOO_SOON' });
    expect(indexError).toMatchObject({ code: 'CREDENTIALS_EXPIRE_TOO_SOON' });
    expect(s3.count('PutObject')).toBe(0);
  });

  it('refuses an ON_EXPIRY_CAPPED it cannot read, naming it', async () => {
    const s3 = countingS3Client();
    const options = { s3Client: s3.client, write: () => {}, env: { ON_EXPIRY_CAPPED: 'maybe' } };
    const error = await rejection(createManifestIndexHandler(options)(run, context()));
    expect(error).toMatchObject({ name: 'InvalidBatchInput', field: 'ON_EXPIRY_CAPPED' });
    expect(s3.calls()).toBe(0);
  });
});

describe('the index counts every failure', () => {
  it('a batch whose every kept key fails still leaves its errors for the index to sum', async () => {
    // Prepare: one batch with a URL and a failure, one with failures only (S3 refuses keys with a "." segment).
    const s3 = memoryS3Client({ keys: [] });
    const handler = createBatchHandler({ s3Client: s3.client, write: () => {}, env: {} });
    const mixed = await handler({ Items: items(['r/a.pdf', 'r/./b.pdf']), BatchInput: run() }, context());
    const failed = await handler({ Items: items(['s/./c.pdf', 's/../d.pdf']), BatchInput: run() }, context());

    // Act
    const index = await createManifestIndexHandler({ s3Client: s3.client, write: () => {}, env: {} })(
      run(),
      context('index'),
    );

    // Assess
    expect(mixed).toMatchObject({ count: 1, errors: 1 });
    expect(failed).toMatchObject({ count: 0, errors: 2 });
    expect(failed.part_key).not.toBeNull();
    expect(index).toMatchObject({ parts: 2, count: 1, errors: 3 });
  });

  function run() {
    return { bucket: 'reports', run: 'exec-errors' };
  }
});
