import { describe, expect, it } from 'vitest';
import { deadlineOf, jobDeadline } from '../../src/job-budget.js';
import { isRequestRejection, planJob, type PlanSettings } from '../../src/job-plan.js';

const settings: PlanSettings = {
  configOptions: {},
  accessOptions: {},
  onExpiryCapped: undefined,
  idempotency: undefined,
};

describe('planJob', () => {
  it('plans a listing: the configuration, no inventory, warn on capped expiry, no deduplication', () => {
    const plan = planJob({ bucket: 'reports', prefix: 'a/' }, {}, settings);
    expect(isRequestRejection(plan)).toBe(false);
    expect(plan).toMatchObject({
      config: { bucket: 'reports', prefix: 'a/' },
      inventory: undefined,
      onExpiryCapped: 'warn',
      dedup: undefined,
    });
  });

  it('reports problems in step order: configuration, then access, then ON_EXPIRY_CAPPED, then idempotency', () => {
    // Prepare: an environment with a problem for every later step.
    const env = {
      ALLOWED_BUCKETS: 'other',
      ON_EXPIRY_CAPPED: 'sometimes',
      IDEMPOTENCY_TABLE: 'jobs',
      IDEMPOTENCY_TTL_SECONDS: '0',
    };
    // Act: fix the problems one at a time, from the first step on.
    const first = planJob({ bucket: 'reports', page_size: 1001 }, env, settings);
    const second = planJob({ bucket: 'reports' }, env, settings);
    const third = planJob({ bucket: 'reports' }, { ...env, ALLOWED_BUCKETS: 'reports' }, settings);
    const fourth = planJob(
      { bucket: 'reports' },
      { ...env, ALLOWED_BUCKETS: 'reports', ON_EXPIRY_CAPPED: 'refuse' },
      settings,
    );
    // Assess
    expect(first).toMatchObject({ statusCode: 400, field: 'page_size' });
    expect(second).toMatchObject({ statusCode: 403, field: 'bucket' });
    expect(third).toMatchObject({ statusCode: 400, field: 'ON_EXPIRY_CAPPED' });
    expect(fourth).toMatchObject({ statusCode: 400, field: 'IDEMPOTENCY_TTL_SECONDS' });
  });

  it('takes the options over the environment: allow-lists, onExpiryCapped and idempotency', () => {
    const env = { ALLOWED_BUCKETS: 'other', ON_EXPIRY_CAPPED: 'sometimes', IDEMPOTENCY_TABLE: 'jobs' };
    const plan = planJob({ bucket: 'reports' }, env, {
      configOptions: {},
      accessOptions: { allowedBuckets: ['reports'] },
      onExpiryCapped: 'refuse',
      idempotency: false,
    });
    expect(plan).toMatchObject({ config: { bucket: 'reports' }, onExpiryCapped: 'refuse', dedup: undefined });
  });

  it('deduplicates when IDEMPOTENCY_TABLE is set', () => {
    expect(planJob({ bucket: 'reports' }, { IDEMPOTENCY_TABLE: 'jobs' }, settings)).toMatchObject({
      dedup: { tableName: 'jobs' },
    });
  });

  it('admits an inventory run under the allow-lists, refusing its manifest bucket or prefix outside them', () => {
    const env = { ALLOWED_BUCKETS: 'reports,inventories', ALLOWED_PREFIXES: 'a/' };
    const event = {
      bucket: 'reports',
      prefix: 'a/x/',
      inventory_manifest: 's3://inventories/reports/all/manifest.json',
    };
    const plan = planJob(event, env, settings);
    const outside = planJob({ ...event, prefix: 'b/' }, env, settings);
    const elsewhere = planJob(event, { ...env, ALLOWED_BUCKETS: 'reports' }, settings);
    expect(plan).toMatchObject({
      inventory: { manifest: { bucket: 'inventories', key: 'reports/all/manifest.json' }, prefix: 'a/x/' },
    });
    expect(outside).toMatchObject({ statusCode: 403, field: 'prefix' });
    expect(elsewhere).toMatchObject({ statusCode: 403, field: 'inventory_manifest' });
  });
});

describe('jobDeadline', () => {
  const budget = { startedAt: 1_000_000, remainingMs: 120_000 };

  it('has no deadline without a budget', () => {
    expect(jobDeadline(undefined, true, 30_000, () => Number.MAX_SAFE_INTEGER)).toBeUndefined();
  });

  it('is the end of the budget minus the margin', () => {
    expect(jobDeadline(budget, false, 30_000, () => 0)).toBe(deadlineOf(budget, 30_000));
    expect(deadlineOf(budget, 30_000)).toBe(1_090_000);
  });

  it('lets a job alone start after its deadline, but not a job sharing the budget of a batch', () => {
    const late = () => 1_090_000;
    expect(jobDeadline(budget, false, 30_000, late)).toBe(1_090_000);
    expect(() => jobDeadline(budget, true, 30_000, late)).toThrow(
      expect.objectContaining({ name: 'PresignPipelineError', code: 'DEADLINE_REACHED' }),
    );
    expect(jobDeadline(budget, true, 30_000, () => 1_089_999)).toBe(1_090_000);
  });
});
