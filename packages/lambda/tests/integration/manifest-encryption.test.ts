import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { useS3Endpoint } from '@presign-pipeline/minio-testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handlerOn, lambdaContext, readText, seedReports, uniqueBucket } from '../helpers/integration.js';

const endpoint = useS3Endpoint();
const bucket = uniqueBucket('sse');
const prefix = '2026/04/';
let expectedKeys: string[] = [];

beforeAll(async () => {
  expectedKeys = await seedReports(endpoint, bucket, prefix, 12, 2);
}, 60_000);
afterAll(() => endpoint.stop());

async function manifestOf(env: Record<string, string>) {
  const { handler } = handlerOn(endpoint, { env });
  const response = await handler({ bucket, prefix }, lambdaContext(`sse-${Object.keys(env).length}`));
  expect(response.statusCode).toBe(200);
  const body = JSON.parse(response.body) as { count: number; manifest_key: string };
  expect(body.count).toBe(expectedKeys.length);
  return body.manifest_key;
}

describe('manifest server-side encryption against a real S3 endpoint', () => {
  it('stores the manifest with ServerSideEncryption AES256 when MANIFEST_SSE=AES256', async () => {
    const key = await manifestOf({ MANIFEST_SSE: 'AES256' });
    const head = await endpoint.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    expect(head.ServerSideEncryption).toBe('AES256');
    // Encrypted at rest, still the full manifest when read back.
    const lines = (await readText(endpoint.client, bucket, key)).trim().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as { key: string }).key).sort()).toEqual(expectedKeys);
  });

  it('asks for no encryption when MANIFEST_SSE is not set (the bucket default applies)', async () => {
    const key = await manifestOf({});
    const head = await endpoint.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    // This bucket has no default encryption on the test endpoint, so the AES256 above came from MANIFEST_SSE.
    expect(head.ServerSideEncryption).toBeUndefined();
    expect(head.SSEKMSKeyId).toBeUndefined();
  });
});
