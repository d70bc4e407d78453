import { randomBytes } from 'node:crypto';
import { ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { startFaultProxy, type FaultProxy } from '@presign-pipeline/minio-testing';
import { useS3Endpoint } from '@presign-pipeline/minio-testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '../src/handler.js';
import { captureStdout, lambdaContext, setEnv } from './invoke.js';

const s3 = useS3Endpoint();
const bucket = `sign-pdfs-faults-${randomBytes(4).toString('hex')}`;
const keys = Array.from({ length: 30 }, (_, i) => `2026/04/report-${i}.pdf`);
let proxy: FaultProxy;
let restoreEnv: () => void = () => undefined;

beforeAll(async () => {
  await s3.createBucket(bucket);
  await s3.seed(bucket, keys);
  // #region fault-proxy
  // A loopback proxy in front of the S3 endpoint that answers the way a busy S3 does.
  proxy = await startFaultProxy({ target: s3 });
  // #endregion fault-proxy
  restoreEnv = setEnv({
    S3_ENDPOINT_URL: proxy.endpoint,
    AWS_REGION: s3.region,
    AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    BUCKET_NAME: bucket,
    PREFIX: '2026/04/',
    ALLOWED_BUCKETS: bucket,
    ALLOWED_PREFIXES: undefined,
  });
});

afterAll(async () => {
  restoreEnv();
  await proxy?.stop();
  await s3.stop();
});

async function manifestCount(): Promise<number> {
  const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'manifests/' }));
  return listed.KeyCount ?? 0;
}

describe('sign-pdfs handler when S3 throttles', () => {
  it('rides out throttled listings through the SDK retries: the manifest is complete', async () => {
    // #region throttle-twice
    // The first two ListObjectsV2 requests get 503 SlowDown; the SDK's retries (3 attempts by default) get through.
    proxy.setRules([{ fault: 'slow-down', operation: 'ListObjectsV2', times: 2 }]);
    // #endregion throttle-twice

    const run = await captureStdout(() => handler({}, lambdaContext()));

    expect(run.error).toBeUndefined();
    expect(JSON.parse(run.result!.body)).toMatchObject({ count: keys.length, errors: 0 });
    expect(proxy.hits.rules[0]).toEqual({ matched: 3, injected: 2 });
  });

  it('fails loudly with SlowDown when S3 keeps throttling, leaving no manifest and no upload behind', async () => {
    // Prepare
    proxy.setRules([{ fault: 'slow-down', operation: 'ListObjectsV2' }]);
    const before = await manifestCount();

    // Act
    const run = await captureStdout(() => handler({}, lambdaContext('req-throttled')));

    // Assess: the error's name is S3's code, so Lambda retries it and Step Functions can catch it.
    expect(run.error?.name).toBe('SlowDown');
    expect(run.lines.map((line) => JSON.parse(line) as { event?: string })).toContainEqual(
      expect.objectContaining({ event: 'error', request_id: 'req-throttled' }),
    );
    proxy.setRules([]);
    expect(await manifestCount()).toBe(before);
    const uploads = await s3.client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    expect(uploads.Uploads ?? []).toEqual([]);
  });
});
