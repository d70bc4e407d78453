import { randomUUID } from 'node:crypto';
import { createS3Client, startFaultProxy, startS3Endpoint } from '@presign-pipeline/minio-testing';
import type { FaultProxy, S3Endpoint } from '@presign-pipeline/minio-testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presignPipeline } from '../../src/pipeline.js';
import { fastPresigner } from '../../src/s3/fast-presigner.js';
import { s3ListSource } from '../../src/s3/s3-list-source.js';
import { s3ManifestWriter } from '../../src/s3/s3-manifest-writer.js';
import { sdkPresigner } from '../../src/s3/sdk-presigner.js';
import { suffixFilter } from '../../src/sources/filters.js';
import { connectionsTo, duplicates, objectsUnder, parseManifest, readText, uploadsUnder, within } from './helpers.js';

/**
 * Load on one S3 endpoint: 20 pipeline runs at once, each listing the same seeded prefix and writing its own
 * manifest. All must complete, every manifest must hold every key exactly once, and the runs must not leave
 * sockets or timers behind once their clients are destroyed.
 */
const BUCKET = 'reliability-load';
const PREFIX = 'shared/';
const PDFS = 400;
const RUNS = 20;

const pdfKeys = Array.from(
  { length: PDFS },
  (_, i) => `${PREFIX}${String(Math.floor(i / 50))}/${String(i).padStart(4, '0')}.pdf`,
);
const otherKeys = Array.from({ length: 40 }, (_, i) => `${PREFIX}notes-${i}.txt`);

/** Counts of active handles by type (sockets, timers, …), as Node reports them. */
function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/** Lets closed sockets and cleared timers leave the active list. */
async function settleHandles(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('load: 20 concurrent runs on one S3 endpoint', () => {
  let s3: S3Endpoint;
  /** A transparent proxy (no rules): it keeps connections alive, as S3 does, where moto closes them. */
  let proxy: FaultProxy;

  beforeAll(async () => {
    s3 = await startS3Endpoint({ log: false });
    await s3.createBucket(BUCKET);
    await s3.seed(BUCKET, [...pdfKeys, ...otherKeys]);
    proxy = await startFaultProxy({ target: s3 });
  }, 180_000);

  afterAll(async () => {
    await proxy?.stop();
    await s3?.stop();
  });

  it('all 20 runs complete, each manifest holds every key exactly once, and no socket or timer outlives the runs', async () => {
    // Prepare: one client per run (as separate invocations would have), half signing with each presigner.
    await settleHandles();
    const port = Number(new URL(proxy.endpoint).port);
    const before = activeResources();
    const connectionsBefore = await connectionsTo(port);
    const runs = Array.from({ length: RUNS }, (_, i) => {
      const client = createS3Client({ ...s3, endpoint: proxy.endpoint }, { maxAttempts: 5 });
      const keyPrefix = `manifests/load-${i}-${randomUUID()}/`;
      return { client, keyPrefix, presigner: i % 2 === 0 ? fastPresigner({ client }) : sdkPresigner({ client }) };
    });

    // Act
    const results = await within(
      150_000,
      'the 20 runs',
      Promise.all(
        runs.map(({ client, keyPrefix, presigner }) =>
          presignPipeline({
            source: s3ListSource({
              client,
              bucket: BUCKET,
              prefix: PREFIX,
              pageSize: 100,
              filter: suffixFilter('.pdf'),
            }),
            presigner,
            manifest: s3ManifestWriter({ client, bucket: BUCKET, keyPrefix }),
            concurrency: 8,
          }),
        ),
      ),
    );
    // Each client keeps its connections alive for the next request (what a warm Lambda reuses)…
    const connectionsHeld = await connectionsTo(port);
    for (const { client } of runs) client.destroy();
    await settleHandles();
    const after = activeResources();
    const connectionsAfter = await connectionsTo(port);

    // Assess: every manifest is exact and distinct.
    const manifestKeys = new Set<string>();
    for (const [i, result] of results.entries()) {
      const run = runs[i] as (typeof runs)[number];
      expect(result).toMatchObject({ count: PDFS, errors: 0, pages: 5, complete: true });
      manifestKeys.add(result.manifest.key as string);
      expect(await objectsUnder(s3.client, BUCKET, run.keyPrefix)).toEqual([result.manifest.key]);
      expect(await uploadsUnder(s3.client, BUCKET, run.keyPrefix)).toEqual([]);
      const entries = parseManifest(await readText(s3.client, BUCKET, result.manifest.key as string));
      const keys = entries.map((e) => e.key);
      expect(duplicates(keys)).toEqual([]);
      expect(keys.sort()).toEqual([...pdfKeys].sort());
      expect(entries.every((e) => e.url.includes('X-Amz-Signature='))).toBe(true);
    }
    expect(manifestKeys.size).toBe(RUNS);
    // Nothing the runs opened is still open: no more active sockets or timers than before them, and no more
    // connections to the endpoint (idle keep-alive sockets included), once each run's client is destroyed.
    for (const type of ['TCPSocketWrap', 'Timeout']) {
      expect({ type, count: after[type] ?? 0 }).toEqual({ type, count: Math.min(after[type] ?? 0, before[type] ?? 0) });
    }
    // …and destroying it closes them: none is left.
    if (connectionsBefore !== undefined) {
      expect(connectionsBefore).toBe(0);
      expect(connectionsHeld).toBeGreaterThanOrEqual(RUNS);
      expect(connectionsAfter).toBe(0);
    }
    expect(proxy.hits.byOperation.ListObjectsV2).toBe(RUNS * 5);
  }, 180_000);
});
