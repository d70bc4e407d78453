import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { useS3Endpoint } from '@presign-pipeline/minio-testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPresignHandler } from '../../src/handler.js';
import { readCaptured } from '../helpers/capture.js';
import { bodyOf, handlerOn, lambdaContext, readText, seedReports, uniqueBucket } from '../helpers/integration.js';

const endpoint = useS3Endpoint();
const bucket = uniqueBucket('contract');
const prefix = '2026/04/';
const PDFS = 45;
const OTHERS = 4;
let expectedKeys: string[] = [];

beforeAll(async () => {
  expectedKeys = await seedReports(endpoint, bucket, prefix, PDFS, OTHERS);
}, 60_000);
afterAll(() => endpoint.stop());

describe('the documented handler against a real S3 endpoint', () => {
  it('keeps the reference contract: response, manifest, complete line and EMF document, field by field', async () => {
    const { handler, sink } = handlerOn(endpoint);
    const started = Date.now();
    const response = await handler({ bucket, prefix, page_size: 10 }, lambdaContext('req-contract'));

    // Response: status 200, the reference's four keys in order, then `complete` (true: the run was not cut short).
    expect(Object.keys(response)).toEqual(['statusCode', 'body']);
    expect(response.statusCode).toBe(200);
    const body = JSON.parse(response.body) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['count', 'errors', 'manifest_key', 'manifest_url', 'complete']);
    expect(body.count).toBe(PDFS);
    expect(body.errors).toBe(0);
    expect(body.complete).toBe(true);
    expect(body.manifest_key).toMatch(/^manifests\/[0-9a-f-]{36}\.jsonl$/);
    const manifestUrl = new URL(String(body.manifest_url));
    expect(manifestUrl.origin).toBe(new URL(endpoint.endpoint).origin);
    expect(manifestUrl.searchParams.get('X-Amz-Expires')).toBe('900');

    // The manifest: one {"key","url"} line per kept key, every URL downloading its object.
    const manifestText = await readText(endpoint.client, bucket, String(body.manifest_key));
    const lines = manifestText.split('\n').filter((line) => line !== '');
    const entries = lines.map((line) => JSON.parse(line) as Record<string, string>);
    expect(entries.every((entry) => Object.keys(entry).join() === 'key,url')).toBe(true);
    expect(entries.map((entry) => entry.key).sort()).toEqual(expectedKeys);
    for (const entry of entries) {
      const url = new URL(entry.url!);
      expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
      const download = await fetch(url);
      expect(download.status).toBe(200);
      expect(await download.text()).toBe(bodyOf(entry.key!));
    }
    const viaUrl = await fetch(manifestUrl);
    expect(await viaUrl.text()).toBe(manifestText);
    const head = await endpoint.client.send(new HeadObjectCommand({ Bucket: bucket, Key: String(body.manifest_key) }));
    expect(head.ContentLength).toBe(Buffer.byteLength(manifestText));

    // Logs: exactly one `complete` line, with the reference's fields plus the effective expiry.
    const { logs, documents, metrics } = readCaptured(sink.lines);
    const listedPages = Math.ceil((PDFS + OTHERS) / 10);
    expect(logs).toHaveLength(1);
    const complete = logs[0]!;
    expect(complete).toMatchObject({
      event: 'complete',
      request_id: 'req-contract',
      count: PDFS,
      errors: 0,
      pages: listedPages,
      effective_expiry_seconds: 900,
    });
    expect(typeof complete.duration_ms).toBe('number');
    expect(complete.duration_ms as number).toBeLessThanOrEqual(Date.now() - started + 1);
    expect(sink.lines.join('\n')).not.toContain('X-Amz-Signature');

    // EMF: one document, the reference namespace and dimension, five metrics with units and values.
    expect(documents).toHaveLength(1);
    const document = documents[0]!;
    expect(document._aws.CloudWatchMetrics).toHaveLength(1);
    expect(document._aws.CloudWatchMetrics[0]!.Namespace).toBe('eth/sign_pdfs_optimized');
    expect(document._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['Function']]);
    expect(document.Function).toBe('sign_pdfs_optimized');
    expect(typeof document._aws.Timestamp).toBe('number');
    expect(metrics.map((m) => [m.name, m.unit, m.value])).toEqual([
      ['PDFsProcessed', 'Count', PDFS],
      ['S3ListPages', 'Count', listedPages],
      ['PresignCount', 'Count', PDFS],
      ['ManifestBytes', 'Bytes', Buffer.byteLength(manifestText)],
      ['ResponseBytes', 'Bytes', Buffer.byteLength(response.body)],
    ]);
  });

  it('takes bucket, prefix and expiry from the environment when the event is empty, and integer strings from the event', async () => {
    const fromEnv = handlerOn(endpoint, { env: { BUCKET_NAME: bucket, PREFIX: prefix, URL_EXPIRY_SECONDS: '300' } });
    const response = await fromEnv.handler({}, lambdaContext('req-env'));
    const body = JSON.parse(response.body) as { count: number; manifest_url: string };
    expect(body.count).toBe(PDFS);
    expect(new URL(body.manifest_url).searchParams.get('X-Amz-Expires')).toBe('300');
    expect(readCaptured(fromEnv.sink.lines).logs[0]).toMatchObject({
      event: 'complete',
      effective_expiry_seconds: 300,
      pages: 1,
    });

    const strings = handlerOn(endpoint, { env: { BUCKET_NAME: 'unused-bucket' } });
    const second = await strings.handler(
      { bucket, prefix, expiry_seconds: ' 120 ', page_size: '20', concurrency: '2' },
      lambdaContext('r'),
    );
    const secondBody = JSON.parse(second.body) as { count: number; manifest_key: string };
    expect(secondBody.count).toBe(PDFS);
    const line = (await readText(endpoint.client, bucket, secondBody.manifest_key)).split('\n')[0]!;
    expect(new URL((JSON.parse(line) as { url: string }).url).searchParams.get('X-Amz-Expires')).toBe('120');
    expect(readCaptured(strings.sink.lines).logs[0]).toMatchObject({ pages: Math.ceil((PDFS + OTHERS) / 20) });
  });

  it("signs with the fast SigV4 presigner when asked (presigner: 'fast'), every URL downloading its object", async () => {
    const { handler } = handlerOn(endpoint, { presigner: 'fast' });
    const response = await handler({ bucket, prefix, expiry_seconds: 300 }, lambdaContext('req-fast'));
    const body = JSON.parse(response.body) as { count: number; manifest_key: string; manifest_url: string };
    expect(body.count).toBe(PDFS);
    const lines = (await readText(endpoint.client, bucket, body.manifest_key)).split('\n').filter(Boolean);
    expect(lines).toHaveLength(PDFS);
    for (const line of lines) {
      const entry = JSON.parse(line) as { key: string; url: string };
      expect(new URL(entry.url).searchParams.get('X-Amz-Expires')).toBe('300');
      expect(await (await fetch(entry.url)).text()).toBe(bodyOf(entry.key));
    }
    expect((await fetch(body.manifest_url)).status).toBe(200);
  });

  it('writes an empty manifest for a prefix without PDFs', async () => {
    const { handler, sink } = handlerOn(endpoint);
    const response = await handler({ bucket, prefix: 'nothing-here/' }, lambdaContext('req-empty'));
    const body = JSON.parse(response.body) as { count: number; errors: number; manifest_key: string };
    expect(body).toMatchObject({ count: 0, errors: 0 });
    expect(await readText(endpoint.client, bucket, body.manifest_key)).toBe('');
    const byName = Object.fromEntries(readCaptured(sink.lines).metrics.map((m) => [m.name, m.value]));
    expect(byName).toMatchObject({ PDFsProcessed: 0, S3ListPages: 1, ManifestBytes: 0 });
  });

  it('signs URLs for S3_PUBLIC_ENDPOINT_URL while listing through S3_ENDPOINT_URL', async () => {
    const internal = new URL(endpoint.endpoint);
    const publicEndpoint = `http://localhost:${internal.port}`;
    const { handler } = handlerOn(endpoint, { env: { S3_PUBLIC_ENDPOINT_URL: publicEndpoint } });
    const response = await handler({ bucket, prefix }, lambdaContext('req-public'));
    const body = JSON.parse(response.body) as { count: number; manifest_key: string; manifest_url: string };
    expect(body.count).toBe(PDFS);
    expect(new URL(body.manifest_url).host).toBe(`localhost:${internal.port}`);
    const lines = (await readText(endpoint.client, bucket, body.manifest_key)).split('\n').filter(Boolean);
    expect(lines).toHaveLength(PDFS);
    for (const line of lines)
      expect(new URL((JSON.parse(line) as { url: string }).url).host).toBe(`localhost:${internal.port}`);
    // The public host reaches the same server here, so the URLs work.
    const first = JSON.parse(lines[0]!) as { key: string; url: string };
    expect(await (await fetch(first.url)).text()).toBe(bodyOf(first.key));

    // The option does the same as the variable.
    const viaOption = handlerOn(endpoint, { publicEndpoint });
    const optionBody = JSON.parse((await viaOption.handler({ bucket, prefix }, lambdaContext('r'))).body) as {
      manifest_url: string;
    };
    expect(new URL(optionBody.manifest_url).host).toBe(`localhost:${internal.port}`);
  });

  it('reads the environment on every warm invocation (PREFIX changed between two calls of one handler)', async () => {
    const live: Record<string, string | undefined> = {
      S3_ENDPOINT_URL: endpoint.endpoint,
      BUCKET_NAME: bucket,
      PREFIX: 'nothing-here/',
    };
    const handler = createPresignHandler({
      clientConfig: { region: endpoint.region, credentials: endpoint.credentials },
      write: () => undefined,
      env: live,
    });
    const first = JSON.parse((await handler({}, lambdaContext('a'))).body) as { count: number };
    live.PREFIX = prefix;
    const second = JSON.parse((await handler({}, lambdaContext('b'))).body) as { count: number };
    expect(first.count).toBe(0);
    expect(second.count).toBe(PDFS);
  });
});
