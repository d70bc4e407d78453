// Concurrent listing and the multipart manifest through the real AWS SDK on the S3 simulator of
// @presign-pipeline/minio-testing: S3's latency and its 503 SlowDown, which a real S3 API cannot be made to answer on
// demand, and the number of abort listeners the SDK's requests leave on our signals at high concurrency.
import { S3Client } from '@aws-sdk/client-s3';
import { startS3Simulator, type S3Simulator } from '@presign-pipeline/minio-testing';
import { afterEach, describe, expect, it } from 'vitest';
import { presignPipeline } from '../../src/pipeline.js';
import { fastPresigner } from '../../src/s3/fast-presigner.js';
import { s3ListSource } from '../../src/s3/s3-list-source.js';
import { s3ManifestWriter } from '../../src/s3/s3-manifest-writer.js';

let sim: S3Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

function clientOf(simulator: S3Simulator, maxAttempts = 3): S3Client {
  return new S3Client({
    endpoint: simulator.endpoint,
    region: simulator.region,
    forcePathStyle: true,
    maxAttempts,
    // Lambda-like temporary credentials: each URL is about 1.7 KB, so the manifest needs many parts.
    credentials: { ...simulator.credentials, sessionToken: `IQoJb3JpZ2luX2VjE${'Abc123/+='.repeat(80)}` },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Collects the process warnings emitted while `run` runs (Node emits them on the next tick). */
async function warningsDuring(run: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const onWarning = (warning: Error): void => {
    seen.push(`${warning.name}: ${warning.message}`);
  };
  process.on('warning', onWarning);
  try {
    await run();
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', onWarning);
  }
  return seen;
}

describe('listing and writing on the S3 simulator', () => {
  it('lists at concurrency 16 and uploads 6 parts at once without piling abort listeners on one signal', async () => {
    const keys = 30_000;
    sim = await startS3Simulator({
      buckets: { wide: { layout: 'flat', count: keys } },
      latencyMs: 20,
      jitterMs: 10,
      store: 'count',
    });
    const client = clientOf(sim);
    const warnings = await warningsDuring(async () => {
      for (const partitions of [
        { by: 'auto', concurrency: 16 },
        { by: 'range', boundaries: ['4', '8', 'c'], concurrency: 4 },
      ] as const) {
        const result = await presignPipeline({
          source: s3ListSource({ client, bucket: 'wide', pageSize: 500, partitions }),
          presigner: fastPresigner({ client }),
          manifest: s3ManifestWriter({ client, bucket: 'wide', partSize: 5 * 1024 * 1024, queueSize: 6 }),
        });
        expect(result).toMatchObject({ count: keys, errors: 0, complete: true });
        expect(sim!.objects('wide').get(result.manifest.key ?? '')?.lines).toBe(keys);
      }
    });
    client.destroy();
    expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
    expect(sim.uploads()).toEqual([]);
    expect(sim.counters.byOperation.UploadPart).toBeGreaterThanOrEqual(2 * 9);
  });

  it('auto listing gets every key exactly once through 503 SlowDown, which the SDK retries with backoff', async () => {
    const keys = 4_000;
    sim = await startS3Simulator({
      buckets: { hot: { layout: 'skewed', count: keys } },
      latencyMs: 2,
      jitterMs: 2,
      rateLimit: { readsPerSecond: 25 },
    });
    const client = clientOf(sim, 10);
    const seen: string[] = [];
    const source = s3ListSource({ client, bucket: 'hot', pageSize: 100, partitions: { by: 'auto', concurrency: 8 } });
    for await (const page of source.pages({ signal: new AbortController().signal })) seen.push(...page.keys);
    client.destroy();
    expect(sim.counters.throttled).toBeGreaterThan(0);
    expect(seen).toHaveLength(keys);
    expect(new Set(seen).size).toBe(keys);
  }, 60_000);
});
