// A page slower than the margin, on a real S3 API: the run ends within its budget, and resumed runs cover every key
// exactly once although each run abandons the page it had in flight.
import { startFaultProxy, type FaultProxy } from '@presign-pipeline/minio-testing';
import { useS3Endpoint } from '@presign-pipeline/minio-testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPresignHandler } from '../../src/handler.js';
import { lineSink, readCaptured } from '../helpers/capture.js';
import { lambdaContext, observedClient, readText, uniqueBucket } from '../helpers/integration.js';

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
  await endpoint.createBucket(bucket);
  const keys = Array.from(
    { length: TOTAL },
    (_, i) => `${prefix}${String(i).padStart(4, '0')}.${i % 2 === 0 ? 'pdf' : 'txt'}`,
  );
  await endpoint.seed(
    bucket,
    keys.map((key) => ({ key, body: 'x' })),
    { concurrency: 16 },
  );
  expectedPdfs = keys.filter((key) => key.endsWith('.pdf')).sort();
  proxy = await startFaultProxy({
    target: endpoint,
    rules: [{ fault: 'delay', operation: 'ListObjectsV2', delayMs: LIST_DELAY_MS }],
  });
}, 120_000);

afterAll(async () => {
  await proxy?.stop();
  await endpoint.stop();
});

describe('hard deadline on a real S3 endpoint', () => {
  it('returns within the budget although a page is slower than the margin, and the chain covers every key once', async () => {
    // Prepare: listing goes through the delaying proxy; URLs are signed for the endpoint itself.
    const observed = observedClient({
      endpoint: proxy.endpoint,
      region: endpoint.region,
      credentials: endpoint.credentials,
    });
    const sink = lineSink();
    const handler = createPresignHandler({
      s3Client: observed.client,
      publicEndpoint: endpoint.endpoint,
      presigner: 'fast',
      write: sink.write,
      env: { DEADLINE_MARGIN_MS: String(MARGIN_MS) },
    });

    // Act: the continuation loop, timing each invocation.
    const bodies: Array<Record<string, unknown>> = [];
    const durations: number[] = [];
    let startAfter: string | undefined;
    for (let run = 1; ; run++) {
      const event = {
        bucket,
        prefix,
        page_size: PAGE_SIZE,
        ...(startAfter !== undefined ? { start_after: startAfter } : {}),
      };
      const started = performance.now();
      const response = await handler(event, lambdaContext(`slow-${run}`, BUDGET_MS));
      durations.push(performance.now() - started);
      expect(response.statusCode).toBe(200);
      const body = JSON.parse(response.body) as Record<string, unknown>;
      bodies.push(body);
      if (body.complete === true) break;
      startAfter = String(body.next_start_after);
      if (run > 30) throw new Error('the chain did not complete within 30 invocations');
    }

    // Assess: every invocation ended within its budget. Without the abort, a run waited for the page in flight:
    // deadline (3000 ms) + up to 1400 ms > 4000 ms.
    for (const ms of durations) expect(ms).toBeLessThan(BUDGET_MS);
    expect(bodies.length).toBeGreaterThanOrEqual(3);
    expect(bodies.slice(0, -1).every((body) => body.complete === false)).toBe(true);

    // The union of the manifests holds every .pdf key exactly once.
    const union: string[] = [];
    for (const body of bodies) {
      const text = await readText(endpoint.client, bucket, String(body.manifest_key));
      const keys = text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => (JSON.parse(line) as { key: string }).key);
      expect(keys).toHaveLength(Number(body.count));
      union.push(...keys);
    }
    expect(union).toHaveLength(expectedPdfs.length);
    expect([...union].sort()).toEqual(expectedPdfs);

    // Each cut run abandoned one request in flight, which the next run asked for again.
    const cut = bodies.length - 1;
    expect(observed.count('ListObjectsV2')).toBeLessThanOrEqual(TOTAL / PAGE_SIZE + 1 + cut);
    const lines = readCaptured(sink.lines).logs.filter((line) => line.event === 'complete');
    expect(lines.map((line) => line.complete)).toEqual(bodies.map((body) => body.complete));
  }, 120_000);
});
