import { randomBytes } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { useS3Endpoint } from '@presign-pipeline/minio-testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '../src/handler.js';
import { captureStdout, lambdaContext, setEnv } from './invoke.js';
import { job, sqsEvent } from './sqs-event.js';

const s3 = useS3Endpoint();
const bucket = `sqs-batch-${randomBytes(4).toString('hex')}`;
const missingBucket = `sqs-batch-missing-${randomBytes(4).toString('hex')}`;
const aKeys = ['jobs/a/1.pdf', 'jobs/a/2.PDF', 'jobs/a/3.pdf'];
const bKeys = ['jobs/b/1.pdf', 'jobs/b/2.pdf'];
let restoreEnv: () => void;

beforeAll(async () => {
  await s3.createBucket(bucket);
  await s3.seed(bucket, [...aKeys, ...bKeys, 'jobs/a/readme.txt']);
  restoreEnv = setEnv({
    S3_ENDPOINT_URL: s3.endpoint,
    AWS_REGION: s3.region,
    AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    AWS_SESSION_TOKEN: undefined,
    BUCKET_NAME: bucket,
    PREFIX: 'jobs/',
    // The template allows one bucket; the missing one is allowed here so its job reaches S3 and fails there.
    ALLOWED_BUCKETS: `${bucket},${missingBucket}`,
    ALLOWED_PREFIXES: 'jobs/',
  });
});

afterAll(async () => {
  restoreEnv?.();
  await s3.stop();
});

async function manifests(): Promise<string[]> {
  const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'manifests/' }));
  return (listed.Contents ?? []).map((object) => object.Key!);
}

async function manifestKeys(key: string): Promise<string[]> {
  const object = await s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const text = await object.Body!.transformToString('utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => (JSON.parse(line) as { key: string }).key)
    .sort();
}

const ids = (failures: Array<{ itemIdentifier: string }>): string[] => failures.map((f) => f.itemIdentifier).sort();

describe('sqs-batch handler (ReportBatchItemFailures on a real S3 API)', () => {
  it('names only the failed messages in batchItemFailures, and runs every good job', async () => {
    // Prepare: two good jobs and one of each way a message can fail.
    const before = await manifests();
    const event = sqsEvent([
      job('good-a', { prefix: 'jobs/a/' }),
      { messageId: 'bad-json', body: 'presign jobs/a/ please' },
      job('bad-expiry', { prefix: 'jobs/a/', expiry_seconds: -5 }),
      job('good-b', { bucket, prefix: 'jobs/b/', expiry_seconds: 60 }),
      job('forbidden-bucket', { bucket: 'someone-elses-bucket' }),
      job('missing-bucket', { bucket: missingBucket, prefix: 'jobs/' }),
    ]);

    // Act
    const run = await captureStdout(() => handler(event, lambdaContext()));

    // Assess: the batch never throws; it lists exactly the four bad messages.
    expect(run.error).toBeUndefined();
    expect(ids(run.result!.batchItemFailures)).toEqual([
      'bad-expiry',
      'bad-json',
      'forbidden-bucket',
      'missing-bucket',
    ]);

    // The good jobs ran: one new manifest each, holding their prefix's .pdf keys.
    const created = (await manifests()).filter((key) => !before.includes(key));
    expect(created).toHaveLength(2);
    const contents = (await Promise.all(created.map(manifestKeys))).sort((x, y) => x.length - y.length);
    expect(contents).toEqual([[...bKeys].sort(), [...aKeys].sort()]);

    // Each job logs under its message id, so a failure can be traced to its message.
    const logs = run.lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((l) => typeof l.event === 'string');
    expect(logs).toContainEqual(
      expect.objectContaining({ event: 'complete', request_id: 'good-a', count: aKeys.length }),
    );
    expect(logs).toContainEqual(
      expect.objectContaining({ event: 'complete', request_id: 'good-b', count: bKeys.length }),
    );
    expect(logs).toContainEqual(
      expect.objectContaining({ event: 'invalid_request', request_id: 'bad-json', field: 'body' }),
    );
    expect(logs).toContainEqual(
      expect.objectContaining({ event: 'invalid_request', request_id: 'bad-expiry', field: 'expiry_seconds' }),
    );
    expect(logs).toContainEqual(
      expect.objectContaining({ event: 'forbidden_request', request_id: 'forbidden-bucket', field: 'bucket' }),
    );
    expect(logs).toContainEqual(expect.objectContaining({ event: 'error', request_id: 'missing-bucket' }));
  });

  it('answers an empty failure list when every job succeeds', async () => {
    const run = await captureStdout(() =>
      handler(sqsEvent([job('only-a', { prefix: 'jobs/a/' }), job('only-b', { prefix: 'jobs/b/' })]), lambdaContext()),
    );
    expect(run.error).toBeUndefined();
    expect(run.result).toEqual({ batchItemFailures: [] });
  });

  it('lists every message, rather than throwing, when the whole batch fails', async () => {
    const run = await captureStdout(() =>
      handler(
        sqsEvent([{ messageId: 'x1', body: '[]' }, { messageId: 'x2', body: '{' }, job('x3', { page_size: 5000 })]),
        lambdaContext(),
      ),
    );
    expect(run.error).toBeUndefined();
    expect(ids(run.result!.batchItemFailures)).toEqual(['x1', 'x2', 'x3']);
  });
});
