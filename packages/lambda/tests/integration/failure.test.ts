import { HeadBucketCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { useS3Endpoint } from '@presign-pipeline/minio-testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPresignHandler } from '../../src/handler.js';
import { lineSink, readCaptured } from '../helpers/capture.js';
import {
  handlerOn,
  lambdaContext,
  listKeys,
  observedClient,
  seedReports,
  uniqueBucket,
} from '../helpers/integration.js';

const endpoint = useS3Endpoint();
const bucket = uniqueBucket('failure');
const prefix = 'reports/';

beforeAll(async () => {
  await seedReports(endpoint, bucket, prefix, 24, 0);
}, 60_000);
afterAll(() => endpoint.stop());

/** Settles within `ms` or fails the test: a failing invocation must never hang. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  return within(
    promise.then(
      () => {
        throw new Error('expected the invocation to throw');
      },
      (error: unknown) => error as Error,
    ),
    15_000,
  );
}

async function leftovers(): Promise<{ manifests: string[]; uploads: number }> {
  const manifests = await listKeys(endpoint.client, bucket, 'manifests/');
  const uploads = await endpoint.client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  return { manifests, uploads: uploads.Uploads?.length ?? 0 };
}

describe('S3 failures fail the invocation loudly, with the S3 error code as the error name', () => {
  it('NoSuchBucket: throws NoSuchBucket after an error line, publishes EMF, creates nothing', async () => {
    const missing = uniqueBucket('missing');
    const { handler, sink } = handlerOn(endpoint);
    const error = await failure(handler({ bucket: missing, prefix }, lambdaContext('req-missing')));
    expect(error.name).toBe('NoSuchBucket');

    const { logs, documents, metrics } = readCaptured(sink.lines);
    const errorLines = logs.filter((line) => line.event === 'error');
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatchObject({ request_id: 'req-missing', error_name: 'NoSuchBucket', count: 0, pages: 0 });
    expect(logs.some((line) => line.event === 'complete')).toBe(false);
    expect(documents).toHaveLength(1);
    expect(metrics.map((m) => [m.name, m.value])).toEqual([
      ['PDFsProcessed', 0],
      ['S3ListPages', 0],
      ['PresignCount', 0],
      ['ManifestBytes', 0],
    ]);
    // Nothing was created on the way: the bucket still does not exist.
    await expect(endpoint.client.send(new HeadBucketCommand({ Bucket: missing }))).rejects.toMatchObject({
      name: 'NotFound',
    });
  });

  it('throttling on a later page: throws SlowDown, the manifest upload leaves nothing behind', async () => {
    const observed = observedClient(endpoint, { ListObjectsV2: { call: 2, name: 'SlowDown' } });
    const sink = lineSink();
    const handler = createPresignHandler({ s3Client: observed.client, write: sink.write, env: {} });
    const error = await failure(handler({ bucket, prefix, page_size: 5 }, lambdaContext('req-slow')));
    expect(error.name).toBe('SlowDown');
    expect(observed.count('ListObjectsV2')).toBe(2);

    const errorLine = readCaptured(sink.lines).logs.find((line) => line.event === 'error');
    expect(errorLine).toMatchObject({ request_id: 'req-slow', error_name: 'SlowDown', pages: 1 });
    const byName = Object.fromEntries(readCaptured(sink.lines).metrics.map((m) => [m.name, m.value]));
    expect(byName.S3ListPages).toBe(1);
    expect(byName.ResponseBytes).toBeUndefined();
    expect(await leftovers()).toEqual({ manifests: [], uploads: 0 });
  });

  it('AccessDenied on the manifest upload: throws AccessDenied (not a wrapper name), leaves nothing behind', async () => {
    const observed = observedClient(endpoint, { PutObject: { call: 1, name: 'AccessDenied' } });
    const sink = lineSink();
    const handler = createPresignHandler({ s3Client: observed.client, write: sink.write, env: {} });
    const error = await failure(handler({ bucket, prefix }, lambdaContext('req-denied')));
    expect(error.name).toBe('AccessDenied');
    expect(readCaptured(sink.lines).logs.filter((line) => line.event === 'error')).toHaveLength(1);
    expect(await leftovers()).toEqual({ manifests: [], uploads: 0 });
  });

  it('the same handler succeeds on the next invocation (nothing stuck in a warm process)', async () => {
    const observed = observedClient(endpoint, { ListObjectsV2: { call: 1, name: 'AccessDenied' } });
    const handler = createPresignHandler({ s3Client: observed.client, write: () => undefined, env: {} });
    expect((await failure(handler({ bucket, prefix }, lambdaContext('first')))).name).toBe('AccessDenied');
    const response = await within(handler({ bucket, prefix }, lambdaContext('second')), 15_000);
    expect(JSON.parse(response.body)).toMatchObject({ count: 24, errors: 0 });
  });
});
