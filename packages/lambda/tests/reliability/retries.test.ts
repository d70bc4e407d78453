import type { FaultRule } from '@presign-pipeline/minio-testing';
import { useS3Endpoint } from '@presign-pipeline/minio-testing/vitest';
import { afterEach, describe, expect, it } from 'vitest';
import type { PresignHandlerOptions } from '../../src/handler.js';
import { readCaptured } from '../helpers/capture.js';
import {
  lambdaContext,
  objectsUnder,
  pdfKeys,
  readText,
  rejection,
  uniqueBucket,
  uploadsIn,
  within,
  proxiedHandler,
  useSeededProxy,
} from './helpers.js';

/**
 * How many attempts the handler's S3 clients make is the AWS SDK's `maxAttempts`: `clientConfig: { maxAttempts }`
 * on `createPresignHandler`, else the `AWS_MAX_ATTEMPTS` environment variable (read by the SDK from the process
 * environment when the client first sends), else the SDK's default of 3. Faults come from a fault proxy in front of
 * the test endpoint.
 */
const endpoint = useS3Endpoint();
const bucket = uniqueBucket('retries');
const prefix = 'reports/';
const keys = pdfKeys(prefix, 30);
const savedMaxAttempts = process.env.AWS_MAX_ATTEMPTS;

const faults = useSeededProxy(endpoint, bucket, keys);

afterEach(() => {
  if (savedMaxAttempts === undefined) delete process.env.AWS_MAX_ATTEMPTS;
  else process.env.AWS_MAX_ATTEMPTS = savedMaxAttempts;
  faults.proxy.setRules([]);
});

/** A handler whose clients talk to S3 through the proxy, with `rules` in force from now on. */
function handlerThroughProxy(rules: readonly FaultRule[], options: PresignHandlerOptions = {}) {
  return proxiedHandler(endpoint, faults.proxy, rules, options);
}

async function expectManifestOfAllKeys(body: string): Promise<void> {
  const { count, manifest_key } = JSON.parse(body) as { count: number; manifest_key: string };
  expect(count).toBe(keys.length);
  const listed = (await readText(endpoint.client, bucket, manifest_key))
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { key: string }).key);
  expect(listed.sort()).toEqual(keys);
}

describe('retries in the handler', () => {
  it("by default (the SDK's 3 attempts) two SlowDowns in a row on ListObjectsV2 are absorbed", async () => {
    delete process.env.AWS_MAX_ATTEMPTS;
    const { handler } = handlerThroughProxy([{ fault: 'slow-down', operation: 'ListObjectsV2', times: 2 }]);
    const response = await within(handler({ bucket, prefix }, lambdaContext('req-default')));
    expect(response.statusCode).toBe(200);
    expect(faults.proxy.hits.byOperation.ListObjectsV2).toBe(3);
    await expectManifestOfAllKeys(response.body);
  });

  it('AWS_MAX_ATTEMPTS=1 turns retries off: one SlowDown fails the invocation with the error named SlowDown', async () => {
    process.env.AWS_MAX_ATTEMPTS = '1';
    const { handler, sink } = handlerThroughProxy([{ fault: 'slow-down', operation: 'ListObjectsV2', times: 1 }]);
    const error = await rejection(handler({ bucket, prefix }, lambdaContext('req-env-1')));
    expect(error.name).toBe('SlowDown');
    expect(faults.proxy.hits.byOperation.ListObjectsV2).toBe(1);
    expect(readCaptured(sink.lines).logs.find((l) => l.event === 'error')).toMatchObject({
      error_name: 'SlowDown',
      request_id: 'req-env-1',
    });
  });

  it('AWS_MAX_ATTEMPTS=5 absorbs four InternalErrors in a row on PutObject', async () => {
    process.env.AWS_MAX_ATTEMPTS = '5';
    const { handler } = handlerThroughProxy([{ fault: 'internal-error', operation: 'PutObject', times: 4 }]);
    const response = await within(handler({ bucket, prefix }, lambdaContext('req-env-5')));
    expect(response.statusCode).toBe(200);
    expect(faults.proxy.hits.byOperation.PutObject).toBe(5);
    await expectManifestOfAllKeys(response.body);
  });

  it('clientConfig.maxAttempts wins over AWS_MAX_ATTEMPTS', async () => {
    process.env.AWS_MAX_ATTEMPTS = '5';
    const { handler } = handlerThroughProxy([{ fault: 'reset', operation: 'ListObjectsV2', times: 1 }], {
      clientConfig: { maxAttempts: 1 },
    });
    const error = await rejection(handler({ bucket, prefix }, lambdaContext('req-config-1')));
    expect(error.name).toBe('TimeoutError');
    expect(error.code).toBe('ECONNRESET');
    expect(faults.proxy.hits.byOperation.ListObjectsV2).toBe(1);
  });

  it('a fault that outlasts the retries fails the invocation with the S3 error code, leaving no manifest and no upload', async () => {
    const manifestsBefore = await objectsUnder(endpoint.client, bucket, 'manifests/');
    const { handler, sink } = handlerThroughProxy([{ fault: 'slow-down', operation: 'PutObject' }], {
      clientConfig: { maxAttempts: 2 },
    });
    const error = await rejection(handler({ bucket, prefix }, lambdaContext('req-persistent')));
    expect(error.name).toBe('SlowDown');
    expect(faults.proxy.hits.byOperation.PutObject).toBe(2);
    const { logs, metrics } = readCaptured(sink.lines);
    expect(logs.filter((l) => l.event === 'error')).toEqual([
      expect.objectContaining({ error_name: 'SlowDown', count: keys.length }),
    ]);
    expect(metrics.find((m) => m.name === 'ManifestBytes')?.value).toBe(0);
    expect(await objectsUnder(endpoint.client, bucket, 'manifests/')).toEqual(manifestsBefore);
    expect(await uploadsIn(endpoint.client, bucket)).toBe(0);
  });
});
