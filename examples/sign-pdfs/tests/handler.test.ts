import { randomBytes } from 'node:crypto';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { extractEmfMetrics, extractJsonLogs } from '@presign-pipeline/emf';
import { useS3Endpoint } from '@presign-pipeline/minio-testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '../src/handler.js';
import { captureStdout, lambdaContext, setEnv } from './invoke.js';

// #region endpoint
// The S3 endpoint the globalSetup started (see vitest.config.ts); the handler reaches it through S3_ENDPOINT_URL.
const s3 = useS3Endpoint();
// #endregion endpoint
const bucket = `sign-pdfs-${randomBytes(4).toString('hex')}`;
const prefix = '2026/04/';

/** What the seeded bucket holds: `expected` are the keys the handler must presign. */
const pdfs = [
  `${prefix}report-0001.pdf`,
  `${prefix}report-0002.pdf`,
  `${prefix}Quarterly Summary (final).PDF`,
  `${prefix}déjà vu + more=fun.pdf`,
  `${prefix}nested/deeper/report-0003.Pdf`,
  ...Array.from({ length: 15 }, (_, i) => `${prefix}bulk/report-${String(i).padStart(3, '0')}.pdf`),
];
const subPrefixPdfs = pdfs.filter((key) => key.startsWith(`${prefix}bulk/`));
const notPdfs = [`${prefix}notes.txt`, `${prefix}report-0001.pdf.bak`, `${prefix}image.png`];
const outside = ['2026/03/old.pdf', '2026/04-drafts/draft.pdf'];
const bodyOf = (key: string): string => `%PDF-1.4 sample body of ${key}\n`;

let restoreEnv: () => void;

beforeAll(async () => {
  // #region seed
  await s3.createBucket(bucket);
  await s3.seed(
    bucket,
    [...pdfs, ...notPdfs, ...outside].map((key) => ({ key, body: bodyOf(key) })),
  );
  // The environment the SAM template gives the function, pointed at the local endpoint.
  restoreEnv = setEnv({
    S3_ENDPOINT_URL: s3.endpoint,
    AWS_REGION: s3.region,
    AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    AWS_SESSION_TOKEN: undefined,
    BUCKET_NAME: bucket,
    PREFIX: prefix,
    URL_EXPIRY_SECONDS: '900',
    ALLOWED_BUCKETS: bucket,
    ALLOWED_PREFIXES: prefix,
  });
  // #endregion seed
});

afterAll(async () => {
  restoreEnv?.();
  await s3.stop();
});

interface Body {
  count: number;
  errors: number;
  manifest_key: string;
  manifest_url: string;
}

async function manifestCount(): Promise<number> {
  const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'manifests/' }));
  return listed.KeyCount ?? 0;
}

async function readManifest(url: string): Promise<{ text: string; entries: Array<{ key: string; url: string }> }> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  const text = await response.text();
  const entries = text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as { key: string; url: string });
  return { text, entries };
}

describe('sign-pdfs handler (the documented handler on a real S3 API)', () => {
  it('presigns every .pdf under PREFIX and answers with the reference contract', async () => {
    // Prepare
    const context = lambdaContext('req-sign-pdfs-1');

    // Act: an empty event, so bucket, prefix and expiry come from the environment.
    const run = await captureStdout(() => handler({}, context));

    // Assess: the response, field by field
    expect(run.error).toBeUndefined();
    const response = run.result!;
    expect(response.statusCode).toBe(200);
    const body = JSON.parse(response.body) as Body;
    // The reference's four keys come first, in its order (continuation fields may follow).
    expect(Object.keys(body).slice(0, 4)).toEqual(['count', 'errors', 'manifest_key', 'manifest_url']);
    expect(body.count).toBe(pdfs.length);
    expect(body.errors).toBe(0);
    expect(body.manifest_key).toMatch(/^manifests\/[0-9a-f-]{36}\.jsonl$/);

    // The manifest: one line per .pdf key (any case), nothing else, each URL downloads its object.
    const { text, entries } = await readManifest(body.manifest_url);
    expect(entries.map((entry) => entry.key).sort()).toEqual([...pdfs].sort());
    for (const entry of entries.filter((e) => /Quarterly|déjà|nested/.test(e.key))) {
      const object = await fetch(entry.url);
      expect(object.status).toBe(200);
      expect(await object.text()).toBe(bodyOf(entry.key));
    }
    expect(new URL(entries[0]!.url).searchParams.get('X-Amz-Expires')).toBe('900');

    // The structured logs: the `complete` line, and never a presigned URL in any line.
    const logs = extractJsonLogs(run.lines.join('\n'));
    const complete = logs.find((line) => line.event === 'complete');
    expect(complete).toMatchObject({ request_id: 'req-sign-pdfs-1', count: pdfs.length, errors: 0 });
    expect(complete?.pages).toBeGreaterThanOrEqual(1);
    expect(typeof complete?.duration_ms).toBe('number');
    for (const line of run.lines) expect(line).not.toMatch(/X-Amz-Signature|X-Amz-Credential/);

    // The EMF document: one per invocation, the reference's namespace, dimension and metrics.
    const metrics = extractEmfMetrics(run.lines.join('\n'));
    const value = (name: string) => metrics.find((m) => m.name === name);
    expect(new Set(metrics.map((m) => m.namespace))).toEqual(new Set(['eth/sign_pdfs_optimized']));
    expect(value('PDFsProcessed')).toMatchObject({
      value: pdfs.length,
      unit: 'Count',
      dimensions: { Function: 'sign_pdfs_optimized' },
    });
    expect(value('PresignCount')?.value).toBe(pdfs.length);
    expect(value('S3ListPages')?.value).toBe(complete?.pages);
    expect(value('ManifestBytes')).toMatchObject({ value: Buffer.byteLength(text, 'utf8'), unit: 'Bytes' });
    expect(value('ResponseBytes')).toMatchObject({ value: Buffer.byteLength(response.body, 'utf8'), unit: 'Bytes' });
  });

  it('lets the event narrow the prefix, the page size and the URL lifetime', async () => {
    // Act
    const run = await captureStdout(() =>
      handler({ prefix: `${prefix}bulk/`, page_size: 4, expiry_seconds: '120' }, lambdaContext('req-sign-pdfs-2')),
    );

    // Assess
    expect(run.result?.statusCode).toBe(200);
    const body = JSON.parse(run.result!.body) as Body;
    expect(body.count).toBe(subPrefixPdfs.length);
    const { entries } = await readManifest(body.manifest_url);
    expect(entries.map((e) => e.key).sort()).toEqual([...subPrefixPdfs].sort());
    expect(new URL(entries[0]!.url).searchParams.get('X-Amz-Expires')).toBe('120');
    const complete = extractJsonLogs(run.lines.join('\n')).find((line) => line.event === 'complete');
    // 15 keys listed 4 to a page.
    expect(complete?.pages).toBe(Math.ceil(subPrefixPdfs.length / 4));
  });

  it('answers 400 naming the field for a bad event, and writes nothing', async () => {
    // Prepare
    const before = await manifestCount();

    // Act
    const run = await captureStdout(() => handler({ expiry_seconds: 604_801 }, lambdaContext()));

    // Assess
    expect(run.result?.statusCode).toBe(400);
    expect(JSON.parse(run.result!.body)).toMatchObject({ field: 'expiry_seconds' });
    expect(extractJsonLogs(run.lines.join('\n'))).toContainEqual(
      expect.objectContaining({ event: 'invalid_request', field: 'expiry_seconds' }),
    );
    expect(await manifestCount()).toBe(before);
  });

  it('answers 403 for a bucket outside ALLOWED_BUCKETS without calling S3', async () => {
    // Act: the bucket does not exist; had the handler listed it, S3 would have answered NoSuchBucket.
    const run = await captureStdout(() => handler({ bucket: 'someone-elses-bucket' }, lambdaContext()));

    // Assess
    expect(run.error).toBeUndefined();
    expect(run.result?.statusCode).toBe(403);
    expect(JSON.parse(run.result!.body)).toMatchObject({ field: 'bucket' });
  });

  it('fails loudly with the S3 error code when the bucket is missing', async () => {
    // Prepare: allow a bucket that does not exist.
    const missing = `missing-${randomBytes(4).toString('hex')}`;
    const restore = setEnv({ ALLOWED_BUCKETS: `${bucket},${missing}` });

    // Act
    const run = await captureStdout(() => handler({ bucket: missing }, lambdaContext('req-missing')));
    restore();

    // Assess: the invocation throws (so Lambda retries it), after an error log line.
    expect(run.error?.name).toBe('NoSuchBucket');
    expect(extractJsonLogs(run.lines.join('\n'))).toContainEqual(
      expect.objectContaining({ event: 'error', request_id: 'req-missing' }),
    );
  });
});
