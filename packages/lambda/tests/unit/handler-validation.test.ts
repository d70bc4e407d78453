import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { createPresignHandler } from '../../src/handler.js';
import { countingS3Client, lineSink, readCaptured } from '../helpers/capture.js';
import { unitContext } from '../helpers/events.js';

const context = (requestId = 'req-123'): Context => unitContext(60_000, requestId);

function setup(env: Record<string, string | undefined> = {}, extra: Parameters<typeof createPresignHandler>[0] = {}) {
  const s3 = countingS3Client();
  const sink = lineSink();
  const handler = createPresignHandler({ s3Client: s3.client, write: sink.write, env, ...extra });
  return { handler, s3, sink };
}

describe('createPresignHandler: bad input gets 400 before any S3 call', () => {
  it.each([
    ['a string event', 'bucket=x', 'event'],
    ['a number event', 7, 'event'],
    ['an array event', [], 'event'],
    ['a boolean event', true, 'event'],
    ['a null event', null, 'event'],
    ['no event at all', undefined, 'event'],
    ['a Date event', new Date(0), 'event'],
    ['a Map event', new Map([['bucket', 'x']]), 'event'],
    ['a NaN expiry_seconds', { expiry_seconds: Number.NaN }, 'expiry_seconds'],
    ['an Infinity page_size', { page_size: Number.POSITIVE_INFINITY }, 'page_size'],
    ['a -Infinity concurrency', { concurrency: Number.NEGATIVE_INFINITY }, 'concurrency'],
    ['a NaN bucket', { bucket: Number.NaN }, 'bucket'],
    ['a numeric bucket', { bucket: 42 }, 'bucket'],
    ['an invalid bucket name', { bucket: 'Not_A_Bucket' }, 'bucket'],
    ['an IP-address bucket', { bucket: '10.0.0.1' }, 'bucket'],
    ['a numeric prefix', { prefix: 3 }, 'prefix'],
    ['expiry_seconds above seven days', { expiry_seconds: 604801 }, 'expiry_seconds'],
    ['a fractional expiry_seconds', { expiry_seconds: '9.5' }, 'expiry_seconds'],
    ['page_size above 1000', { page_size: 5000 }, 'page_size'],
    ['concurrency above 256', { concurrency: 1000 }, 'concurrency'],
    ['a fractional concurrency', { concurrency: 1.5 }, 'concurrency'],
  ])('%s', async (_name, event, field) => {
    const { handler, s3, sink } = setup();
    const response = await handler(event, context());
    expect(response.statusCode).toBe(400);
    const body = JSON.parse(response.body) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['error', 'field']);
    expect(body.field).toBe(field);
    expect(typeof body.error).toBe('string');
    expect(s3.calls()).toBe(0);

    const { logs, metrics, documents } = readCaptured(sink.lines);
    expect(logs).toEqual([{ event: 'invalid_request', request_id: 'req-123', field, error: body.error }]);
    expect(documents).toHaveLength(1);
    const byName = Object.fromEntries(metrics.map((m) => [m.name, m]));
    expect(byName.ResponseBytes).toMatchObject({ unit: 'Bytes', value: Buffer.byteLength(response.body) });
    expect(byName.PDFsProcessed).toMatchObject({ unit: 'Count', value: 0 });
  });

  it('names the environment variable when the bad value came from the environment', async () => {
    for (const [env, field] of [
      [{ BUCKET_NAME: 'Bad Bucket' }, 'BUCKET_NAME'],
      [{ URL_EXPIRY_SECONDS: 'ninety' }, 'URL_EXPIRY_SECONDS'],
      [{ QUEUE_MAX: 'lots' }, 'QUEUE_MAX'],
      [{ S3_ENDPOINT_URL: 'minio:9000' }, 'S3_ENDPOINT_URL'],
      [{ IDEMPOTENCY_TABLE: 'jobs', IDEMPOTENCY_TTL_SECONDS: 'a day' }, 'IDEMPOTENCY_TTL_SECONDS'],
    ] as const) {
      const { handler, s3 } = setup(env);
      const response = await handler({}, context());
      expect(response.statusCode).toBe(400);
      expect(JSON.parse(response.body).field).toBe(field);
      expect(s3.calls()).toBe(0);
    }
  });

  it('uses a random UUID as request id without a context', async () => {
    const { handler, sink } = setup();
    await handler('nope');
    const [line] = readCaptured(sink.lines).logs;
    expect(line?.request_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('reads the environment on every invocation (an env object, mutated between calls)', async () => {
    const env: Record<string, string | undefined> = { BUCKET_NAME: 'First_Bad' };
    const { handler } = setup(env);
    const first = JSON.parse((await handler({}, context())).body) as { error: string };
    env.BUCKET_NAME = 'Second_Bad';
    const second = JSON.parse((await handler({}, context())).body) as { error: string };
    expect(first.error).toContain('First_Bad');
    expect(second.error).toContain('Second_Bad');
  });

  describe('with process.env (the default)', () => {
    const saved = process.env.BUCKET_NAME;
    afterEach(() => {
      if (saved === undefined) delete process.env.BUCKET_NAME;
      else process.env.BUCKET_NAME = saved;
    });

    it('reads process.env per invocation, not at creation', async () => {
      const s3 = countingS3Client();
      const sink = lineSink();
      const handler = createPresignHandler({ s3Client: s3.client, write: sink.write });
      process.env.BUCKET_NAME = 'Later_Bad';
      const response = await handler({}, context());
      expect(response.statusCode).toBe(400);
      expect(JSON.parse(response.body)).toMatchObject({ field: 'BUCKET_NAME' });
      expect(JSON.parse(response.body).error).toContain('Later_Bad');
    });
  });
});

describe('createPresignHandler: allow-list', () => {
  it('answers 403 for a bucket outside ALLOWED_BUCKETS, before any S3 call', async () => {
    const { handler, s3, sink } = setup({ ALLOWED_BUCKETS: 'reports-a, reports-b' });
    const response = await handler({ bucket: 'payroll' }, context());
    expect(response.statusCode).toBe(403);
    expect(JSON.parse(response.body)).toEqual({
      error: 'Bucket "payroll" is not in the allowed buckets',
      field: 'bucket',
    });
    expect(s3.calls()).toBe(0);
    expect(readCaptured(sink.lines).logs[0]).toMatchObject({
      event: 'forbidden_request',
      request_id: 'req-123',
      field: 'bucket',
    });
  });

  it('answers 403 for a prefix outside ALLOWED_PREFIXES', async () => {
    const { handler, s3 } = setup({ ALLOWED_PREFIXES: '2026/, public/' });
    const response = await handler({ bucket: 'reports-a', prefix: 'private/' }, context());
    expect(response.statusCode).toBe(403);
    expect(JSON.parse(response.body)).toMatchObject({ field: 'prefix' });
    expect(s3.calls()).toBe(0);
  });

  it('checks the env default too, naming BUCKET_NAME', async () => {
    const { handler } = setup({ ALLOWED_BUCKETS: 'reports-a' });
    const response = await handler({}, context());
    expect(response.statusCode).toBe(403);
    expect(JSON.parse(response.body).field).toBe('BUCKET_NAME');
  });

  it('lets the handler options override the environment', async () => {
    const { handler } = setup({ ALLOWED_BUCKETS: 'reports-a' }, { allowedBuckets: ['reports-b'] });
    expect((await handler({ bucket: 'reports-a', prefix: 'x/' }, context())).statusCode).toBe(403);
  });

  it('lets an allowed request through to S3 (and an S3 failure is thrown with its own name after an error line)', async () => {
    const { handler, s3, sink } = setup({ ALLOWED_BUCKETS: 'reports-a', ALLOWED_PREFIXES: '2026/' });
    const error = await handler({ bucket: 'reports-a', prefix: '2026/04/' }, context()).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.name).toBe('UnitTestNoS3');
    expect(s3.calls()).toBeGreaterThan(0);
    const { logs, metrics } = readCaptured(sink.lines);
    expect(logs.find((l) => l.event === 'error')).toMatchObject({ request_id: 'req-123', error_name: 'UnitTestNoS3' });
    // EMF is published on failure too, without ResponseBytes (there is no response).
    expect(metrics.map((m) => m.name)).toEqual(['PDFsProcessed', 'S3ListPages', 'PresignCount', 'ManifestBytes']);
  });
});

describe('createPresignHandler: options', () => {
  it('refuses unusable options at creation', () => {
    expect(() => createPresignHandler({ namespace: 'AWS/Lambda' })).toThrow();
    expect(() => createPresignHandler({ functionName: '' })).toThrow(/functionName/);
    expect(() => createPresignHandler({ suffix: '' })).toThrow(/suffix/);
    expect(() => createPresignHandler({ write: 'stdout' as never })).toThrow(/write/);
    expect(() => createPresignHandler({ presigner: 'quick' as never })).toThrow(/presigner/);
  });

  it('writes the EMF document with the configured namespace and Function dimension', async () => {
    const { handler, sink } = setup({}, { namespace: 'team/reports', functionName: 'nightly' });
    await handler(5, context());
    const [metric] = readCaptured(sink.lines).metrics;
    expect(metric).toMatchObject({ namespace: 'team/reports', dimensions: { Function: 'nightly' } });
  });
});
