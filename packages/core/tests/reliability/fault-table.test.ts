import { readFileSync, writeFileSync } from 'node:fs';
import type { FaultRule } from '@presign-pipeline/minio-testing';
import { describe, expect, it } from 'vitest';
import { DOC_PATH, OUTCOMES_PATH, renderFaultTable, withFaultTable } from '../../../../scripts/fault-table.mjs';
import type { FaultRow, SeenOutcome } from '../../../../scripts/fault-table.mjs';
import { expectExactManifest, expectFailureLeavingNothing, runThroughProxy, useSeededTarget } from './harness.js';
import type { RunOutcome } from './harness.js';
import { objectsUnder, uploadsUnder } from './helpers.js';

/**
 * One run per failure class and the way it happens, over a real S3 API (moto or MinIO behind the fault proxy): the
 * fault once, then on every attempt. Each run asserts its outcome (an exact manifest, or a loud failure with the
 * expected name and code, and nothing left behind: no open multipart upload, no object), and records what the caller
 * saw. The last test compares the record with packages/core/tests/reliability/fault-outcomes.json and the fault
 * table of docs/reliability.md rendered from it: `npm run docs:faults` rewrites both from a fresh run.
 */
const BUCKET = 'reliability-fault-table';
const PREFIX = 'seeded/';
const SEEDED = 600;
/** Ten ListObjectsV2 pages; listing faults hit the third. */
const PAGE_SIZE = 64;
const MULTIPART = 12_000;
const SINGLE = 300;
const MAX_ATTEMPTS = 2;
const STALL_MS = 60_000;
const TIMEOUT_MS = 120_000;
const UPDATE = process.env.FAULT_TABLE_UPDATE === '1';

const keys = Array.from({ length: SEEDED }, (_, i) => `${PREFIX}${String(i).padStart(4, '0')}.pdf`);
const onPage3 = { operation: 'ListObjectsV2', after: 2 } as const;

interface FaultClass {
  readonly class: string;
  readonly injected: string;
  readonly rule: FaultRule;
  readonly urlBytes: number;
  /** What the caller must see when the fault persists. */
  readonly expected: { readonly name: string; readonly code?: string };
  /** True when one occurrence already fails the run (the write is not retried). */
  readonly onceFails?: boolean;
}

const CLASSES: readonly FaultClass[] = [
  {
    class: 'throttling',
    injected: 'ListObjectsV2 (page 3): 503 SlowDown',
    rule: { fault: 'slow-down', ...onPage3 },
    urlBytes: SINGLE,
    expected: { name: 'SlowDown' },
  },
  {
    class: '5xx',
    injected: 'ListObjectsV2 (page 3): 500 InternalError',
    rule: { fault: 'internal-error', ...onPage3 },
    urlBytes: SINGLE,
    expected: { name: 'InternalError' },
  },
  {
    class: 'reset',
    injected: 'ListObjectsV2 (page 3): connection reset before any answer',
    rule: { fault: 'reset', ...onPage3 },
    urlBytes: SINGLE,
    expected: { name: 'TimeoutError', code: 'ECONNRESET' },
  },
  {
    class: 'reset mid-answer',
    injected: 'ListObjectsV2 (page 3): S3 answers, the body is cut off halfway',
    rule: { fault: 'truncate', ...onPage3 },
    urlBytes: SINGLE,
    expected: { name: 'Error', code: 'ECONNRESET' },
  },
  {
    class: 'timeout',
    injected: 'ListObjectsV2 (page 3): no answer for longer than socketTimeout (2 s)',
    rule: { fault: 'delay', delayMs: STALL_MS, ...onPage3 },
    urlBytes: SINGLE,
    expected: { name: 'TimeoutError' },
  },
  {
    class: 'malformed or foreign 2xx body',
    injected: 'ListObjectsV2 (page 3): 200 with an HTML gateway page',
    rule: { fault: 'foreign-body', ...onPage3 },
    urlBytes: SINGLE,
    expected: { name: 'PresignPipelineError', code: 'MALFORMED_RESPONSE' },
  },
  {
    class: 'malformed or foreign 2xx body',
    injected: 'ListObjectsV2 (page 3): 200 with an empty body',
    rule: { fault: 'empty-body', ...onPage3 },
    urlBytes: SINGLE,
    expected: { name: 'PresignPipelineError', code: 'MALFORMED_RESPONSE' },
  },
  {
    class: 'malformed or foreign 2xx body',
    injected: 'ListObjectsV2 (page 3): 200 with foreign XML',
    rule: {
      fault: 'foreign-body',
      body: '<?xml version="1.0" encoding="UTF-8"?>\n<Status><Healthy>true</Healthy></Status>',
      ...onPage3,
    },
    urlBytes: SINGLE,
    expected: { name: 'PresignPipelineError', code: 'MALFORMED_RESPONSE' },
  },
  {
    class: 'malformed or foreign 2xx body',
    injected: 'ListObjectsV2 (page 3): 200 with malformed XML',
    rule: {
      fault: 'foreign-body',
      body: '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult><Name>x</Nam',
      ...onPage3,
    },
    urlBytes: SINGLE,
    expected: { name: 'PresignPipelineError', code: 'MALFORMED_RESPONSE' },
  },
  {
    class: 'missing object after write',
    injected: 'PutObject: 200 with an empty body (no ETag), never forwarded to S3',
    rule: { fault: 'empty-body', operation: 'PutObject' },
    urlBytes: SINGLE,
    expected: { name: 'PresignPipelineError', code: 'MANIFEST_WRITE_FAILED' },
    onceFails: true,
  },
  {
    class: 'missing object after write',
    injected: 'CompleteMultipartUpload: 200 with an HTML gateway page, never forwarded to S3',
    rule: { fault: 'foreign-body', operation: 'CompleteMultipartUpload' },
    urlBytes: MULTIPART,
    expected: { name: 'PresignPipelineError', code: 'MANIFEST_WRITE_FAILED' },
    onceFails: true,
  },
  {
    class: 'lost answer after the fact',
    injected: 'CreateMultipartUpload: S3 creates the upload, the answer is cut off halfway',
    rule: { fault: 'truncate', operation: 'CreateMultipartUpload' },
    urlBytes: MULTIPART,
    expected: { name: 'Error', code: 'ECONNRESET' },
  },
];

/** Volatile parts of messages (ids, tokens) replaced by placeholders, so the record only changes when behaviour does. */
function normalise(message: string): string {
  return message
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>')
    .replace(/continuation token "[^"]*"/g, 'continuation token "<token>"')
    .split('\n', 1)[0] as string;
}

function seen(run: RunOutcome): SeenOutcome {
  if (run.outcome.ok) return { ok: true };
  const error = run.outcome.error as Error & { code?: unknown; $metadata?: { attempts?: number } };
  const line = run.logs.find((l) => l.event === 'error') ?? {};
  const log: Record<string, unknown> = { event: line.event, error_name: line.error_name };
  if (line.error_code !== undefined) log.error_code = line.error_code;
  return {
    ok: false,
    name: error.name,
    ...(typeof error.code === 'string' ? { code: error.code } : {}),
    ...(error.$metadata?.attempts !== undefined ? { attempts: error.$metadata.attempts } : {}),
    message: normalise(error.message),
    log,
  };
}

describe('the fault table: every failure class, once and on every attempt', () => {
  const seeded = useSeededTarget(BUCKET, PREFIX, keys);
  const observed: FaultRow[] = [];

  it.each(CLASSES.map((c, i) => [c.class, c.injected, i] as const))(
    '%s — %s',
    async (_class, _injected, index) => {
      const fault = CLASSES[index] as FaultClass;
      const options = { maxAttempts: MAX_ATTEMPTS, urlBytes: fault.urlBytes, pageSize: PAGE_SIZE };

      // Act: once, then on every attempt.
      const once = await runThroughProxy(seeded.target, [{ ...fault.rule, times: 1 }], options);
      const persistent = await runThroughProxy(seeded.target, [fault.rule], options);

      // Assess: once is absorbed (or, for a write, fails loudly); persistent fails loudly; nothing is left either way.
      if (fault.onceFails) {
        expect(await expectFailureLeavingNothing(seeded.target, once)).toMatchObject(fault.expected);
      } else {
        await expectExactManifest(seeded.target, once);
      }
      const error = await expectFailureLeavingNothing(seeded.target, persistent);
      expect(error).toMatchObject(fault.expected);
      expect(persistent.logs.find((l) => l.event === 'error')).toMatchObject({ error_name: fault.expected.name });
      if (fault.rule.operation === 'ListObjectsV2')
        expect(persistent.hits.byOperation.ListObjectsV2).toBe(2 + MAX_ATTEMPTS);
      const uploads = await uploadsUnder(seeded.target.s3.client, BUCKET, persistent.keyPrefix);
      const objects = await objectsUnder(seeded.target.s3.client, BUCKET, persistent.keyPrefix);
      observed[index] = {
        class: fault.class,
        injected: fault.injected,
        once: seen(once),
        persistent: seen(persistent),
        leftBehind:
          uploads.length === 0 && objects.length === 0
            ? 'nothing: no upload open, no object'
            : `${uploads.length} uploads, ${objects.length} objects`,
      };
    },
    TIMEOUT_MS,
  );

  it('docs/reliability.md shows exactly what these runs observed (npm run docs:faults rewrites it)', () => {
    expect(observed.filter(Boolean), 'every class ran').toHaveLength(CLASSES.length);
    if (UPDATE) writeFileSync(OUTCOMES_PATH, `${JSON.stringify({ rows: observed }, null, 2)}\n`);
    const committed = JSON.parse(readFileSync(OUTCOMES_PATH, 'utf8')) as { rows: FaultRow[] };
    expect(observed, 'fault-outcomes.json differs from what the runs observed: run `npm run docs:faults`').toEqual(
      committed.rows,
    );
    if (UPDATE) return; // npm run docs:faults renders the table from the file just written, next.
    const doc = readFileSync(DOC_PATH, 'utf8');
    expect(
      withFaultTable(doc, renderFaultTable(committed.rows)),
      'the table in docs/reliability.md is stale: run `npm run docs:faults`',
    ).toBe(doc);
  });
});
