import { useS3Endpoint } from '@presign-pipeline/minio-testing/vitest';
import { describe, expect, it } from 'vitest';
import { createPresignHandler, type PresignHandlerOptions } from '../../src/handler.js';
import { lineSink, readCaptured } from '../helpers/capture.js';
import {
  lambdaContext,
  objectsUnder,
  pdfKeys,
  readText,
  rejection,
  sessionCredentials,
  uniqueBucket,
  within,
  useSeededProxy,
} from './helpers.js';

/**
 * The handler with temporary credentials that expire before the URLs would: it warns (an `expiry_capped` line, the
 * `PresignExpiryCapped` metric, the effective expiry on the `complete` line and in every URL), or, when asked to
 * refuse (`ON_EXPIRY_CAPPED=refuse` or the `onExpiryCapped` option), fails before it lists anything. The S3 calls
 * are counted by a transparent fault proxy in front of the endpoint.
 */
const endpoint = useS3Endpoint();
const bucket = uniqueBucket('creds');
const prefix = 'reports/';
const keys = pdfKeys(prefix, 12);

const faults = useSeededProxy(endpoint, bucket, keys);

/** A handler through the proxy whose S3 clients sign with credentials expiring in `expiresInMs`. */
function handlerWithCredentials(
  expiresInMs: number,
  options: PresignHandlerOptions = {},
  env: Record<string, string> = {},
) {
  const sink = lineSink();
  const credentials = sessionCredentials(expiresInMs);
  const handler = createPresignHandler({
    write: sink.write,
    idempotency: false,
    clientConfig: { region: endpoint.region, credentials: async () => credentials, maxAttempts: 2 },
    ...options,
    env: { S3_ENDPOINT_URL: faults.proxy.endpoint, AWS_REGION: endpoint.region, ...env },
  });
  return { handler, sink, credentials };
}

describe('credentials that expire before the URLs would', () => {
  it.each(['sdk', 'fast'] as const)(
    'warn (%s presigner): expiry_capped line, PresignExpiryCapped metric, effective expiry on the complete line and in every URL',
    async (presigner) => {
      // Prepare
      const { handler, sink, credentials } = handlerWithCredentials(120_000, { presigner });
      faults.proxy.resetHits();

      // Act
      const response = await within(
        handler({ bucket, prefix, expiry_seconds: 900 }, lambdaContext(`req-warn-${presigner}`)),
      );

      // Assess: the response and the manifest.
      expect(response.statusCode).toBe(200);
      const body = JSON.parse(response.body) as { count: number; manifest_key: string; manifest_url: string };
      expect(body.count).toBe(keys.length);
      const { logs, metrics } = readCaptured(sink.lines);
      const capped = logs.find((l) => l.event === 'expiry_capped');
      expect(capped).toMatchObject({
        request_id: `req-warn-${presigner}`,
        requested_expiry_seconds: 900,
        credentials_expire_at: credentials.expiration.toISOString(),
      });
      const effective = capped?.effective_expiry_seconds as number;
      expect(effective).toBeGreaterThanOrEqual(100);
      expect(effective).toBeLessThanOrEqual(120);
      expect(logs.find((l) => l.event === 'complete')).toMatchObject({
        effective_expiry_seconds: effective,
        count: keys.length,
      });
      expect(metrics.find((m) => m.name === 'PresignExpiryCapped')).toMatchObject({ value: 1, unit: 'Count' });
      expect(new URL(body.manifest_url).searchParams.get('X-Amz-Expires')).toBe(String(effective));
      const lines = (await readText(endpoint.client, bucket, body.manifest_key)).trim().split('\n');
      expect(lines).toHaveLength(keys.length);
      for (const line of lines) {
        const { url } = JSON.parse(line) as { url: string };
        expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe(String(effective));
      }
      expect(faults.proxy.hits.byOperation.ListObjectsV2).toBe(1);
    },
  );

  it.each([
    ['ON_EXPIRY_CAPPED=refuse', {}, { ON_EXPIRY_CAPPED: 'refuse' }],
    ["the onExpiryCapped: 'refuse' option", { onExpiryCapped: 'refuse' as const }, {}],
  ])(
    'refuse (%s): fails with CREDENTIALS_EXPIRE_TOO_SOON before any S3 call, after an error line',
    async (_how, options, env) => {
      // Prepare
      const { handler, sink } = handlerWithCredentials(120_000, options, env);
      const manifestsBefore = await objectsUnder(endpoint.client, bucket, 'manifests/');
      faults.proxy.resetHits();

      // Act
      const error = await rejection(handler({ bucket, prefix, expiry_seconds: 900 }, lambdaContext('req-refuse')));

      // Assess: refused before listing, nothing written, the failure logged and measured.
      expect(error.code).toBe('CREDENTIALS_EXPIRE_TOO_SOON');
      expect(error.message).toMatch(/before URLs valid for expiresIn=900 s would/);
      expect(faults.proxy.hits.total).toBe(0);
      expect(faults.proxy.hits.byOperation.ListObjectsV2).toBeUndefined();
      const { logs, metrics } = readCaptured(sink.lines);
      expect(logs.filter((l) => l.event === 'error')).toEqual([
        expect.objectContaining({ request_id: 'req-refuse', error_name: 'PresignPipelineError', pages: 0, count: 0 }),
      ]);
      expect(metrics.find((m) => m.name === 'S3ListPages')?.value).toBe(0);
      expect(await objectsUnder(endpoint.client, bucket, 'manifests/')).toEqual(manifestsBefore);
    },
  );

  it('refuse still runs when the credentials outlive the URLs', async () => {
    const { handler, sink } = handlerWithCredentials(3_600_000, {}, { ON_EXPIRY_CAPPED: 'refuse' });
    const response = await within(handler({ bucket, prefix, expiry_seconds: 900 }, lambdaContext('req-long')));
    expect(response.statusCode).toBe(200);
    const { logs } = readCaptured(sink.lines);
    expect(logs.some((l) => l.event === 'expiry_capped')).toBe(false);
    expect(logs.find((l) => l.event === 'complete')).toMatchObject({ effective_expiry_seconds: 900 });
  });

  it('an unknown ON_EXPIRY_CAPPED value is a 400 naming the variable, before any S3 call', async () => {
    const { handler, sink } = handlerWithCredentials(120_000, {}, { ON_EXPIRY_CAPPED: 'ignore' });
    faults.proxy.resetHits();
    const response = await within(handler({ bucket, prefix }, lambdaContext('req-bad-policy')));
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toEqual({
      error: 'ON_EXPIRY_CAPPED must be "warn" or "refuse" (got "ignore")',
      field: 'ON_EXPIRY_CAPPED',
    });
    expect(faults.proxy.hits.total).toBe(0);
    expect(readCaptured(sink.lines).logs[0]).toMatchObject({ event: 'invalid_request', field: 'ON_EXPIRY_CAPPED' });
  });

  it('createPresignHandler refuses an unknown onExpiryCapped option at creation', () => {
    expect(() => createPresignHandler({ onExpiryCapped: 'never' as never })).toThrow(
      /createPresignHandler: onExpiryCapped must be 'warn' or 'refuse'/,
    );
  });
});
