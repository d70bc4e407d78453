// A page slower than the margin, on a real S3 API: the run ends within its budget, and resumed runs cover every key
// exactly once although each run abandons the page it had in flight.
import type { FaultProxy } from '@presign-pipeline/minio-testing';
import { useS3Endpoint } from '@presign-pipeline/minio-testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PresignHandler } from '../../src/handler.js';
import { lineSink, readCaptured } from '../helpers/capture.js';
import {
  chainManifestKeys,
  handlerThrough,
  invokeChain,
  lambdaContext,
  seedBehindSlowListing,
  uniqueBucket,
} from '../helpers/integration.js';

const endpoint = useS3Endpoint();
const bucket = uniqueBucket('hard-deadline');
const prefix = 'slow/';
const TOTAL = 120;
const PAGE_SIZE = 20;
/** Every ListObjectsV2 is held back longer than the margin below: the page in flight at the deadline cannot finish in time. */
const LIST_DELAY_MS = 1400;
const MARGIN_MS = 1000;
/** Each invocation is told this much is left: a deadline 3000 ms in, then the margin for the tail. */
const BUDGET_MS = 4000;
let proxy: FaultProxy;
let expectedPdfs: string[] = [];

beforeAll(async () => {
  const keys = Array.from(
    { length: TOTAL },
    (_, i) => `${prefix}${String(i).padStart(4, '0')}.${i % 2 === 0 ? 'pdf' : 'txt'}`,
  );
  proxy = await seedBehindSlowListing(endpoint, bucket, keys, { concurrency: 16, delayMs: LIST_DELAY_MS });
  expectedPdfs = keys.filter((key) => key.endsWith('.pdf')).sort();
}, 120_000);

afterAll(async () => {
  await proxy?.stop();
  await endpoint.stop();
});

describe('hard deadline on a real S3 endpoint', () => {
  it('returns within the budget although a page is slower than the margin, and the chain covers every key once', async () => {
    // Prepare: listing goes through the delaying proxy; URLs are signed for the endpoint itself.
    const sink = lineSink();
    const { handler, observed } = handlerThrough(endpoint, proxy, {
      presigner: 'fast',
      write: sink.write,
      env: { DEADLINE_MARGIN_MS: String(MARGIN_MS) },
    });
    const durations: number[] = [];
    const timed: PresignHandler = async (event, context) => {
      const started = performance.now();
      try {
        return await handler(event, context);
      } finally {
        durations.push(performance.now() - started);
      }
    };

    // Act: the continuation loop, timing each invocation.
    const bodies = await invokeChain(
      timed,
      { bucket, prefix, page_size: PAGE_SIZE },
      {
        cursor: { from: 'next_start_after', to: 'start_after' },
        context: (run) => lambdaContext(`slow-${run}`, BUDGET_MS),
        maxRuns: 30,
      },
    );

    // Assess: every invocation ended within its budget. Without the abort, a run waited for the page in flight:
    // deadline (3000 ms) + up to 1400 ms > 4000 ms.
    for (const ms of durations) expect(ms).toBeLessThan(BUDGET_MS);
    expect(bodies.length).toBeGreaterThanOrEqual(3);
    expect(bodies.slice(0, -1).every((body) => body.complete === false)).toBe(true);

    // The union of the manifests holds every .pdf key exactly once.
    const union = await chainManifestKeys(endpoint.client, bucket, bodies);
    expect(union).toHaveLength(expectedPdfs.length);
    expect([...union].sort()).toEqual(expectedPdfs);

    // Each cut run abandoned one request in flight, which the next run asked for again.
    const cut = bodies.length - 1;
    expect(observed.count('ListObjectsV2')).toBeLessThanOrEqual(TOTAL / PAGE_SIZE + 1 + cut);
    const lines = readCaptured(sink.lines).logs.filter((line) => line.event === 'complete');
    expect(lines.map((line) => line.complete)).toEqual(bodies.map((body) => body.complete));
  }, 120_000);
});
