import { createHash, randomUUID } from 'node:crypto';
import {
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import {
  arrayKeySource,
  jsonLogReporter,
  memoryManifestWriter,
  PresignPipelineError,
  presignPipeline,
  redactSecrets,
  suffixFilter,
  type PipelineResult,
} from '@presign-pipeline/core';
import { emfReporter, type EmfReporter, type RunSummary } from '@presign-pipeline/emf';
import type { Context } from 'aws-lambda';
import { createClientCache, type ClientSet, type PresignerChoice } from './clients.js';
import { armHardStop, invocationBudget } from './job-budget.js';
import {
  type HandlerEnv,
  isPlainObject,
  type ManifestEncryption,
  type PresignConfig,
  resolveConfig,
  show,
} from './config.js';
import { notAllowed, resolveAccessPolicy } from './access.js';
import {
  checkExpiryOption,
  checkManifestEncryptionOption,
  DEFAULT_NAMESPACE,
  expiryPolicyOf,
  manifestSseOptions,
} from './handler-settings.js';
import {
  expiryCappedFields,
  isLiveVersion,
  messageOf,
  nameOf,
  optionRangeError,
  optionTypeError,
  urlLifetime,
} from '@presign-pipeline/core/internal';

/**
 * One item of a Distributed Map whose `ItemReader` is `arn:aws:states:::s3:listObjectsV2`: the listed object's
 * metadata. Only `Key` is read. An S3 Inventory row (`ReaderConfig.InputType` `MANIFEST`) also carries `Bucket`, and
 * its `Key` URL-encoded as the CSV inventory stores it: such items are decoded, and must be rows of `BatchInput.bucket`.
 * A versioned report's rows also carry `IsLatest` and `IsDeleteMarker`: only the latest version that is not a delete
 * marker gets a URL, as in the handler's own inventory runs.
 */
export interface DistributedMapS3Item {
  /** The object key. */
  readonly Key: string;
  /** The object's ETag, quotes included. */
  readonly Etag?: string;
  /** When the object was last written (Step Functions passes it through; not read). */
  readonly LastModified?: string | number;
  /** The object's size in bytes. */
  readonly Size?: number;
  /** The object's storage class. */
  readonly StorageClass?: string;
  /** A versioned inventory's row: `"true"` for the current version. A row with `"false"` gets no URL. */
  readonly IsLatest?: string | boolean;
  /** A versioned inventory's row: `"true"` for a delete marker, which gets no URL. */
  readonly IsDeleteMarker?: string | boolean;
}

/** The fields the state machine adds to every batch through `ItemBatcher.BatchInput`. */
export interface PresignBatchInput {
  /** The listed bucket: the URLs point into it and the part manifests are written to it. */
  readonly bucket: string;
  /** Names the run (the execution's name): parts go to `manifests/<run>/`. Letters, digits, `.`, `_`, `-`; at most 128. */
  readonly run: string;
  /** URL lifetime in seconds, 1..604800. Default `URL_EXPIRY_SECONDS`, then 900. */
  readonly expiry_seconds?: number | string;
  /** Keys kept end with this, case-insensitively. Default the handler's `suffix` option, `.pdf`. */
  readonly suffix?: string;
}

/** What a Distributed Map child receives with an `ItemBatcher` that has a `BatchInput`. */
export interface PresignBatchEvent {
  /** The batch's items, in listing order. */
  readonly Items: readonly DistributedMapS3Item[];
  /** The state machine's fixed input for every batch. */
  readonly BatchInput: PresignBatchInput;
}

/** What a batch answers: small, so the Map's results stay far under Step Functions' 256 KiB. */
export interface PresignBatchResult {
  /** The part manifest written, or null when the batch held no key to keep. */
  readonly part_key: string | null;
  /** Keys presigned into the part. */
  readonly count: number;
  /** Keys that failed to presign (each logged as `presign_error`). */
  readonly errors: number;
}

/** The input of the final step. */
export interface ManifestIndexEvent {
  /** The bucket the parts are in. */
  readonly bucket: string;
  /** The run whose parts are indexed (the same value the batches got). */
  readonly run: string;
  /** Lifetime of the index's URLs in seconds, 1..604800. Default `URL_EXPIRY_SECONDS`, then 900. */
  readonly expiry_seconds?: number | string;
}

/** What the final step answers. */
export interface ManifestIndexResult {
  /** The index manifest: `manifests/<run>/index.jsonl`, one `{"key","url","count","errors"}` line per part. */
  readonly index_key: string;
  /** A presigned GET URL of the index. */
  readonly index_url: string;
  /** Parts listed in the index. */
  readonly parts: number;
  /** Keys presigned over all parts. */
  readonly count: number;
  /** Keys that failed to presign over all parts. */
  readonly errors: number;
  /**
   * When the first URLs inside the parts die (ISO 8601): the oldest part's write time plus `expiry_seconds`. Null
   * without parts. The parts' URLs were signed when their batch ran, so they die before the index's own URLs.
   */
  readonly urls_expire_at: string | null;
}

/** Options of {@link createBatchHandler} and {@link createManifestIndexHandler}. */
export interface BatchHandlerOptions {
  /** A ready S3 client; `S3_ENDPOINT_URL` is then ignored. */
  s3Client?: S3Client;
  /** Configuration merged into the S3 clients the handler builds. */
  clientConfig?: S3ClientConfig;
  /** Which presigner signs URLs: `'fast'` (default), `'sdk'` or a factory given the signing client. */
  presigner?: PresignerChoice;
  /** The endpoint URLs are signed for (overrides `S3_PUBLIC_ENDPOINT_URL`). */
  publicEndpoint?: string;
  /** The environment, read on every invocation. Default `process.env`. */
  env?: HandlerEnv;
  /** Where log lines and EMF documents go, one JSON object per call. Default: stdout. */
  write?: (line: string) => void;
  /** Keys kept when `BatchInput.suffix` is absent. Default `.pdf`. */
  suffix?: string;
  /** Where run folders are written in the bucket. Default `manifests/`. */
  manifestPrefix?: string;
  /** Buckets a batch may name (overrides `ALLOWED_BUCKETS`). */
  allowedBuckets?: readonly string[];
  /** Prefixes every key of a batch must start with (overrides `ALLOWED_PREFIXES`). */
  allowedPrefixes?: readonly string[];
  /** Presign calls in flight per batch, 1..256. Default 4. */
  concurrency?: number;
  /** CloudWatch namespace of the EMF document. Default `eth/sign_pdfs_optimized`. */
  namespace?: string;
  /** Value of the `Function` dimension. Default `sign_pdfs_batch` (batch) or `sign_pdfs_index` (index). */
  functionName?: string;
  /**
   * Server-side encryption of the part and index manifests (overrides `MANIFEST_SSE` and `MANIFEST_KMS_KEY_ID`).
   * Default: the bucket's default encryption.
   */
  manifestEncryption?: ManifestEncryption;
  /**
   * What to do when the signing credentials expire before `expiry_seconds` would (overrides `ON_EXPIRY_CAPPED`):
   * `'warn'` (default) caps the URLs' lifetime, parts' and index's alike, and logs `expiry_capped`; `'refuse'` fails
   * the invocation with `CREDENTIALS_EXPIRE_TOO_SOON` before anything is written.
   */
  onExpiryCapped?: 'warn' | 'refuse';
}

/** A Distributed Map child handler. */
export type PresignBatchHandler = (event: unknown, context?: Context) => Promise<PresignBatchResult>;
/** The handler of the state machine's final step. */
export type ManifestIndexHandler = (event: unknown, context?: Context) => Promise<ManifestIndexResult>;

/**
 * The error a batch or index invocation fails with when its input is unusable (`InvalidBatchInput`, code
 * `INVALID_INPUT`) or outside the allow-list (`ForbiddenBatchInput`, code `FORBIDDEN_INPUT`): a
 * `PresignPipelineError`. Thrown before any S3 call; retrying cannot help, so state machines should not Retry on
 * these names.
 */
export class BatchInputError extends PresignPipelineError {
  /** The input field at fault, e.g. `BatchInput.bucket` or `Items[3].Key`. */
  readonly field: string;

  constructor(name: 'InvalidBatchInput' | 'ForbiddenBatchInput', field: string, message: string) {
    super(name === 'InvalidBatchInput' ? 'INVALID_INPUT' : 'FORBIDDEN_INPUT', message);
    this.name = name;
    this.field = field;
  }
}

const MAX_ITEMS = 10_000;
const MAX_KEY_BYTES = 1024;
const RUN_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const PART_PATTERN = /^part-[0-9a-f]{16}\.jsonl$/;
const INDEX_NAME = 'index.jsonl';
/** The part metadata holding when the part's first URLs die. */
const EXPIRES_AT_METADATA = 'urls-expire-at';
const HEAD_CONCURRENCY = 16;
const MAX_CONCURRENCY = 256;

function invalid(field: string, message: string): BatchInputError {
  return new BatchInputError('InvalidBatchInput', field, message);
}

/**
 * The part a batch writes: `<manifestPrefix><run>/part-<n>.jsonl`, where n is the first 16 hex digits of the SHA-256
 * of the batch's first key, last key and item count. A retried or redriven batch gets the same input, so it
 * overwrites its own part instead of adding a copy; two batches of one listing never start with the same key.
 */
export function batchPartKey(
  manifestPrefix: string,
  run: string,
  items: readonly Pick<DistributedMapS3Item, 'Key'>[],
): string {
  const first = items[0]?.Key ?? '';
  const last = items[items.length - 1]?.Key ?? '';
  const n = createHash('sha256').update(`${first}\n${last}\n${items.length}`, 'utf8').digest('hex').slice(0, 16);
  return `${manifestPrefix}${run}/part-${n}.jsonl`;
}

interface Common {
  readonly write: (line: string) => void;
  readonly envOf: () => HandlerEnv;
  readonly clientsFor: (env: HandlerEnv, endpoint?: string, publicEndpoint?: string) => ClientSet;
  readonly manifestPrefix: string;
  readonly suffix: string;
  readonly concurrency: number;
  readonly namespace: string;
  readonly manifestEncryption: ManifestEncryption | undefined;
  readonly onExpiryCapped: 'warn' | 'refuse' | undefined;
  readonly options: BatchHandlerOptions;
}

function common(owner: string, options: BatchHandlerOptions): Common {
  if (options === null || typeof options !== 'object') throw optionTypeError(`${owner}: options must be an object`);
  const write = options.write ?? ((line: string) => void process.stdout.write(`${line}\n`));
  if (typeof write !== 'function') throw optionTypeError(`${owner}: write must be a function`);
  const manifestPrefix = options.manifestPrefix ?? 'manifests/';
  if (typeof manifestPrefix !== 'string') throw optionTypeError(`${owner}: manifestPrefix must be a string`);
  const suffix = options.suffix ?? '.pdf';
  if (typeof suffix !== 'string' || suffix === '') throw optionTypeError(`${owner}: suffix must be a non-empty string`);
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    throw optionRangeError(
      `${owner}: concurrency must be an integer from 1 to ${MAX_CONCURRENCY} (got ${String(concurrency)})`,
    );
  }
  const choice = options.presigner;
  if (choice !== undefined && choice !== 'fast' && choice !== 'sdk' && typeof choice !== 'function') {
    throw optionTypeError(`${owner}: presigner must be 'fast', 'sdk' or a function (got ${show(choice)})`);
  }
  const manifestEncryption = checkManifestEncryptionOption(owner, options.manifestEncryption);
  const onExpiryCapped = checkExpiryOption(options.onExpiryCapped, owner);
  const clientsFor = createClientCache({
    ...(options.s3Client !== undefined ? { s3Client: options.s3Client } : {}),
    ...(options.clientConfig !== undefined ? { clientConfig: options.clientConfig } : {}),
    ...(options.presigner !== undefined ? { presigner: options.presigner } : {}),
  });
  return {
    write,
    envOf: () => options.env ?? process.env,
    clientsFor,
    manifestPrefix,
    suffix,
    concurrency,
    namespace: options.namespace ?? DEFAULT_NAMESPACE,
    manifestEncryption,
    onExpiryCapped,
    options,
  };
}

/** The `onExpiryCapped` option, else `ON_EXPIRY_CAPPED`; an unusable variable is refused naming it. */
function expiryPolicy(c: Common, env: HandlerEnv): 'warn' | 'refuse' {
  const policy = c.onExpiryCapped ?? expiryPolicyOf(env);
  if (typeof policy !== 'string') throw invalid(policy.field, policy.error);
  return policy;
}

function checkRun(run: unknown, field: string): string {
  if (typeof run !== 'string' || !RUN_PATTERN.test(run)) {
    throw invalid(
      field,
      `${field} must be 1 to 128 letters, digits, ".", "_" or "-", starting with a letter or digit, such as the execution's name ($$.Execution.Name) (got ${show(run)})`,
    );
  }
  return run;
}

/**
 * Validates bucket and expiry with the presign handler's rules (and the endpoint variables), naming fields as they
 * appear in this input.
 */
function resolveShared(
  c: Common,
  env: HandlerEnv,
  bucket: unknown,
  expiry: unknown,
  fieldPrefix: string,
): PresignConfig {
  if (typeof bucket !== 'string' || bucket === '') {
    throw invalid(`${fieldPrefix}bucket`, `${fieldPrefix}bucket must be a bucket name (got ${show(bucket)})`);
  }
  const resolved = resolveConfig(
    { bucket, prefix: '', ...(expiry !== undefined && expiry !== null ? { expiry_seconds: expiry } : {}) },
    // Variables only the listing handler reads cannot fail a batch.
    { ...env, DEADLINE_MARGIN_MS: undefined, QUEUE_MAX: undefined },
    {
      ...(c.options.publicEndpoint !== undefined ? { publicEndpoint: c.options.publicEndpoint } : {}),
      ...(c.manifestEncryption !== undefined ? { manifestEncryption: c.manifestEncryption } : {}),
    },
  );
  if (!resolved.ok) {
    const { field, error } = resolved.rejection;
    const named = field === 'bucket' || field === 'expiry_seconds' ? `${fieldPrefix}${field}` : field;
    throw invalid(named, error.startsWith(`${field} `) ? `${named} ${error.slice(field.length + 1)}` : error);
  }
  return resolved.config;
}

function checkAllowedBucket(c: Common, env: HandlerEnv, bucket: string, field: string): readonly string[] | undefined {
  const policy = resolveAccessPolicy(env, {
    ...(c.options.allowedBuckets !== undefined ? { allowedBuckets: c.options.allowedBuckets } : {}),
    ...(c.options.allowedPrefixes !== undefined ? { allowedPrefixes: c.options.allowedPrefixes } : {}),
  });
  if (policy.allowedBuckets !== undefined && !policy.allowedBuckets.includes(bucket)) {
    throw new BatchInputError(
      'ForbiddenBatchInput',
      field,
      notAllowed('Bucket', bucket, policy.allowedBuckets, 'ALLOWED_BUCKETS'),
    );
  }
  return policy.allowedPrefixes;
}

function newMetrics(
  c: Common,
  functionName: string,
  metrics?: (summary: RunSummary) => Record<string, number>,
): EmfReporter {
  return emfReporter({
    namespace: c.namespace,
    dimensions: { Function: functionName },
    ...(metrics !== undefined ? { metrics } : { metrics: () => ({}) }),
    deferPublish: true,
    write: c.write,
    onError: (error) =>
      c.write(
        JSON.stringify({ event: 'metrics_error', error: error instanceof Error ? error.message : String(error) }),
      ),
  });
}

/** Logs why a batch or index invocation failed and returns the error to throw, with secrets masked. */
function failed(log: (fields: Record<string, unknown>) => void, requestId: string, error: unknown): unknown {
  if (error instanceof BatchInputError) {
    log({
      event: 'invalid_batch',
      request_id: requestId,
      field: error.field,
      error: redactSecrets(error.message),
      error_name: error.name,
    });
  } else {
    log({ event: 'error', request_id: requestId, error: redactSecrets(messageOf(error)), error_name: nameOf(error) });
  }
  return masked(error);
}

/** Publishes the invocation's EMF document; a metrics failure is logged, never thrown over the invocation's outcome. */
function publishMetrics(
  metrics: { publish(): void },
  log: (fields: Record<string, unknown>) => void,
  requestId: string,
): void {
  try {
    metrics.publish();
  } catch (error) {
    log({ event: 'metrics_error', request_id: requestId, error: redactSecrets(messageOf(error)) });
  }
}

function masked(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof BatchInputError) return error;
  const message = redactSecrets(error.message);
  if (message === error.message) return error;
  const copy = new Error(message);
  copy.name = error.name;
  return copy;
}

interface ParsedBatch {
  readonly items: readonly DistributedMapS3Item[];
  readonly input: Record<string, unknown>;
}

function parseBatch(event: unknown): ParsedBatch {
  if (!isPlainObject(event)) {
    throw invalid(
      'event',
      `The event must be a batch object {"Items": [...], "BatchInput": {...}} (got ${show(event)})`,
    );
  }
  const items = event.Items;
  if (!Array.isArray(items)) {
    throw invalid(
      'Items',
      `Items must be the array of listed objects a Distributed Map batch carries (got ${show(items)})`,
    );
  }
  if (items.length > MAX_ITEMS)
    throw invalid('Items', `Items must hold at most ${MAX_ITEMS} objects (got ${items.length})`);
  items.forEach((item: unknown, i) => {
    const key = isPlainObject(item) ? item.Key : undefined;
    if (typeof key !== 'string' || key === '') {
      throw invalid(`Items[${i}].Key`, `Items[${i}] must be an object with a non-empty string Key (got ${show(item)})`);
    }
  });
  const input = event.BatchInput;
  if (!isPlainObject(input)) {
    throw invalid(
      'BatchInput',
      `BatchInput must be an object {"bucket", "run", "expiry_seconds"?, "suffix"?} set by the ItemBatcher (got ${show(input)})`,
    );
  }
  // An inventory row's key is URL-encoded: S3's limit applies to the key it names, so the length is checked decoded.
  const decoded = (items as DistributedMapS3Item[]).map((item, i) => inventoryRowItem(item, i, input.bucket));
  decoded.forEach((item, i) => {
    if (Buffer.byteLength(item.Key, 'utf8') > MAX_KEY_BYTES) {
      throw invalid(`Items[${i}].Key`, `Items[${i}].Key is longer than ${MAX_KEY_BYTES} bytes, the longest S3 key`);
    }
  });
  return { items: decoded, input };
}

/**
 * A row of an S3 Inventory read by a `MANIFEST` ItemReader carries its `Bucket`, and its `Key` as the CSV inventory
 * stores it: URL-encoded. The row is decoded, and a row of another bucket than `BatchInput.bucket` is refused (it
 * would be presigned against the wrong bucket). Items without `Bucket` (s3:listObjectsV2) pass unchanged.
 */
function inventoryRowItem(item: DistributedMapS3Item, i: number, bucket: unknown): DistributedMapS3Item {
  const row = item as DistributedMapS3Item & { readonly Bucket?: unknown };
  if (row.Bucket === undefined) return item;
  if (row.Bucket !== bucket) {
    throw invalid(
      `Items[${i}].Bucket`,
      `Items[${i}] is an inventory row of bucket ${show(row.Bucket)}, not of BatchInput.bucket ${show(bucket)}`,
    );
  }
  try {
    return { ...item, Key: decodeURIComponent(item.Key.replace(/\+/g, ' ')) };
  } catch {
    throw invalid(`Items[${i}].Key`, `Items[${i}].Key is not a URL-encoded inventory key (got ${show(item.Key)})`);
  }
}

/**
 * Creates the Distributed Map child: given a batch of listed objects (`Items`, as the `s3:listObjectsV2` ItemReader
 * produces them) and the ItemBatcher's `BatchInput` (`bucket`, `run`, optional `expiry_seconds` and `suffix`), it keeps
 * the keys ending in the suffix (case-insensitively), presigns them and writes the part manifest
 * `manifests/<run>/part-<n>.jsonl` (see {@link batchPartKey}: a retried batch overwrites its own part). It answers
 * `{ part_key, count, errors }`; a batch with no URL and no failure to record writes no part (`part_key: null`).
 *
 * Invalid input throws {@link BatchInputError} (`InvalidBatchInput`, `ForbiddenBatchInput`) before any S3 call. S3
 * failures throw the SDK's error, whose name is the S3 error code (`SlowDown`, `AccessDenied`…), for Retry/Catch.
 * One `batch_complete` log line and one EMF document per invocation.
 *
 * @example
 * ```ts
 * import { createBatchHandler } from '@presign-pipeline/lambda';
 * export const handler = createBatchHandler({ presigner: 'fast' });
 * ```
 */
export function createBatchHandler(options: BatchHandlerOptions = {}): PresignBatchHandler {
  const c = common('createBatchHandler', options);
  const functionName = options.functionName ?? 'sign_pdfs_batch';
  newMetrics(c, functionName);
  const metricsOf = (s: RunSummary): Record<string, number> => ({
    PDFsProcessed: s.count,
    PresignCount: s.count,
    PresignErrors: s.errors,
  });
  return (event, context) => logged(c, functionName, context, metricsOf, (call) => presignBatch(c, event, call));
}

/** One invocation of a batch or index handler: what its steps share. */
interface HandlerCall {
  readonly requestId: string;
  /** `performance.now()` when the invocation started, for `duration_ms`. */
  readonly started: number;
  readonly metrics: EmfReporter;
  readonly log: (fields: Record<string, unknown>) => void;
  /** Aborts shortly before the invocation ends (see `HARD_STOP_RESERVE_MS`); undefined without a budget. */
  readonly stop: AbortSignal | undefined;
}

/**
 * Runs one invocation's `work` with its request id, log and EMF document: a failure is logged (`invalid_batch` or
 * `error`) and thrown with secrets masked; the EMF document is published whatever happened.
 */
async function logged<T>(
  c: Common,
  functionName: string,
  context: Context | undefined,
  metricsOf: ((summary: RunSummary) => Record<string, number>) | undefined,
  work: (call: HandlerCall) => Promise<T>,
): Promise<T> {
  const requestId = context?.awsRequestId || randomUUID();
  const started = performance.now();
  const metrics = newMetrics(c, functionName, metricsOf);
  const log = (fields: Record<string, unknown>): void => c.write(JSON.stringify(fields));
  // Writing never outlives the invocation: a stalled PutObject is stopped shortly before its end.
  const hardStop = armHardStop(invocationBudget(context));
  try {
    return await work({ requestId, started, metrics, log, stop: hardStop.signal });
  } catch (error) {
    throw failed(log, requestId, error);
  } finally {
    hardStop.dispose();
    publishMetrics(metrics, log, requestId);
  }
}

/** A batch's input, checked: its items, the run, the suffix kept and the bucket's configuration. */
interface CheckedBatch {
  readonly items: readonly DistributedMapS3Item[];
  readonly run: string;
  readonly suffix: string;
  readonly config: PresignConfig;
  readonly onExpiryCapped: 'warn' | 'refuse';
}

/**
 * Checks a batch before any S3 call: its shape, the run, the suffix, the bucket and expiry, the allow-lists and
 * `ON_EXPIRY_CAPPED`.
 */
function checkBatch(c: Common, env: HandlerEnv, event: unknown): CheckedBatch {
  const { items, input } = parseBatch(event);
  const run = checkRun(input.run, 'BatchInput.run');
  const suffix = input.suffix ?? c.suffix;
  if (typeof suffix !== 'string' || suffix === '' || suffix.length > 64) {
    throw invalid(
      'BatchInput.suffix',
      `BatchInput.suffix must be a non-empty string of at most 64 characters (got ${show(suffix)})`,
    );
  }
  const config = resolveShared(c, env, input.bucket, input.expiry_seconds, 'BatchInput.');
  const allowedPrefixes = checkAllowedBucket(c, env, config.bucket, 'BatchInput.bucket');
  if (allowedPrefixes !== undefined) checkAllowedKeys(items, allowedPrefixes);
  return { items, run, suffix, config, onExpiryCapped: expiryPolicy(c, env) };
}

/** Refuses a batch with a key outside the allowed prefixes, naming the first one. */
function checkAllowedKeys(items: readonly DistributedMapS3Item[], allowedPrefixes: readonly string[]): void {
  const outside = items.findIndex((item) => !allowedPrefixes.some((prefix) => item.Key.startsWith(prefix)));
  if (outside >= 0) {
    throw new BatchInputError(
      'ForbiddenBatchInput',
      `Items[${outside}].Key`,
      `Key ${show(items[outside]?.Key)} is not under an allowed prefix`,
    );
  }
}

/** One batch: the kept keys presigned into a part manifest, `batch_complete` logged. */
async function presignBatch(c: Common, event: unknown, call: HandlerCall): Promise<PresignBatchResult> {
  const env = c.envOf();
  const { items, run, suffix, config, onExpiryCapped } = checkBatch(c, env, event);
  // Old versions and delete markers of a versioned inventory get no URL, by the rule of the inventory runs.
  const live = items.filter((item) => isLiveVersion(item.IsLatest, item.IsDeleteMarker));
  const keys = live.map((item) => item.Key).filter(suffixFilter(suffix));
  call.metrics.addMetric('BatchItems', items.length);
  const done = { event: 'batch_complete', request_id: call.requestId, run };
  if (keys.length === 0) {
    const duration = round2(performance.now() - call.started);
    call.log({ ...done, part_key: null, items: items.length, count: 0, errors: 0, duration_ms: duration });
    return { part_key: null, count: 0, errors: 0 };
  }
  const clients = c.clientsFor(env, config.endpoint, config.publicEndpoint);
  const signedFrom = Date.now();
  const { result, text } = await presignKeys(c, clients, { ...config, onExpiryCapped }, keys, call);
  const partKey = batchPartKey(c.manifestPrefix, run, items);
  // A part is written when it has a URL or a failure to count: the index sums both from the parts' metadata.
  const written = result.count > 0 || result.errors > 0;
  const urlsExpireAt = new Date(signedFrom + result.effectiveExpiresIn * 1000);
  const bytes = written ? await writePart(clients.client, config, partKey, text(), result, urlsExpireAt, call.stop) : 0;
  call.metrics.addMetric('PartBytes', bytes, 'Bytes');
  const answer: PresignBatchResult = {
    part_key: written ? partKey : null,
    count: result.count,
    errors: result.errors,
  };
  call.log({
    ...done,
    part_key: answer.part_key,
    items: items.length,
    count: result.count,
    errors: result.errors,
    part_bytes: bytes,
    effective_expiry_seconds: result.effectiveExpiresIn,
    duration_ms: round2(performance.now() - call.started),
  });
  return answer;
}

/** Presigns the kept keys into memory; the pipeline's log lines go out but for its `complete` line. */
async function presignKeys(
  c: Common,
  clients: ClientSet,
  config: PresignConfig & { readonly onExpiryCapped: 'warn' | 'refuse' },
  keys: readonly string[],
  call: HandlerCall,
): Promise<{ result: PipelineResult; text: () => string }> {
  const manifest = memoryManifestWriter();
  const logs = jsonLogReporter({
    // The pipeline's own `complete` line would name an in-memory manifest; `batch_complete` replaces it.
    write: (line) => {
      if (!line.startsWith('{"event":"complete"')) c.write(line);
    },
  });
  const result = await presignPipeline({
    source: arrayKeySource(keys, { bucket: config.bucket }),
    presigner: clients.presigner,
    manifest,
    expiresIn: config.expirySeconds,
    onExpiryCapped: config.onExpiryCapped,
    concurrency: c.concurrency,
    requestId: call.requestId,
    reporters: [logs, call.metrics],
  });
  return { result, text: () => manifest.text() };
}

/**
 * Writes a part manifest, with what the index reads in the object's metadata: its counts, and when its URLs die (no
 * later than `urlsExpireAt`: signed from then on, for the lifetime the credentials allowed). Returns its size in bytes.
 */
async function writePart(
  client: S3Client,
  config: PresignConfig,
  partKey: string,
  body: string,
  result: PipelineResult,
  urlsExpireAt: Date,
  stop: AbortSignal | undefined,
): Promise<number> {
  const put = new PutObjectCommand({
    Bucket: config.bucket,
    Key: partKey,
    Body: body,
    ContentType: 'application/x-ndjson',
    Metadata: {
      count: String(result.count),
      errors: String(result.errors),
      [EXPIRES_AT_METADATA]: urlsExpireAt.toISOString(),
    },
    ...sseParams(config.manifestEncryption),
  });
  await putBeforeStop(client, put, stop);
  return Buffer.byteLength(body, 'utf8');
}

/**
 * Sends a PutObject that must settle by the hard stop; a stopped one fails with `MANIFEST_WRITE_FAILED`, its cause
 * the stop's reason. Nothing is deleted: the key is the batch's (or the run's index) and the body was whole, so an
 * object S3 may have stored all the same holds what a retry writes again over it.
 */
async function putBeforeStop(client: S3Client, put: PutObjectCommand, stop: AbortSignal | undefined): Promise<void> {
  try {
    await client.send(put, stop === undefined ? {} : { abortSignal: stop });
  } catch (error) {
    if (stop?.aborted !== true) throw error;
    const { Bucket, Key } = put.input;
    throw new PresignPipelineError(
      'MANIFEST_WRITE_FAILED',
      `PutObject of s3://${String(Bucket)}/${String(Key)} was stopped shortly before the invocation's end`,
      { cause: stop.reason },
    );
  }
}

interface PartObject {
  readonly key: string;
  readonly lastModified: Date | undefined;
}

async function listParts(client: S3Client, bucket: string, folder: string): Promise<PartObject[]> {
  const parts: PartObject[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: folder,
        ...(token !== undefined ? { ContinuationToken: token } : {}),
      }),
    );
    for (const object of page.Contents ?? []) {
      const key = object.Key;
      if (key !== undefined && PART_PATTERN.test(key.slice(folder.length)))
        parts.push({ key, lastModified: object.LastModified });
    }
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return parts.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function nonNegativeInt(value: string | undefined): number {
  const parsed = value === undefined ? Number.NaN : Number(value);
  return Number.isSafeInteger(parsed) && parsed >= 0 ? parsed : 0;
}

/**
 * Creates the state machine's final step: given `{ bucket, run, expiry_seconds? }`, it lists the run's parts
 * (`manifests/<run>/part-*.jsonl`), reads each part's count from its metadata, and writes the index manifest
 * `manifests/<run>/index.jsonl`, one `{"key","url","count","errors"}` line per part with a presigned URL. It answers
 * `{ index_key, index_url, parts, count, errors, urls_expire_at }`. Re-running it rewrites the same index.
 *
 * Invalid input throws {@link BatchInputError} before any S3 call; S3 failures throw the SDK's error, named by the
 * S3 error code.
 *
 * @example
 * ```ts
 * import { createManifestIndexHandler } from '@presign-pipeline/lambda';
 * export const handler = createManifestIndexHandler();
 * ```
 */
export function createManifestIndexHandler(options: BatchHandlerOptions = {}): ManifestIndexHandler {
  const c = common('createManifestIndexHandler', options);
  const functionName = options.functionName ?? 'sign_pdfs_index';
  newMetrics(c, functionName);
  return (event, context) => logged(c, functionName, context, undefined, (call) => writeIndex(c, event, call));
}

/**
 * Checks the final step's input before any S3 call: its shape, the run, the bucket and expiry, the allow-list and
 * `ON_EXPIRY_CAPPED`.
 */
function checkIndexInput(
  c: Common,
  env: HandlerEnv,
  event: unknown,
): { run: string; config: PresignConfig; onExpiryCapped: 'warn' | 'refuse' } {
  if (!isPlainObject(event)) {
    throw invalid('event', `The input must be an object {"bucket", "run", "expiry_seconds"?} (got ${show(event)})`);
  }
  const run = checkRun(event.run, 'run');
  const config = resolveShared(c, env, event.bucket, event.expiry_seconds, '');
  checkAllowedBucket(c, env, config.bucket, 'bucket');
  return { run, config, onExpiryCapped: expiryPolicy(c, env) };
}

/** One line of the index: a part, its URL and its counts. */
interface IndexLine {
  readonly key: string;
  readonly url: string;
  readonly count: number;
  readonly errors: number;
}

/** A part as the index reads it: its line, and when the URLs inside it die. */
interface IndexedPart {
  readonly line: IndexLine;
  readonly urlsExpireAt: number | undefined;
}

/** The final step: the run's parts listed, read, presigned and written as the index; `index_complete` logged. */
async function writeIndex(c: Common, event: unknown, call: HandlerCall): Promise<ManifestIndexResult> {
  const env = c.envOf();
  const { run, config, onExpiryCapped } = checkIndexInput(c, env, event);
  const clients = c.clientsFor(env, config.endpoint, config.publicEndpoint);
  // The index's own URLs die with the signing credentials too: capped (or refused) before anything is written.
  const lifetime = await urlLifetime(
    clients.presigner,
    config.expirySeconds,
    onExpiryCapped,
    'createManifestIndexHandler',
  );
  if (lifetime.credentialsExpireAt !== undefined) {
    call.log(
      expiryCappedFields({
        requestId: call.requestId,
        requestedExpiresIn: config.expirySeconds,
        effectiveExpiresIn: lifetime.expiresIn,
        credentialsExpireAt: lifetime.credentialsExpireAt,
      }),
    );
  }
  const folder = `${c.manifestPrefix}${run}/`;
  const parts = await listParts(clients.client, config.bucket, folder);
  const indexed = await mapLimit(parts, HEAD_CONCURRENCY, (part) =>
    indexedPart(clients, config, part, lifetime.expiresIn),
  );
  const lines = indexed.map((part) => part.line);
  const body = lines.map((line) => `${JSON.stringify(line)}\n`).join('');
  const indexKey = `${folder}${INDEX_NAME}`;
  const put = new PutObjectCommand({
    Bucket: config.bucket,
    Key: indexKey,
    Body: body,
    ContentType: 'application/x-ndjson',
    ...sseParams(config.manifestEncryption),
  });
  await putBeforeStop(clients.client, put, call.stop);
  const indexUrl = await clients.presigner.presign(
    { bucket: config.bucket, key: indexKey },
    { expiresIn: lifetime.expiresIn },
  );
  const { count, errors, urlsExpireAt } = summarizeParts(indexed);
  call.metrics.addMetric('Parts', parts.length);
  call.metrics.addMetric('PDFsIndexed', count);
  call.metrics.addMetric('IndexBytes', Buffer.byteLength(body, 'utf8'), 'Bytes');
  const summary = { parts: parts.length, count, errors, urls_expire_at: urlsExpireAt };
  const duration = round2(performance.now() - call.started);
  call.log({
    event: 'index_complete',
    request_id: call.requestId,
    run,
    index_key: indexKey,
    ...summary,
    duration_ms: duration,
  });
  return { index_key: indexKey, index_url: indexUrl, ...summary };
}

/**
 * A part as the index reads it: its counts and when its URLs die from the part's metadata, and its URL. A part
 * without the expiry metadata (written by an earlier release) is taken to die `expiry_seconds` after it was written.
 */
async function indexedPart(
  clients: ClientSet,
  config: PresignConfig,
  part: PartObject,
  expiresIn: number,
): Promise<IndexedPart> {
  const head = await clients.client.send(new HeadObjectCommand({ Bucket: config.bucket, Key: part.key }));
  const url = await clients.presigner.presign({ bucket: config.bucket, key: part.key }, { expiresIn });
  const metadata = head.Metadata ?? {};
  const recorded = Date.parse(metadata[EXPIRES_AT_METADATA] ?? '');
  const written = part.lastModified?.getTime();
  const fallback = written === undefined ? undefined : written + config.expirySeconds * 1000;
  return {
    line: {
      key: part.key,
      url,
      count: nonNegativeInt(metadata.count),
      errors: nonNegativeInt(metadata.errors),
    },
    urlsExpireAt: Number.isNaN(recorded) ? fallback : recorded,
  };
}

/** The run's totals, and when the first URLs inside the parts die (the earliest of the parts'). */
function summarizeParts(parts: readonly IndexedPart[]): {
  count: number;
  errors: number;
  urlsExpireAt: string | null;
} {
  let count = 0;
  let errors = 0;
  let earliest: number | undefined;
  for (const part of parts) {
    count += part.line.count;
    errors += part.line.errors;
    if (part.urlsExpireAt !== undefined) earliest = Math.min(earliest ?? part.urlsExpireAt, part.urlsExpireAt);
  }
  return { count, errors, urlsExpireAt: earliest === undefined ? null : new Date(earliest).toISOString() };
}

/** PutObject's encryption parameters for a manifest, from the resolved configuration. */
function sseParams(encryption: ManifestEncryption | undefined): {
  ServerSideEncryption?: ManifestEncryption['serverSideEncryption'];
  SSEKMSKeyId?: string;
} {
  const { serverSideEncryption, sseKmsKeyId } = manifestSseOptions(encryption);
  return {
    ...(serverSideEncryption !== undefined ? { ServerSideEncryption: serverSideEncryption } : {}),
    ...(sseKmsKeyId !== undefined ? { SSEKMSKeyId: sseKmsKeyId } : {}),
  };
}

function round2(ms: number): number {
  return Math.round(ms * 100) / 100;
}
