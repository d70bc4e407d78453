/**
 * `sign_pdfs`, the "before" snapshot: the same contract as the documented handler (event fields with environment
 * fallbacks, `{count, errors, manifest_key, manifest_url}` on 200, `{error, field}` with an `invalid_request` log
 * line on 400, a `complete` log line and one EMF document), written the straightforward way:
 *
 * - listing is sequential: one ListObjectsV2 page after the other, nothing overlapped;
 * - each URL comes from the SDK's `getSignedUrl`, one `await` per key;
 * - the whole manifest is built in memory as one string;
 * - it is stored with a single PutObject at the end.
 *
 * It is here to be compared with the documented handler in the tester (`npm run tester`), not to be deployed.
 */
import { randomUUID } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Context } from 'aws-lambda';

/** What the handler returns. */
export interface BaselineResponse {
  statusCode: number;
  body: string;
}

/** Options of {@link createBaselineHandler}; all optional. */
export interface BaselineOptions {
  /** The environment. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Where log lines and the EMF document go. Default: stdout. */
  write?: (line: string) => void;
  /** Told after each page: a progress display (the tester's) can follow the run. */
  onProgress?: (progress: { pages: number; keysListed: number; presigned: number; bytes: number }) => void;
  /** Stops the run between requests; nothing is stored before the final PutObject, so nothing is left behind. */
  signal?: AbortSignal;
}

interface Job {
  bucket: string;
  prefix: string;
  expiry: number;
  pageSize: number;
}

type Rejection = { field: string; error: string };

const truthy = (value: unknown): boolean =>
  value !== undefined && value !== null && value !== '' && value !== 0 && value !== false;

function integerField(value: unknown, field: string, min: number, max: number): number | Rejection {
  const parsed =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)
        ? Number(value)
        : Number.NaN;
  if (!Number.isInteger(parsed) || parsed < min || parsed > max)
    return { field, error: `${field} must be an integer from ${min} to ${max} (got ${JSON.stringify(value)})` };
  return parsed;
}

/** `event.get(x) or env.get(X, default)`, validated. */
function jobOf(raw: unknown, env: Readonly<Record<string, string | undefined>>): Job | Rejection {
  if (raw !== null && raw !== undefined && (typeof raw !== 'object' || Array.isArray(raw)))
    return { field: 'event', error: 'The event must be a JSON object' };
  const event = (raw ?? {}) as Record<string, unknown>;
  const bucket = truthy(event.bucket) ? event.bucket : (env.BUCKET_NAME ?? 'my-company-reports-bucket');
  if (typeof bucket !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    return {
      field: truthy(event.bucket) ? 'bucket' : 'BUCKET_NAME',
      error: `bucket is not a valid S3 bucket name (got ${JSON.stringify(bucket)})`,
    };
  const prefix = truthy(event.prefix) ? event.prefix : (env.PREFIX ?? '2026/04/');
  if (typeof prefix !== 'string')
    return { field: 'prefix', error: `prefix must be a string (got ${JSON.stringify(prefix)})` };
  const expiryField =
    truthy(event.expiry_seconds) || env.URL_EXPIRY_SECONDS === undefined ? 'expiry_seconds' : 'URL_EXPIRY_SECONDS';
  const expiry = integerField(
    truthy(event.expiry_seconds) ? event.expiry_seconds : (env.URL_EXPIRY_SECONDS ?? 900),
    expiryField,
    1,
    604_800,
  );
  if (typeof expiry !== 'number') return expiry;
  const pageSize = integerField(truthy(event.page_size) ? event.page_size : 1000, 'page_size', 1, 1000);
  if (typeof pageSize !== 'number') return pageSize;
  return { bucket, prefix, expiry, pageSize };
}

const clients = new Map<string, S3Client>();

/** One client per endpoint, kept while the function is warm. */
function clientFor(env: Readonly<Record<string, string | undefined>>): S3Client {
  const endpoint = env.S3_ENDPOINT_URL || '';
  let client = clients.get(endpoint);
  if (client === undefined) {
    const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
    client = new S3Client({ region, ...(endpoint !== '' ? { endpoint, forcePathStyle: true } : {}) });
    clients.set(endpoint, client);
  }
  return client;
}

function emf(write: (line: string) => void, metrics: Record<string, number>): void {
  write(
    JSON.stringify({
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [
          {
            Namespace: 'eth/sign_pdfs',
            Dimensions: [['Function']],
            Metrics: Object.keys(metrics).map((name) => ({
              Name: name,
              Unit: name.endsWith('Bytes') ? 'Bytes' : 'Count',
            })),
          },
        ],
      },
      Function: 'sign_pdfs',
      ...metrics,
    }),
  );
}

function stopIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw Object.assign(new Error('The run was cancelled'), { name: 'AbortError' });
}

/** Creates the baseline handler. */
export function createBaselineHandler(
  options: BaselineOptions = {},
): (event: unknown, context?: Context) => Promise<BaselineResponse> {
  const write = options.write ?? ((line: string) => void process.stdout.write(`${line}\n`));
  return async (event, context) => {
    const started = performance.now();
    const env = options.env ?? process.env;
    const requestId = context?.awsRequestId || randomUUID();
    const job = jobOf(event, env);
    if ('error' in job) {
      const body = JSON.stringify({ error: job.error, field: job.field });
      write(JSON.stringify({ event: 'invalid_request', request_id: requestId, field: job.field, error: job.error }));
      emf(write, {
        PDFsProcessed: 0,
        S3ListPages: 0,
        PresignCount: 0,
        ManifestBytes: 0,
        ResponseBytes: Buffer.byteLength(body),
      });
      return { statusCode: 400, body };
    }
    const s3 = clientFor(env);
    const send = { abortSignal: options.signal };
    let pages = 0;
    let keysListed = 0;
    let errors = 0;
    const lines: string[] = [];
    let token: string | undefined;
    do {
      stopIfAborted(options.signal);
      const page = await s3.send(
        new ListObjectsV2Command({
          Bucket: job.bucket,
          Prefix: job.prefix,
          MaxKeys: job.pageSize,
          ContinuationToken: token,
        }),
        send,
      );
      pages++;
      for (const object of page.Contents ?? []) {
        const key = object.Key;
        if (key === undefined || !key.toLowerCase().endsWith('.pdf')) continue;
        keysListed++;
        try {
          const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: job.bucket, Key: key }), {
            expiresIn: job.expiry,
          });
          lines.push(`${JSON.stringify({ key, url })}\n`);
        } catch (error) {
          errors++;
          write(
            JSON.stringify({
              event: 'presign_error',
              request_id: requestId,
              key,
              error: error instanceof Error ? error.name : String(error),
            }),
          );
        }
      }
      options.onProgress?.({ pages, keysListed, presigned: lines.length, bytes: 0 });
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    stopIfAborted(options.signal);

    const manifest = lines.join('');
    const manifestBytes = Buffer.byteLength(manifest);
    const manifestKey = `manifests/${randomUUID()}.jsonl`;
    await s3.send(
      new PutObjectCommand({
        Bucket: job.bucket,
        Key: manifestKey,
        Body: manifest,
        ContentType: 'application/x-ndjson',
      }),
      send,
    );
    options.onProgress?.({ pages, keysListed, presigned: lines.length, bytes: manifestBytes });
    const manifestUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: job.bucket, Key: manifestKey }), {
      expiresIn: job.expiry,
    });

    const body = JSON.stringify({ count: lines.length, errors, manifest_key: manifestKey, manifest_url: manifestUrl });
    const durationMs = Math.round((performance.now() - started) * 100) / 100;
    write(
      JSON.stringify({
        event: 'complete',
        request_id: requestId,
        count: lines.length,
        errors,
        pages,
        duration_ms: durationMs,
      }),
    );
    emf(write, {
      PDFsProcessed: lines.length,
      S3ListPages: pages,
      PresignCount: lines.length,
      ManifestBytes: manifestBytes,
      ResponseBytes: Buffer.byteLength(body),
    });
    return { statusCode: 200, body };
  };
}

/** The Lambda entry point. */
export const handler = createBaselineHandler();

// The tester's optional hooks (see docs/tester.md): its label and a per-run factory with progress and cancel.
/** How the tester names this side. */
export const label = 'baseline (sign_pdfs)';
/** The stub context's function name. */
export const functionName = 'sign_pdfs';
/** Builds a handler for one tester run. */
export function createHandler(
  options: Required<Pick<BaselineOptions, 'env' | 'write' | 'onProgress' | 'signal'>>,
): ReturnType<typeof createBaselineHandler> {
  return createBaselineHandler({
    env: options.env,
    write: options.write,
    onProgress: options.onProgress,
    signal: options.signal,
  });
}
