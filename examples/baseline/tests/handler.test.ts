import { randomBytes } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { extractEmfMetrics, extractJsonLogs } from '@presign-pipeline/emf';
import { useS3Endpoint } from '@presign-pipeline/minio-testing/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import { createBaselineHandler, createHandler } from '../src/handler.js';

// The S3 endpoint the globalSetup started (see vitest.config.ts).
const s3 = useS3Endpoint();
const bucket = `baseline-${randomBytes(4).toString('hex')}`;
const prefix = '2026/04/';
const pdfs = [
  ...Array.from({ length: 23 }, (_, i) => `${prefix}report-${String(i).padStart(3, '0')}.pdf`),
  `${prefix}Quarterly Summary (final).PDF`,
];
const others = [`${prefix}notes.txt`, '2026/03/old.pdf'];
const bodyOf = (key: string): string => `%PDF-1.4 body of ${key}\n`;

function run(env: Record<string, string | undefined> = {}) {
  const lines: string[] = [];
  const handler = createBaselineHandler({
    env: { S3_ENDPOINT_URL: s3.endpoint, AWS_REGION: s3.region, ...env },
    write: (line) => lines.push(line),
  });
  return { handler, output: () => lines.join('\n') };
}

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID = s3.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = s3.credentials.secretAccessKey;
  await s3.createBucket(bucket);
  await s3.seed(
    bucket,
    [...pdfs, ...others].map((key) => ({ key, body: bodyOf(key) })),
  );
});

describe('baseline sign_pdfs on a real S3 endpoint', () => {
  it('presigns every PDF under the prefix into a manifest put once, with the seed contract', async () => {
    // Prepare: pages of 5 keys, so listing takes several sequential calls.
    const { handler, output } = run();
    // Act
    const response = await handler({ bucket, prefix, page_size: 5 });
    // Assess: the 200 body has the seed's four keys, in order.
    expect(response.statusCode).toBe(200);
    const body = JSON.parse(response.body) as {
      count: number;
      errors: number;
      manifest_key: string;
      manifest_url: string;
    };
    expect(Object.keys(body)).toEqual(['count', 'errors', 'manifest_key', 'manifest_url']);
    expect(body).toMatchObject({ count: pdfs.length, errors: 0 });
    expect(body.manifest_key).toMatch(/^manifests\/[0-9a-f-]{36}\.jsonl$/);
    // The manifest holds each PDF once, and each URL downloads its object.
    const manifest = await (await fetch(body.manifest_url)).text();
    const entries = manifest
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { key: string; url: string });
    expect(entries.map((entry) => entry.key).sort()).toEqual([...pdfs].sort());
    for (const entry of entries.slice(0, 3)) expect(await (await fetch(entry.url)).text()).toBe(bodyOf(entry.key));
    // One `complete` line and one EMF document with the five metrics; 25 keys in pages of 5 take 6 pages at most.
    const logs = extractJsonLogs(output());
    expect(logs.map((line) => line.event)).toEqual(['complete']);
    expect(logs[0]).toMatchObject({ count: pdfs.length, errors: 0 });
    const metrics = Object.fromEntries(extractEmfMetrics(output()).map((m) => [m.name, m]));
    expect(metrics.PDFsProcessed).toMatchObject({
      value: pdfs.length,
      unit: 'Count',
      namespace: 'eth/sign_pdfs',
      dimensions: { Function: 'sign_pdfs' },
    });
    expect(metrics.PresignCount?.value).toBe(pdfs.length);
    expect(metrics.S3ListPages?.value).toBe(logs[0]?.pages);
    expect(metrics.S3ListPages?.value).toBeGreaterThanOrEqual(5);
    expect(metrics.ManifestBytes).toMatchObject({ value: Buffer.byteLength(manifest), unit: 'Bytes' });
    expect(metrics.ResponseBytes).toMatchObject({ value: Buffer.byteLength(response.body), unit: 'Bytes' });
  });

  it('signs with the SDK presigner: a URL equals getSignedUrl for the same key', async () => {
    const { handler } = run();
    const response = await handler({ bucket, prefix: `${prefix}report-000`, expiry_seconds: 120 });
    const body = JSON.parse(response.body) as { manifest_url: string };
    const manifest = await (await fetch(body.manifest_url)).text();
    const first = JSON.parse(manifest.split('\n')[0] as string) as { key: string; url: string };
    // A client with the SDK's defaults, as the baseline builds it.
    const sdk = new S3Client({
      region: s3.region,
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: s3.credentials,
    });
    const expected = await getSignedUrl(sdk, new GetObjectCommand({ Bucket: bucket, Key: first.key }), {
      expiresIn: 120,
    });
    // Same clock second in both, or the next one: compare everything but the date and signature.
    const strip = (url: string) =>
      url
        .replace(/X-Amz-Date=[^&]+/, '')
        .replace(/X-Amz-Signature=[^&]+/, '')
        .replace(/X-Amz-Credential=[^&]+/, '');
    expect(strip(first.url)).toBe(strip(expected));
  });

  it('answers 400 with the bad field and an invalid_request line, before any S3 call', async () => {
    const { handler, output } = run();
    const before = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'manifests/' }));
    const response = await handler({ bucket, prefix, expiry_seconds: 604801 });
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ field: 'expiry_seconds' });
    expect(extractJsonLogs(output())).toEqual([
      expect.objectContaining({ event: 'invalid_request', field: 'expiry_seconds' }),
    ]);
    const after = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'manifests/' }));
    expect(after.KeyCount).toBe(before.KeyCount);
  });

  it('stops when the tester cancels, before storing anything, and reports progress per page', async () => {
    const controller = new AbortController();
    const progress: number[] = [];
    const lines: string[] = [];
    const handler = createHandler({
      env: { S3_ENDPOINT_URL: s3.endpoint, AWS_REGION: s3.region },
      write: (line) => lines.push(line),
      onProgress: (update) => {
        progress.push(update.pages);
        if (update.pages === 2) controller.abort();
      },
      signal: controller.signal,
    });
    const before = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'manifests/' }));
    await expect(handler({ bucket, prefix, page_size: 3 })).rejects.toMatchObject({ name: 'AbortError' });
    expect(progress).toEqual([1, 2]);
    const after = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'manifests/' }));
    expect(after.KeyCount).toBe(before.KeyCount);
  });
});
