/**
 * Every error code a presign-pipeline part raises on purpose. Each is raised somewhere and tested; a new failure gets a
 * code here rather than an ad-hoc error name.
 *
 * - `INVALID_OPTION`: an option or argument failed validation before any side effect. These errors are also a
 *   `TypeError` (wrong type) or a `RangeError` (right type, bad value), as JavaScript's own argument errors are, and
 *   their message names the option.
 * - `SOURCE_FAILED`: the key source threw; `cause` holds the original error.
 * - `PRESIGN_FAILED`: one key could not be presigned (reported per item, never fatal on its own).
 * - `INVALID_KEY`: a source yielded something that is not a usable key (a non-string, an empty string).
 * - `UNSAFE_KEY_PATH`: a key has a `.` or `..` path segment (`a/../b.pdf`, `./x.pdf`): its URL would be correct, but
 *   browsers, `fetch` and other WHATWG URL clients remove such segments (also written `%2E`) before sending, so they
 *   would ask for another object. Reported per item, like `PRESIGN_FAILED`.
 * - `MANIFEST_WRITE_FAILED`: the manifest writer could not store the manifest; `cause` holds the original error.
 * - `ABORTED`: the run was aborted through its signal; the error is named `AbortError` (as `fetch` and Node streams
 *   name theirs) and its `cause` is the signal's reason.
 * - `DEADLINE_REACHED`: work was refused because the invocation's deadline had come (lambda: an SQS job that would
 *   start, or stopped, after the batch's deadline). A run that reaches its `deadline` is not an error: it resolves
 *   with `complete: false`.
 * - `CREDENTIALS_EXPIRE_TOO_SOON`: the signing credentials expire before the URLs would.
 * - `NO_ENDPOINT`: no S3 endpoint could be started or found (minio-testing's `S3EndpointUnavailableError`).
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
 * - `INVALID_INPUT`: a Step Functions batch or index input is unusable (lambda's `BatchInputError` named
 *   `InvalidBatchInput`); its `field` names the input field at fault.
 * - `FORBIDDEN_INPUT`: a batch input names a bucket or prefix outside the allow-list (`ForbiddenBatchInput`).
 * - `JOB_REJECTED`: an SQS message's job was refused (its body is not JSON, or the handler answered 400, 403 or 409);
 *   lambda's `SqsJobError` carries the handler's response.
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
  | 'MALFORMED_RESPONSE'
  | 'INVALID_INPUT'
  | 'FORBIDDEN_INPUT'
  | 'JOB_REJECTED';

const BRAND = Symbol.for('presign-pipeline.error');

/** Options accepted by {@link PresignPipelineError}. */
export interface PresignPipelineErrorOptions {
  /** The error that caused this one. */
  cause?: unknown;
  /** The object key the error concerns, for per-item errors. */
  key?: string;
}

/**
 * The one error type of presign-pipeline, discriminated by {@link PresignPipelineError.code}. The other packages'
 * errors (`SqsJobError`, `BatchInputError`, `S3EndpointUnavailableError`) and the option errors
 * (`TypeError`/`RangeError` with code `INVALID_OPTION`) belong to it too.
 *
 * `instanceof PresignPipelineError` is true for every error of the family, from any copy of the packages (ESM and
 * CJS, two versions side by side): it checks a brand, not the prototype chain; {@link isPresignPipelineError} is the
 * same test as a function.
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

  /**
   * `error instanceof PresignPipelineError` holds for any branded error of the family, also one made by another copy
   * of the package or by a subclass in another package; `instanceof` a subclass keeps its usual meaning.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class `instanceof` was asked about, maybe a subclass.
    if (this !== PresignPipelineError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return isPresignPipelineError(value);
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

/** Gives an error of another class the code and the brand of the family, so it is a {@link PresignPipelineError}. */
function brand<E extends Error>(
  error: E,
  code: PresignPipelineErrorCode,
): E & { readonly code: PresignPipelineErrorCode } {
  Object.defineProperty(error, 'code', { value: code, enumerable: true });
  Object.defineProperty(error, BRAND, { value: true });
  return error as E & { readonly code: PresignPipelineErrorCode };
}

/**
 * A `TypeError` for an option of the wrong type, with code `INVALID_OPTION`; the message names the option.
 * @internal
 */
export function optionTypeError(
  message: string,
  options?: ErrorOptions,
): TypeError & { readonly code: 'INVALID_OPTION' } {
  return brand(new TypeError(message, options), 'INVALID_OPTION') as TypeError & { readonly code: 'INVALID_OPTION' };
}

/**
 * A `RangeError` for an option of the right type but a bad value, with code `INVALID_OPTION`; the message names it.
 * @internal
 */
export function optionRangeError(
  message: string,
  options?: ErrorOptions,
): RangeError & { readonly code: 'INVALID_OPTION' } {
  return brand(new RangeError(message, options), 'INVALID_OPTION') as RangeError & { readonly code: 'INVALID_OPTION' };
}

/**
 * The error a run rejects with when its signal aborts: a {@link PresignPipelineError} with code `ABORTED`, named
 * `AbortError` (the name `fetch` and Node streams use), whose `cause` is the signal's reason.
 * @internal
 */
export function abortError(reason?: unknown): PresignPipelineError {
  if (reason instanceof PresignPipelineError && reason.code === 'ABORTED') return reason;
  const error = new PresignPipelineError(
    'ABORTED',
    'The presign pipeline was aborted',
    reason === undefined ? {} : { cause: reason },
  );
  error.name = 'AbortError';
  return error;
}
