// The continuation loop on a real S3 API: a prefix of 20,000 keys presigned by a chain of deadline-cut invocations.
import type { FaultProxy } from '@presign-pipeline/minio-testing';
import { useS3Endpoint } from '@presign-pipeline/minio-testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lineSink, readCaptured } from '../helpers/capture.js';
import { cutAnswerKeys } from '../helpers/events.js';
import {
  chainManifestKeys,
  handlerThrough,
  invokeChain,
  lambdaContext,
  readText,
  seedBehindSlowListing,
  uniqueBucket,
} from '../helpers/integration.js';

const endpoint = useS3Endpoint();
const bucket = uniqueBucket('cont');
const prefix = 'bulk/';
const TOTAL = 20_000;
const PAGE_SIZE = 500;
/**
 * Every ListObjectsV2 takes at least this long (the proxy holds it back, as real S3 pages take tens of milliseconds),
 * so a run that may list for 2 s lists at most eight pages of the forty: the chain has at least five runs.
 */
const LIST_DELAY_MS = 250;
let proxy: FaultProxy;
let expectedPdfs: string[] = [];

/** Short keys (the seed rate, not the key length, is what costs); half end in .pdf, a tenth of those in .PDF. */
function keyOf(i: number): string {
  const name = i.toString(36).padStart(4, '0');
  if (i % 2 === 1) return `${prefix}${name}.txt`;
  return `${prefix}${name}${i % 20 === 0 ? '.PDF' : '.pdf'}`;
}

beforeAll(async () => {
  const keys = Array.from({ length: TOTAL }, (_, i) => keyOf(i));
  // moto stores 100 to 180 objects/s: this takes two to three minutes, once for the file.
  proxy = await seedBehindSlowListing(endpoint, bucket, keys, { concurrency: 48, delayMs: LIST_DELAY_MS });
  expectedPdfs = keys.filter((key) => key.toLowerCase().endsWith('.pdf')).sort();
}, 600_000);

afterAll(async () => {
  await proxy?.stop();
  await endpoint.stop();
});

describe('continuation on a real S3 endpoint', () => {
  it('covers 20,000 keys exactly once over a chain of deadline-cut invocations', async () => {
    // Prepare: the handler lists through the delaying proxy and signs for the endpoint itself. Each invocation is
    // told it has 3 s left with DEADLINE_MARGIN_MS=1000, so it lists for about 2 s and stops.
    const sink = lineSink();
    const { handler, observed } = handlerThrough(endpoint, proxy, {
      presigner: 'fast',
      write: sink.write,
      env: { DEADLINE_MARGIN_MS: '1000' },
    });

    // Act: invoke again and again with start_after = next_start_after until a run is complete.
    const bodies = await invokeChain(
      handler,
      { bucket, prefix, page_size: PAGE_SIZE },
      {
        cursor: { from: 'next_start_after', to: 'start_after' },
        context: (run) => lambdaContext(`run-${run}`, 3000),
        maxRuns: 200,
        onCut: (body, startAfter) => {
          expect(Object.keys(body)).toEqual(cutAnswerKeys('next_start_after'));
          const next = String(body.next_start_after);
          // The cursor never moves back, and moves forward whenever the run presigned something. (A run whose
          // deadline passes while it lists the empty tail of the prefix repeats its cursor; the next one completes.)
          expect(next.startsWith(prefix)).toBe(true);
          expect(next >= (startAfter ?? '')).toBe(true);
          if (Number(body.count) > 0) expect(next > (startAfter ?? '')).toBe(true);
        },
      },
    );

    // Assess: at least five runs, every one but the last cut short.
    expect(bodies.length).toBeGreaterThanOrEqual(5);
    expect(bodies.slice(0, -1).every((body) => body.complete === false)).toBe(true);
    expect(Object.keys(bodies.at(-1)!)).toEqual(['count', 'errors', 'manifest_key', 'manifest_url', 'complete']);

    // The union of the manifests holds every .pdf key exactly once: none twice, none missing, nothing else.
    const union = await chainManifestKeys(endpoint.client, bucket, bodies);
    expect(union).toHaveLength(expectedPdfs.length);
    expect(new Set(union).size).toBe(union.length);
    expect([...union].sort()).toEqual(expectedPdfs);
    expect(bodies.reduce((sum, body) => sum + Number(body.errors), 0)).toBe(0);

    // No page was received twice: 40 pages of 500 keys, plus at most the empty tail of a run cut right at the end,
    // plus the one request each cut run abandoned in flight at its deadline (the next run asks for that page again).
    expect(observed.count('ListObjectsV2')).toBeGreaterThanOrEqual(TOTAL / PAGE_SIZE);
    expect(observed.count('ListObjectsV2')).toBeLessThanOrEqual(TOTAL / PAGE_SIZE + 1 + (bodies.length - 1));

    // Every run logged its own complete line with the cursor it answered.
    const completeLines = readCaptured(sink.lines).logs.filter((line) => line.event === 'complete');
    expect(completeLines).toHaveLength(bodies.length);
    expect(completeLines.map((line) => line.complete)).toEqual(bodies.map((body) => body.complete));

    // The URLs work: one from the middle of the chain downloads its (empty) object.
    const middle = bodies[Math.floor(bodies.length / 2)]!;
    const firstLine = (await readText(endpoint.client, bucket, String(middle.manifest_key))).split('\n')[0] ?? '';
    const download = await fetch(new URL((JSON.parse(firstLine) as { url: string }).url));
    expect(download.status).toBe(200);
  }, 180_000);
});
