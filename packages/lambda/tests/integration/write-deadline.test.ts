// A stalled manifest write on a real S3 API: the invocation answers before its end with a coded error, and leaves
// neither a multipart upload nor a manifest behind.
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { startFaultProxy, type FaultProxy } from '@presign-pipeline/minio-testing';
import { useS3Endpoint } from '@presign-pipeline/minio-testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBatchHandler } from '../../src/batch.js';
import { lineSink, readCaptured } from '../helpers/capture.js';
import { handlerThrough, lambdaContext, listKeys, observedClient, uniqueBucket } from '../helpers/integration.js';

const endpoint = useS3Endpoint();
const bucket = uniqueBucket('write-deadline');
/** Few short keys: the manifest goes up with one PutObject. */
const small = 'small/';
/** Keys long enough that their manifest passes one 5 MiB part: it goes up as a multipart upload. */
const large = 'large/';
const LARGE_KEYS = 2400;
/** Far longer than any budget below: without a hard stop the invocation would wait for it. */
const DELAY_MS = 20_000;
let proxy: FaultProxy;

beforeAll(async () => {
  await endpoint.createBucket(bucket);
  const smallKeys = ['a', 'b', 'c'].map((name) => ({ key: `${small}${name}.pdf`, body: 'x' }));
  const largeKeys = Array.from({ length: LARGE_KEYS }, (_, i) => ({
    key: `${large}${String(i).padStart(5, '0')}-${'x'.repeat(1000)}.pdf`,
    body: 'x',
  }));
  await endpoint.seed(bucket, [...smallKeys, ...largeKeys], { concurrency: 16 });
  proxy = await startFaultProxy({ target: endpoint });
}, 180_000);

afterAll(async () => {
  await proxy?.stop();
  await endpoint.stop();
});

/** Invokes the handler through the proxy with `budgetMs` left; what it answered, how long it took and what it wrote. */
async function invokeStalled(prefix: string, budgetMs: number) {
  const sink = lineSink();
  const { handler } = handlerThrough(endpoint, proxy, {
    presigner: 'fast',
    write: sink.write,
    // 128 MB: the handler writes 5 MiB parts, so the large prefix's manifest takes several.
    env: { DEADLINE_MARGIN_MS: '1000', AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128' },
  });
  const started = performance.now();
  const outcome = await handler({ bucket, prefix }, lambdaContext(`stalled-${prefix}`, budgetMs)).then(
    (response) => ({ response, error: undefined }),
    (error: unknown) => ({ response: undefined, error: error as Error & { code?: string } }),
  );
  return { ...outcome, elapsedMs: performance.now() - started, ...readCaptured(sink.lines) };
}

async function leftovers(): Promise<{ manifests: string[]; uploads: number }> {
  const manifests = await listKeys(endpoint.client, bucket, 'manifests/');
  const uploads = await endpoint.client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  return { manifests, uploads: uploads.Uploads?.length ?? 0 };
}

describe('a stalled manifest write never outlives the invocation', () => {
  it.each([
    { operation: 'PutObject', prefix: small, phase: 'request', budgetMs: 3000 },
    { operation: 'PutObject', prefix: small, phase: 'response', budgetMs: 3000 },
    { operation: 'UploadPart', prefix: large, phase: 'request', budgetMs: 8000 },
  ] as const)(
    '$operation held $phase-side: a coded error within the budget, logged and measured, nothing left behind',
    async ({ operation, prefix, phase, budgetMs }) => {
      // Prepare: the write request (or its answer) is held far longer than the budget.
      proxy.setRules([{ fault: 'delay', operation, phase, delayMs: DELAY_MS }]);

      // Act
      const { response, error, elapsedMs, logs, documents } = await invokeStalled(prefix, budgetMs);
      proxy.setRules([]);

      // Assess: answered well before the held request would have been (a generous bound, not a timing check).
      expect(response).toBeUndefined();
      expect(error?.code).toBe('MANIFEST_WRITE_FAILED');
      expect(error?.message).toMatch(/stopped by its signal/);
      expect(elapsedMs).toBeLessThan(budgetMs * 2);
      const errorLines = logs.filter((line) => line.event === 'error');
      expect(errorLines).toHaveLength(1);
      expect(logs.some((line) => line.event === 'complete')).toBe(false);
      expect(documents).toHaveLength(1);
      expect(await leftovers()).toEqual({ manifests: [], uploads: 0 });
    },
    60_000,
  );

  it('a batch whose part PutObject is held fails with a coded error within the budget', async () => {
    // Prepare
    proxy.setRules([{ fault: 'delay', operation: 'PutObject', delayMs: DELAY_MS }]);
    const sink = lineSink();
    const observed = observedClient({
      endpoint: proxy.endpoint,
      region: endpoint.region,
      credentials: endpoint.credentials,
    });
    const handler = createBatchHandler({ s3Client: observed.client, write: sink.write, presigner: 'fast', env: {} });
    const Items = ['a', 'b', 'c'].map((name) => ({
      Key: `${small}${name}.pdf`,
      Etag: '"e"',
      LastModified: 0,
      Size: 1,
      StorageClass: 'STANDARD',
    }));
    const budgetMs = 3000;

    // Act
    const started = performance.now();
    const error = await handler(
      { Items, BatchInput: { bucket, run: 'held' } },
      lambdaContext('batch-held', budgetMs),
    ).then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string },
    );
    const elapsedMs = performance.now() - started;
    proxy.setRules([]);

    // Assess
    expect(error?.code).toBe('MANIFEST_WRITE_FAILED');
    expect(elapsedMs).toBeLessThan(budgetMs * 2);
    const { logs, documents } = readCaptured(sink.lines);
    expect(logs.filter((line) => line.event === 'error')).toHaveLength(1);
    expect(logs.some((line) => line.event === 'batch_complete')).toBe(false);
    expect(documents).toHaveLength(1);
    expect(observed.count('PutObject')).toBe(1);
  }, 60_000);
});
