import type { Presigner } from '@presign-pipeline/core';
import { describe, expect, it, vi } from 'vitest';
import { resolveHandlerSettings } from '../../src/handler-settings.js';
import type { IdempotencyOptions, IdempotencyStore, IdempotentJob, StoredResult } from '../../src/idempotency.js';
import { Invocation } from '../../src/invocation.js';
import { isRequestRejection, planJob, type JobPlan } from '../../src/job-plan.js';
import { jobKeyOf, JobRun, storedResultOf, type JobOutcome } from '../../src/job-run.js';
import { lineSink } from '../helpers/capture.js';
import { memoryS3Client } from '../helpers/memory-s3.js';

const KEYS = ['a/1.pdf', 'a/2.PDF', 'a/3.txt', 'b/4.pdf'];

/** A presigner that records the lifetimes it signs for. */
function recordingPresigner(): Presigner & { signed: Array<{ key: string; expiresIn: number }> } {
  const signed: Array<{ key: string; expiresIn: number }> = [];
  return {
    signed,
    async presign(object, options) {
      signed.push({ key: object.key, expiresIn: options.expiresIn });
      return `https://${object.bucket}.example/${object.key}?expires=${options.expiresIn}`;
    },
  };
}

function planOf(event: Record<string, unknown>, idempotency?: IdempotencyOptions): JobPlan {
  const plan = planJob(event, {}, { configOptions: {}, accessOptions: {}, onExpiryCapped: undefined, idempotency });
  if (isRequestRejection(plan)) throw new Error(`refused: ${plan.error}`);
  return plan;
}

/** One job against a memory S3 bucket holding KEYS. */
function jobRun(
  event: Record<string, unknown>,
  options: { idempotency?: IdempotencyOptions; store?: IdempotencyStore; presigner?: Presigner } = {},
) {
  const s3 = memoryS3Client({ keys: KEYS });
  const presigner = recordingPresigner();
  const sink = lineSink();
  const settings = resolveHandlerSettings({
    s3Client: s3.client,
    write: sink.write,
    env: { AWS_LAMBDA_FUNCTION_NAME: 'fn', AWS_REGION: 'eu-west-1' },
    ...(options.store !== undefined ? { idempotencyStore: options.store } : {}),
  });
  const invocation = new Invocation('req-3', settings.newMetrics(), sink.write);
  const run = new JobRun({
    settings,
    invocation,
    plan: planOf(event, options.idempotency),
    clients: { client: s3.client, signingClient: s3.client, presigner: options.presigner ?? presigner },
    deadline: undefined,
    env: settings.env(),
    context: undefined,
  });
  return { run, s3, presigner };
}

const stored = (fields: Partial<StoredResult>): StoredResult => ({
  count: 7,
  errors: 0,
  pages: 1,
  manifest_key: 'manifests/old.jsonl',
  manifest_bytes: 99,
  urls_expire_at: 0,
  complete: true,
  ...fields,
});

describe('JobRun', () => {
  it('runs the pipeline once without deduplication: keys with the suffix, a manifest, its URL', async () => {
    const { run, s3 } = jobRun({ bucket: 'reports', prefix: 'a/' });
    const outcome = await run.outcome();
    expect(outcome).toMatchObject({
      kind: 'ran',
      result: { count: 2, complete: true },
      key: expect.stringMatching(/^manifests\/.+\.jsonl$/),
    });
    const { key, url } = outcome as Extract<JobOutcome, { kind: 'ran' }>;
    expect(url).toContain(key);
    expect(s3.manifestKeys(key)).toEqual(['a/1.pdf', 'a/2.PDF']);
  });

  it('hands the store the job key, the function name, the lifetime and the region, and keeps the fresh manifest URL', async () => {
    const seen: IdempotentJob[] = [];
    const store: IdempotencyStore = {
      async run(job) {
        seen.push(job);
        return { stored: await job.job(), replay: false };
      },
    };
    const { run, presigner } = jobRun(
      { bucket: 'reports', prefix: 'a/', expiry_seconds: 900 },
      { idempotency: { tableName: 'jobs' }, store },
    );
    const outcome = await run.outcome();
    expect(seen[0]).toMatchObject({
      key: { bucket: 'reports', prefix: 'a/', expiry_seconds: 900, suffix: '.pdf' },
      keyPrefix: 'fn',
      lifetimeSeconds: 840,
      region: 'eu-west-1',
    });
    expect(outcome).toMatchObject({ kind: 'stored', stored: { count: 2, complete: true } });
    // The manifest was presigned once, by the writer, at the full expiry.
    const manifestSignatures = presigner.signed.filter((entry) => entry.key.startsWith('manifests/'));
    expect(manifestSignatures).toEqual([
      { key: (outcome as Extract<JobOutcome, { kind: 'stored' }>).stored.manifest_key, expiresIn: 900 },
    ]);
  });

  it('replays a stored result without listing, presigning its manifest for no longer than its URLs live', async () => {
    const nowSeconds = Math.floor(Date.now() / 1000);
    const store = (record: StoredResult): IdempotencyStore => ({ run: async () => ({ stored: record, replay: true }) });
    const longLived = jobRun(
      { bucket: 'reports', expiry_seconds: 300 },
      { idempotency: { tableName: 'jobs' }, store: store(stored({ urls_expire_at: nowSeconds + 10_000 })) },
    );
    const expired = jobRun(
      { bucket: 'reports', expiry_seconds: 300 },
      { idempotency: { tableName: 'jobs' }, store: store(stored({ urls_expire_at: 0 })) },
    );
    const capped = await longLived.run.outcome();
    const floor = await expired.run.outcome();
    expect(capped).toMatchObject({
      kind: 'replayed',
      remainingSeconds: 300,
      url: expect.stringContaining('manifests/old.jsonl'),
    });
    expect(floor).toMatchObject({ kind: 'replayed', remainingSeconds: 1 });
    expect(longLived.presigner.signed).toEqual([{ key: 'manifests/old.jsonl', expiresIn: 300 }]);
    expect(longLived.s3.calls).toEqual([]);
  });

  it('stores urls_expire_at as when the first URL dies, counted from before the run signed it, however long the run takes', async () => {
    // Prepare: every presign takes 1.5 s of a clock that only the presigner moves, so the run lasts 6 s.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const startedAt = Math.floor(Date.now() / 1000);
      const urlsDie: number[] = [];
      const slowPresigner: Presigner = {
        async presign(object, options) {
          vi.setSystemTime(Date.now() + 1500);
          urlsDie.push(Math.floor(Date.now() / 1000) + options.expiresIn);
          return `https://${object.bucket}.example/${object.key}`;
        },
      };
      const seen: StoredResult[] = [];
      const store: IdempotencyStore = {
        async run(job) {
          const result = await job.job();
          seen.push(result);
          return { stored: result, replay: false };
        },
      };
      const { run, s3 } = jobRun(
        { bucket: 'reports', prefix: 'a/', expiry_seconds: 900 },
        { idempotency: { tableName: 'jobs' }, store, presigner: slowPresigner },
      );

      // Act
      await run.outcome();

      // Assess: the record's urls_expire_at is no later than the first URL's death (not the run's end + expiry).
      expect(s3.calls.length).toBeGreaterThan(0);
      expect(Math.floor(Date.now() / 1000) - startedAt).toBeGreaterThanOrEqual(4);
      expect(seen[0]?.urls_expire_at).toBe(startedAt + 900);
      expect(seen[0]?.urls_expire_at).toBeLessThanOrEqual(Math.min(...urlsDie));
    } finally {
      vi.useRealTimers();
    }
  });

  it('says a duplicate is in progress when the store refuses with IdempotencyAlreadyInProgressError, and rethrows other errors', async () => {
    const failing = (name: string): IdempotencyStore => ({
      run: async () => {
        throw Object.assign(new Error('busy'), { name });
      },
    });
    const busy = jobRun(
      { bucket: 'reports' },
      { idempotency: { tableName: 'jobs' }, store: failing('IdempotencyAlreadyInProgressError') },
    );
    const broken = jobRun(
      { bucket: 'reports' },
      { idempotency: { tableName: 'jobs' }, store: failing('ProvisionedThroughputExceededException') },
    );
    await expect(busy.run.outcome()).resolves.toEqual({ kind: 'in-progress' });
    await expect(broken.run.outcome()).rejects.toThrow(
      expect.objectContaining({ name: 'ProvisionedThroughputExceededException' }),
    );
  });

  it('runs without a record when the URLs would be too short-lived to reuse', async () => {
    let storeCalls = 0;
    const store: IdempotencyStore = {
      run: async () => {
        storeCalls++;
        throw new Error('not expected');
      },
    };
    const { run } = jobRun(
      { bucket: 'reports', prefix: 'a/', expiry_seconds: 900 },
      { idempotency: { tableName: 'jobs', marginSeconds: 900 }, store },
    );
    const outcome = await run.outcome();
    expect(outcome).toMatchObject({ kind: 'stored', stored: { count: 2 } });
    expect(storeCalls).toBe(0);
  });

  it('fails with IDEMPOTENCY_UNAVAILABLE before listing when deduplication is on without a store', async () => {
    const { run, s3 } = jobRun({ bucket: 'reports' }, { idempotency: { tableName: 'jobs' } });
    await expect(run.outcome()).rejects.toMatchObject({ code: 'IDEMPOTENCY_UNAVAILABLE' });
    expect(s3.calls).toEqual([]);
  });
});

describe('jobKeyOf and storedResultOf', () => {
  it('keys a continuation and an inventory run apart from the plain job', () => {
    const plain = jobKeyOf(planOf({ bucket: 'reports', prefix: 'a/', expiry_seconds: 600 }), '.pdf');
    const continued = jobKeyOf(planOf({ bucket: 'reports', prefix: 'a/', start_after: 'a/1.pdf' }), '.pdf');
    const inventory = jobKeyOf(
      planOf({
        bucket: 'reports',
        prefix: 'a/',
        inventory_manifest: 's3://inv/m.json',
        modified_after: '2026-01-01T00:00:00Z',
      }),
      '.pdf',
    );
    expect(plain).toEqual({ bucket: 'reports', prefix: 'a/', expiry_seconds: 600, suffix: '.pdf' });
    expect(continued).toMatchObject({ start_after: 'a/1.pdf' });
    expect(inventory).toMatchObject({
      inventory_manifest: 's3://inv/m.json',
      modified_after: '2026-01-01T00:00:00.000Z',
    });
  });

  it('records where an incomplete run continues: next_start_after for a listing, resume_token for an inventory', () => {
    const result = {
      count: 1,
      errors: 0,
      pages: 1,
      complete: false,
      nextStartAfter: 'a/1.pdf',
      effectiveExpiresIn: 60,
      manifest: { key: 'k', bytes: 3 },
    };
    const listing = storedResultOf(result as never, 'k', planOf({ bucket: 'reports' }), Date.now());
    const inventory = storedResultOf(
      { ...result, nextStartAfter: 'inv1.x' } as never,
      'k',
      planOf({ bucket: 'reports', inventory_manifest: 's3://inv/m.json' }),
      Date.now(),
    );
    expect(listing).toMatchObject({
      manifest_key: 'k',
      manifest_bytes: 3,
      complete: false,
      next_start_after: 'a/1.pdf',
    });
    expect(listing.urls_expire_at).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) + 59);
    expect(inventory).toMatchObject({ complete: false, resume_token: 'inv1.x' });
    expect(inventory).not.toHaveProperty('next_start_after');
  });
});
