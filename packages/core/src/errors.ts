/**
 * Every error code a presign-pipeline part raises on purpose.
 *
 * - `INVALID_OPTION`: an option failed validation before any side effect (see also the TypeError/RangeError thrown for options).
 * - `SOURCE_FAILED`: the key source threw; `cause` holds the original error.
 * - `PRESIGN_FAILED`: one key could not be presigned (reported per item, never fatal on its own).
 * - `INVALID_KEY`: a source yielded something that is not a usable key (a non-string, an empty string).
 * - `UNSAFE_KEY_PATH`: a key has a `.` or `..` path segment (`a/../b.pdf`, `./x.pdf`): its URL would be correct, but
 *   browsers, `fetch` and other WHATWG URL clients remove such segments (also written `%2E`) before sending, so they
 *   would ask for another object. Reported per item, like `PRESIGN_FAILED`.
 * - `MANIFEST_WRITE_FAILED`: the manifest writer could not store the manifest; `cause` holds the original error.
 * - `ABORTED`: the run was aborted through its signal.
 * - `DEADLINE_REACHED`: the run stopped pulling keys because its deadline came.
 * - `CREDENTIALS_EXPIRE_TOO_SOON`: the signing credentials expire before the URLs would.
 * - `NO_ENDPOINT`: no S3 endpoint could be started or found (minio-testing).
 * - `INVALID_INVENTORY_MANIFEST`: an S3 Inventory `manifest.json` is malformed, lists another bucket, or has no `Key`
 *   column; or a data file of it cannot be read or parsed.
 * - `UNSUPPORTED_INVENTORY_FORMAT`: the inventory's `fileFormat` is one the inventory source cannot read (ORC).
 * - `INVENTORY_CHECKSUM_MISMATCH`: a data file's MD5 differs from the manifest's `MD5checksum`.
 * - `INVALID_RESUME_TOKEN`: a resume token is malformed, of another format version, or belongs to another inventory
 *   (`s3InventorySource`) or another bucket or prefix (`s3ListSource({ resumeToken })`).
 * - `RESUME_TOKEN_TOO_LONG`: a cut auto-partitioned listing would need a resume token over 4,096 characters (many ranges
 *   open, bounded by long keys that do not compress); the run fails instead of handing out a token no run accepts.
 * - `IDEMPOTENCY_UNAVAILABLE`: idempotency is on (`IDEMPOTENCY_TABLE`) but the handler was built without a store
 *   (lambda: use the handler from `@presign-pipeline/lambda/idempotency`).
 * - `MALFORMED_RESPONSE`: a 2xx answer was not S3's answer to the request (an HTML page, an empty body, foreign or
 *   malformed XML, another bucket or prefix, no `IsTruncated`, a continuation token that does not move forward),
 *   also after retries; the message names what was wrong and which page.
 */
export type PresignPipelineErrorCode =
  | 'INVALID_OPTION'
  | 'SOURCE_FAILED'
  | 'PRESIGN_FAILED'
  | 'INVALID_KEY'
  | 'UNSAFE_KEY_PATH'
  | 'MANIFEST_WRITE_FAILED'
  | 'ABORTED'
  | 'DEADLINE_REACHED'
  | 'CREDENTIALS_EXPIRE_TOO_SOON'
  | 'NO_ENDPOINT'
  | 'INVALID_INVENTORY_MANIFEST'
  | 'UNSUPPORTED_INVENTORY_FORMAT'
  | 'INVENTORY_CHECKSUM_MISMATCH'
  | 'INVALID_RESUME_TOKEN'
  | 'RESUME_TOKEN_TOO_LONG'
  | 'IDEMPOTENCY_UNAVAILABLE'
  | 'MALFORMED_RESPONSE';

const BRAND = Symbol.for('presign-pipeline.error');

/** Options accepted by {@link PresignPipelineError}. */
export interface PresignPipelineErrorOptions {
  /** The error that caused this one. */
  cause?: unknown;
  /** The object key the error concerns, for per-item errors. */
  key?: string;
}

/**
 * The one error type of presign-pipeline, discriminated by {@link PresignPipelineError.code}.
 * Use {@link isPresignPipelineError} rather than `instanceof`, which fails across duplicated copies of the package.
 */
export class PresignPipelineError extends Error {
  /** What went wrong, as a stable machine-readable code. */
  readonly code: PresignPipelineErrorCode;
  /** The object key this error concerns, when it concerns one. */
  readonly key?: string;

  constructor(code: PresignPipelineErrorCode, message: string, options: PresignPipelineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PresignPipelineError';
    this.code = code;
    if (options.key !== undefined) this.key = options.key;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/** True for a {@link PresignPipelineError} from any copy of this package (ESM or CJS, any version). */
export function isPresignPipelineError(value: unknown): value is PresignPipelineError {
  return (
    typeof value === 'object' &&
    value !== null &&
    ((value as Record<PropertyKey, unknown>)[BRAND] === true || (value as Error).name === 'PresignPipelineError') &&
    typeof (value as PresignPipelineError).code === 'string'
  );
}

/** Creates the `AbortError` a run rejects with when its signal aborts (the same name `fetch` and Node streams use). */
export function abortError(reason?: unknown): Error {
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  const error = new Error('The presign pipeline was aborted', reason === undefined ? undefined : { cause: reason });
  error.name = 'AbortError';
  return error;
}
