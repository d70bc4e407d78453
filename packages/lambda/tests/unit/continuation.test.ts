import { BatchProcessor } from '@aws-lambda-powertools/batch';
import { PresignPipelineError } from '@presign-pipeline/core';
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MIN_DEADLINE_MARGIN_MS, resolveConfig } from '../../src/config.js';
import { createPresignHandler } from '../../src/handler.js';
import { deadlineOf, invocationBudget } from '../../src/job-budget.js';
import { createSqsHandler, SqsJobError } from '../../src/sqs.js';
import { countingS3Client, lineSink, readCaptured } from '../helpers/capture.js';
import { memoryS3Client } from '../helpers/memory-s3.js';
import { ok } from '../helpers/config-result.js';
import { cutAnswerKeys, sqsEvent, unitContext } from '../helpers/events.js';

const context = (remainingMs: number, requestId = 'req-cont'): Context => unitContext(remainingMs, requestId);

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('resolveConfig: start_after and DEADLINE_MARGIN_MS', () => {
  it('passes start_after through when it starts with the prefix; empty or null means from the start', () => {
    expect(ok(resolveConfig({ prefix: 'p/', start_after: 'p/0042.txt' }, {})).startAfter).toBe('p/0042.txt');
    expect('startAfter' in ok(resolveConfig({ prefix: 'p/', start_after: '' }, {}))).toBe(false);
    expect('startAfter' in ok(resolveConfig({ prefix: 'p/', start_after: null }, {}))).toBe(false);
    // With the default prefix from the environment, the cursor is checked against that one.
    expect(ok(resolveConfig({ start_after: 'env/x.pdf' }, { PREFIX: 'env/' })).startAfter).toBe('env/x.pdf');
  });

  it.each([
    ['a number', { start_after: 42 }],
    ['an object', { start_after: { key: 'p/a' } }],
    ['a key outside the prefix', { prefix: 'p/', start_after: 'q/a.pdf' }],
    ['a key longer than any S3 key', { prefix: 'p/', start_after: `p/${'x'.repeat(1024)}` }],
  ])('refuses %s as start_after', (_name, event) => {
    const result = resolveConfig(event, {});
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.rejection).toMatchObject({ statusCode: 400, field: 'start_after' });
      expect(result.rejection.error).toContain('start_after');
    }
  });

  it('reads DEADLINE_MARGIN_MS (default 30000) and lets the option override it', () => {
    expect(ok(resolveConfig({}, {})).deadlineMarginMs).toBe(30_000);
    expect(ok(resolveConfig({}, { DEADLINE_MARGIN_MS: '5000' })).deadlineMarginMs).toBe(5000);
    expect(ok(resolveConfig({}, { DEADLINE_MARGIN_MS: '1000' })).deadlineMarginMs).toBe(MIN_DEADLINE_MARGIN_MS);
    expect(ok(resolveConfig({}, { DEADLINE_MARGIN_MS: 'soon' }, { deadlineMarginMs: 2000 })).deadlineMarginMs).toBe(
      2000,
    );
  });

  it.each(['-1', '0', '999', '1.5', 'soon', '', '1e3', 'NaN'])('refuses DEADLINE_MARGIN_MS=%j', (value) => {
    const result = resolveConfig({}, { DEADLINE_MARGIN_MS: value });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.rejection).toMatchObject({ statusCode: 400, field: 'DEADLINE_MARGIN_MS' });
  });
});

describe('deadlineOf and invocationBudget', () => {
  it('ends the run the margin before the timeout, but never takes more than half of the budget', () => {
    expect(deadlineOf({ startedAt: 1000, remainingMs: 900_000 }, 30_000)).toBe(1000 + 870_000);
    expect(deadlineOf({ startedAt: 1000, remainingMs: 40_000 }, 30_000)).toBe(1000 + 20_000);
    expect(deadlineOf({ startedAt: 1000, remainingMs: 3000 }, 0)).toBe(4000);
    expect(deadlineOf({ startedAt: 1000, remainingMs: 0 }, 30_000)).toBe(1000);
  });

  it('reads the context once, and gives no budget without a usable one', () => {
    const read = vi.fn(() => 12_345);
    expect(invocationBudget({ getRemainingTimeInMillis: read } as unknown as Context, 7)).toEqual({
      startedAt: 7,
      remainingMs: 12_345,
    });
    expect(read).toHaveBeenCalledTimes(1);
    expect(invocationBudget(undefined)).toBeUndefined();
    expect(invocationBudget({} as Context)).toBeUndefined();
    expect(invocationBudget({ getRemainingTimeInMillis: () => Number.NaN } as unknown as Context)).toBeUndefined();
  });
});

describe('createPresignHandler: continuation input is checked before any S3 call', () => {
  it.each([
    [{ prefix: 'p/', start_after: 7 }, {}, 'start_after'],
    [{ prefix: 'p/', start_after: 'other/a.pdf' }, {}, 'start_after'],
    [{ prefix: 'p/' }, { DEADLINE_MARGIN_MS: '-5' }, 'DEADLINE_MARGIN_MS'],
  ])('%j with %j gets 400 naming %s', async (event, env, field) => {
    const s3 = countingS3Client();
    const sink = lineSink();
    const handler = createPresignHandler({ s3Client: s3.client, write: sink.write, env });
    const response = await handler(event, context(60_000));
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ field });
    expect(s3.calls()).toBe(0);
    expect(readCaptured(sink.lines).logs[0]).toMatchObject({ event: 'invalid_request', field });
  });

  it('refuses a bad deadlineMarginMs option when the handler is created', () => {
    for (const deadlineMarginMs of [
      -1,
      0,
      999,
      1.5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      '1000' as unknown as number,
    ]) {
      expect(() => createPresignHandler({ deadlineMarginMs })).toThrow(/deadlineMarginMs/);
    }
  });

  it('lists nothing and answers where to resume when the invocation has no time left at all', async () => {
    const s3 = memoryS3Client({ keys: ['p/a.pdf'] });
    const handler = createPresignHandler({ s3Client: s3.client, write: () => {}, env: {} });
    const response = await handler({ bucket: 'reports', prefix: 'p/', start_after: 'p/0' }, context(0));
    expect(JSON.parse(response.body)).toMatchObject({ count: 0, complete: false, next_start_after: 'p/0' });
    expect(s3.count('ListObjectsV2')).toBe(0);
  });
});

/** 300 sorted keys under p/: every third is a .pdf, the rest .txt, so many pages end on a key the filter drops. */
function reportKeys(): string[] {
  return Array.from({ length: 300 }, (_, i) => `p/${String(i).padStart(4, '0')}.${i % 3 === 0 ? 'pdf' : 'txt'}`);
}

describe('createPresignHandler: deadline-aware runs and continuation (S3 in memory)', () => {
  it('stops at the deadline with complete:false and next_start_after = the last key listed, then continues from it', async () => {
    // Prepare: every ListObjectsV2 costs 100 (fake) ms; 1000 ms left and the 1000 ms margin, capped at half the budget, leave 500 ms of listing.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.UTC(2026, 3, 1));
    const keys = reportKeys();
    const s3 = memoryS3Client({ keys, onList: () => vi.setSystemTime(Date.now() + 100) });
    const sink = lineSink();
    const handler = createPresignHandler({ s3Client: s3.client, write: sink.write, env: {}, deadlineMarginMs: 1000 });

    // Act: the first run.
    const first = await handler({ bucket: 'reports', prefix: 'p/', page_size: 10 }, context(1000, 'run-1'));

    // Assess: five pages listed (the deadline passes during the fifth), 17 .pdf among the 50 keys listed.
    expect(first.statusCode).toBe(200);
    const body = JSON.parse(first.body) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(cutAnswerKeys('next_start_after'));
    expect(body).toMatchObject({ count: 17, errors: 0, complete: false, next_start_after: 'p/0049.txt' });
    expect(s3.count('ListObjectsV2')).toBe(5);
    // Workers finish keys in any order; what matters is which keys the manifest holds.
    expect([...s3.manifestKeys(String(body.manifest_key))].sort()).toEqual(
      keys
        .slice(0, 50)
        .filter((k) => k.endsWith('.pdf'))
        .sort(),
    );
    expect(readCaptured(sink.lines).logs.find((l) => l.event === 'complete')).toMatchObject({
      complete: false,
      next_start_after: 'p/0049.txt',
      pages: 5,
    });

    // Act: continue with a generous budget.
    const second = await handler(
      { bucket: 'reports', prefix: 'p/', page_size: 10, start_after: body.next_start_after },
      context(900_000, 'run-2'),
    );

    // Assess: the listing resumed after p/0049.txt, and the rest came in one run.
    const secondBody = JSON.parse(second.body) as Record<string, unknown>;
    expect(Object.keys(secondBody)).toEqual(['count', 'errors', 'manifest_key', 'manifest_url', 'complete']);
    expect(secondBody).toMatchObject({ count: 100 - 17, complete: true });
    expect(s3.calls.filter((c) => c.name === 'ListObjectsV2')[5]?.input).toMatchObject({
      Prefix: 'p/',
      StartAfter: 'p/0049.txt',
      MaxKeys: 10,
    });
    const union = [...s3.manifestKeys(String(body.manifest_key)), ...s3.manifestKeys(String(secondBody.manifest_key))];
    expect(union.sort()).toEqual(keys.filter((k) => k.endsWith('.pdf')).sort());
  });

  it('chains many short runs into exactly-once coverage', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.UTC(2026, 3, 1));
    const keys = reportKeys();
    const s3 = memoryS3Client({ keys, onList: () => vi.setSystemTime(Date.now() + 100) });
    const handler = createPresignHandler({ s3Client: s3.client, write: () => {}, env: { DEADLINE_MARGIN_MS: '1000' } });
    const manifests: string[] = [];
    let startAfter: string | undefined;
    let runs = 0;
    for (;;) {
      // Budgets of 100..400 ms, half of each kept as margin: one or two pages of 7 keys a run.
      const response = await handler(
        { bucket: 'reports', prefix: 'p/', page_size: 7, start_after: startAfter },
        context(100 * (1 + (runs % 4))),
      );
      runs++;
      const body = JSON.parse(response.body) as { manifest_key: string; complete: boolean; next_start_after?: string };
      manifests.push(body.manifest_key);
      if (body.complete) break;
      expect(body.next_start_after! > (startAfter ?? '')).toBe(true);
      startAfter = body.next_start_after;
      if (runs > 200) throw new Error('no end in sight');
    }
    const union = manifests.flatMap((key) => s3.manifestKeys(key));
    expect(union.sort()).toEqual(keys.filter((k) => k.endsWith('.pdf')).sort());
    expect(runs).toBeGreaterThanOrEqual(15);
    // Every page was listed once: 300 keys in pages of 7 is 43 pages, plus at most one empty tail.
    expect(s3.count('ListObjectsV2')).toBeGreaterThanOrEqual(43);
    expect(s3.count('ListObjectsV2')).toBeLessThanOrEqual(44);
  });

  it('answers complete:true with no next_start_after when the listing ends before the deadline', async () => {
    const s3 = memoryS3Client({ keys: reportKeys() });
    const handler = createPresignHandler({ s3Client: s3.client, write: () => {}, env: {} });
    const body = JSON.parse((await handler({ bucket: 'reports', prefix: 'p/' }, context(900_000))).body) as Record<
      string,
      unknown
    >;
    expect(body).toMatchObject({ count: 100, complete: true });
    expect('next_start_after' in body).toBe(false);
  });

  it('runs without a deadline when called without a context', async () => {
    const s3 = memoryS3Client({ keys: reportKeys() });
    const handler = createPresignHandler({ s3Client: s3.client, write: () => {}, env: { DEADLINE_MARGIN_MS: '1000' } });
    const body = JSON.parse((await handler({ bucket: 'reports', prefix: 'p/', page_size: 5 })).body) as Record<
      string,
      unknown
    >;
    expect(body).toMatchObject({ count: 100, complete: true });
  });
});

describe('createSqsHandler: one deadline for the batch', () => {
  it('reports a job cut by the deadline, and the jobs it left no time for, as failures to redeliver', async () => {
    // Prepare: 1000 ms left, margin 1000 capped at half of it: the first job lists five 100 ms pages and is cut; the second finds the deadline gone.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.UTC(2026, 3, 1));
    const s3 = memoryS3Client({ keys: reportKeys(), onList: () => vi.setSystemTime(Date.now() + 100) });
    const sink = lineSink();
    const handler = createSqsHandler({ s3Client: s3.client, write: sink.write, env: {}, deadlineMarginMs: 1000 });
    const failures = vi.spyOn(BatchProcessor.prototype, 'failureHandler');

    // Act
    const response = await handler(
      sqsEvent([
        { bucket: 'reports', prefix: 'p/', page_size: 10 },
        { bucket: 'reports', prefix: 'p/' },
      ]),
      context(1000),
    );

    // Assess: both messages go back to the queue; the second made no S3 call.
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['m1', 'm2']);
    expect(s3.count('ListObjectsV2')).toBe(5);
    const logs = readCaptured(sink.lines).logs;
    expect(logs).toContainEqual(expect.objectContaining({ event: 'complete', request_id: 'm1', complete: false }));
    // The cut job's manifest is deleted: the redelivered message writes its own, so this one would be an orphan.
    const cut = logs.find((line) => line.event === 'complete' && line.request_id === 'm1');
    expect(s3.count('PutObject')).toBe(1);
    expect(s3.objects.has(String(cut?.manifest_key))).toBe(false);
    expect([...s3.objects.keys()].filter((key) => key.startsWith('manifests/'))).toEqual([]);
    expect(logs).toContainEqual(
      expect.objectContaining({ event: 'manifest_discarded', request_id: 'm1', manifest_key: cut?.manifest_key }),
    );
    expect(logs).toContainEqual(
      expect.objectContaining({
        event: 'error',
        request_id: 'm2',
        error_name: 'PresignPipelineError',
        error_code: 'DEADLINE_REACHED',
      }),
    );
    // Both failures are recorded with code DEADLINE_REACHED: the cut job's SqsJobError, the unstarted job's error.
    const errors = failures.mock.calls.map(([, error]) => error);
    expect(errors[0]).toBeInstanceOf(SqsJobError);
    expect(errors.map((e) => [e instanceof PresignPipelineError, (e as PresignPipelineError).code])).toEqual([
      [true, 'DEADLINE_REACHED'],
      [true, 'DEADLINE_REACHED'],
    ]);
  });

  it('keeps whole jobs that fit as successes', async () => {
    const s3 = memoryS3Client({ keys: reportKeys() });
    const handler = createSqsHandler({ s3Client: s3.client, write: () => {}, env: {} });
    const response = await handler(sqsEvent([{ bucket: 'reports', prefix: 'p/' }]), context(900_000));
    expect(response.batchItemFailures).toEqual([]);
  });
});
