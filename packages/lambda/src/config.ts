/**
 * Turning an invocation event plus the environment into a validated run configuration, with the reference handler's
 * semantics: `event.get(x) or env.get(X, default)` and Python's `int()` for numbers.
 */

/** The environment the handler reads, one variable per key (`process.env` by default). */
export type HandlerEnv = Readonly<Record<string, string | undefined>>;

/** The event of one presign job. Every field is optional; unknown fields are ignored. */
export interface PresignEvent {
  /** The bucket to list. Falls back to `BUCKET_NAME`, then `my-company-reports-bucket`. */
  readonly bucket?: unknown;
  /** The prefix to list. Falls back to `PREFIX`, then `2026/04/`. */
  readonly prefix?: unknown;
  /** URL lifetime in seconds, 1..604800. Falls back to `URL_EXPIRY_SECONDS`, then 900. */
  readonly expiry_seconds?: unknown;
  /** Keys per ListObjectsV2 page, 1..1000. Default 1000. */
  readonly page_size?: unknown;
  /** Presign calls in flight, 1..256. Default 4. */
  readonly concurrency?: unknown;
  /**
   * Continue an earlier run: list only keys after this one (ListObjectsV2 `StartAfter`), as returned in that run's
   * `next_start_after`. Must start with the prefix; empty means from the start. Never read from the environment.
   */
  readonly start_after?: unknown;
  /** ListObjectsV2 requests in flight, 1..256; 1 lists sequentially. Falls back to `LIST_CONCURRENCY`, then 1. */
  readonly list_concurrency?: unknown;
  /** Continue a run listed concurrently: that run's `resume_token`. Never read from the environment. */
  readonly resume_token?: unknown;
}

/** Where a configuration value came from: the event, an environment variable, or the built-in default. */
export type ValueSource = 'event' | 'env' | 'default';

/** A validated run configuration. */
export interface PresignConfig {
  /** The bucket to list (and to write the manifest to). */
  readonly bucket: string;
  /** The prefix to list; may be empty (the whole bucket). */
  readonly prefix: string;
  /** Requested URL lifetime in seconds. */
  readonly expirySeconds: number;
  /** Keys per ListObjectsV2 page. */
  readonly pageSize: number;
  /** Presign calls in flight. */
  readonly concurrency: number;
  /** Most keys buffered between listing and presigning. */
  readonly queueMax: number;
  /** List only keys after this one (the event's `start_after`), when continuing an earlier run. */
  readonly startAfter?: string;
  /**
   * Milliseconds kept free at the end of the invocation (`DEADLINE_MARGIN_MS`): when the time left falls under it,
   * the run stops listing, finishes what it holds and answers `complete: false`.
   */
  readonly deadlineMarginMs: number;
  /** The endpoint the handler talks to (`S3_ENDPOINT_URL`), when not AWS's own. */
  readonly endpoint?: string;
  /** The endpoint URLs are signed for (`S3_PUBLIC_ENDPOINT_URL` or the `publicEndpoint` option). */
  readonly publicEndpoint?: string;
  /** Server-side encryption of the manifests written (`MANIFEST_SSE`, `MANIFEST_KMS_KEY_ID`); absent: the bucket's default. */
  readonly manifestEncryption?: ManifestEncryption;
  /** Where `bucket` and `prefix` came from, so errors name the right field. */
  readonly sources: {
    /** Where `bucket` came from. */
    readonly bucket: ValueSource;
    /** Where `prefix` came from. */
    readonly prefix: ValueSource;
    /** Where `expirySeconds` came from. */
    readonly expirySeconds: ValueSource;
  };
}

/** The server-side encryption modes S3 accepts on a manifest upload (`MANIFEST_SSE`). */
export type ManifestSse = 'AES256' | 'aws:kms' | 'aws:kms:dsse';

/** How manifests are encrypted at rest: they hold bearer URLs, so a policy may require it. */
export interface ManifestEncryption {
  /** `AES256` (S3-managed keys), `aws:kms` or `aws:kms:dsse` (KMS, single or dual layer). */
  readonly serverSideEncryption: ManifestSse;
  /** The KMS key (id, ARN or alias) for the `aws:kms` modes; absent: the account's `aws/s3` key. */
  readonly kmsKeyId?: string;
}

const SSE_MODES: readonly string[] = ['AES256', 'aws:kms', 'aws:kms:dsse'];

/**
 * Why a manifest encryption setting is unusable, or undefined when it is fine. `field` and `keyField` name where the
 * mode and the key id came from, so the message names the variable or option at fault.
 */
export function manifestEncryptionProblem(
  value: { readonly serverSideEncryption?: unknown; readonly kmsKeyId?: unknown },
  field: string,
  keyField: string,
): { field: string; error: string } | undefined {
  const mode = value.serverSideEncryption;
  if (typeof mode !== 'string' || !SSE_MODES.includes(mode)) {
    return { field, error: `${field} must be one of AES256, aws:kms, aws:kms:dsse (got ${show(mode)})` };
  }
  const keyId = value.kmsKeyId;
  if (keyId === undefined) return undefined;
  if (typeof keyId !== 'string' || keyId.trim() === '') {
    return { field: keyField, error: `${keyField} must be a non-empty KMS key id, ARN or alias (got ${show(keyId)})` };
  }
  // S3 refuses a KMS key id next to AES256; saying so here beats an InvalidArgument after the listing.
  if (mode === 'AES256') {
    return { field: keyField, error: `${keyField} needs ${field} aws:kms or aws:kms:dsse (got AES256)` };
  }
  return undefined;
}

/** Why a request is refused: the HTTP-like status, the field (event name or environment variable) and a message. */
export interface RequestRejection {
  /** 400 for a malformed value, 403 for a value outside the allow-list. */
  readonly statusCode: 400 | 403;
  /** The event field or environment variable at fault. */
  readonly field: string;
  /** What is wrong, safe to return and to log. */
  readonly error: string;
}

/** The defaults of the reference handler. */
export const DEFAULTS = {
  /** `BUCKET_NAME`'s default. */
  bucket: 'my-company-reports-bucket',
  /** `PREFIX`'s default. */
  prefix: '2026/04/',
  /** `URL_EXPIRY_SECONDS`'s default: 15 minutes. */
  expirySeconds: 900,
  /** Keys per ListObjectsV2 page (S3's maximum). */
  pageSize: 1000,
  /** Presign calls in flight. */
  concurrency: 4,
  /** `QUEUE_MAX`'s default: about two pages ahead of the presigners. */
  queueMax: 2000,
  /** `DEADLINE_MARGIN_MS`'s default: 30 s to finish presigning and complete the manifest after listing stops. */
  deadlineMarginMs: 30_000,
} as const;

/** SigV4's longest presigned URL lifetime: seven days. */
export const MAX_EXPIRY_SECONDS = 604_800;
const MAX_PAGE_SIZE = 1000;
const MAX_CONCURRENCY = 256;
const MAX_QUEUE_MAX = 1_000_000;
const MAX_PREFIX_BYTES = 1024;

/** Options of {@link resolveConfig} that do not come from the event or the environment. */
export interface ResolveConfigOptions {
  /** Overrides `S3_PUBLIC_ENDPOINT_URL`. */
  readonly publicEndpoint?: string;
  /** Overrides `DEADLINE_MARGIN_MS` (an integer ≥ {@link MIN_DEADLINE_MARGIN_MS}, checked by the caller). */
  readonly deadlineMarginMs?: number;
  /** Overrides `MANIFEST_SSE` and `MANIFEST_KMS_KEY_ID` (checked by the caller). */
  readonly manifestEncryption?: ManifestEncryption;
}

/** A resolution outcome: either a configuration or the reason it was refused. */
export type ConfigResult =
  | {
      /** The request is usable. */
      readonly ok: true;
      /** The resolved configuration. */
      readonly config: PresignConfig;
    }
  | {
      /** The request is refused. */
      readonly ok: false;
      /** Why, and which field is at fault. */
      readonly rejection: RequestRejection;
    };

/**
 * Python's truthiness for JSON values: `None`, `False`, `0`, `""`, `[]` and `{}` are falsy, so `event.get(x) or …`
 * falls back for each of them. `NaN` is truthy, as `float('nan')` is in Python: it is refused, not replaced.
 */
export function isPythonFalsy(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  if (isPlainObject(value)) return Object.keys(value).length === 0;
  return false;
}

/** True for `{}`-like objects (not arrays, not class instances such as Date or Buffer). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

// Python's str.strip() whitespace (ASCII separators 0x1c-0x1f and NEL included, BOM excluded).
const PY_WHITESPACE =
  '[\\t\\n\\v\\f\\r \\x1c-\\x1f\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const PY_STRIP = new RegExp(`^${PY_WHITESPACE}+|${PY_WHITESPACE}+$`, 'g');
const PY_INT = /^[+-]?[0-9]+(?:_[0-9]+)*$/;

/**
 * Parses a value the way the reference's `int()` did for what an event or the environment can carry: a JSON integer,
 * or a string of ASCII digits with optional surrounding whitespace, sign and `_` separators (`" 900 "`, `"+900"`,
 * `"1_000"`). Refuses fractions (`9.5`, `"9.5"`), exponents (`"1e3"`), booleans and everything else.
 */
export function parsePythonInt(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.replace(PY_STRIP, '');
  if (!PY_INT.test(text)) return undefined;
  const parsed = Number(text.replaceAll('_', ''));
  return Number.isFinite(parsed) ? parsed : undefined;
}

/**
 * Why `name` is not a usable S3 bucket name (general-purpose or directory bucket), or undefined when it is.
 * The rules of the S3 user guide: 3..63 characters of lowercase letters, digits, dots and hyphens, starting and
 * ending with a letter or digit, no `..`, not an IPv4 address, and none of the reserved prefixes and suffixes.
 */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return 'must be 3 to 63 characters long';
  if (!/^[a-z0-9.-]+$/.test(name)) return 'may contain only lowercase letters, digits, dots and hyphens';
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) return 'must start and end with a letter or a digit';
  if (name.includes('..')) return 'must not contain two adjacent dots';
  if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(name)) return 'must not be formatted as an IP address';
  for (const prefix of ['xn--', 'sthree-', 'amzn-s3-demo-']) {
    if (name.startsWith(prefix)) return `must not start with the reserved prefix "${prefix}"`;
  }
  for (const suffix of ['-s3alias', '--ol-s3', '.mrap', '--table-s3']) {
    if (name.endsWith(suffix)) return `must not end with the reserved suffix "${suffix}"`;
  }
  return undefined;
}

/**
 * A request value as the 400 messages of the handler and the batch handlers show it: JSON, cut at 80 characters.
 * @internal
 */
export function show(value: unknown): string {
  // JSON.stringify would print NaN and Infinity as null, hiding the very value at fault.
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (value === undefined) return 'undefined';
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

interface Picked {
  readonly value: unknown;
  readonly field: string;
  readonly source: ValueSource;
}

/** `event.get(name) or env.get(envName, default)`, remembering where the value came from. */
function pick(
  event: Record<string, unknown>,
  name: string,
  env: HandlerEnv,
  envName: string | undefined,
  fallback: unknown,
): Picked {
  const fromEvent = event[name];
  if (!isPythonFalsy(fromEvent)) return { value: fromEvent, field: name, source: 'event' };
  if (envName !== undefined) {
    const fromEnv = env[envName];
    if (fromEnv !== undefined) return { value: fromEnv, field: envName, source: 'env' };
  }
  return { value: fallback, field: envName ?? name, source: 'default' };
}

/** A checker of integers from `min` to `max` (Python's `int()` forms), naming the field a bad value arrived under. */
function integerFrom(min: number, max: number): (picked: Picked) => Resolved {
  return ({ value, field }) => {
    const parsed = parsePythonInt(value);
    if (parsed === undefined || parsed < min || parsed > max) {
      return refuse(field, `${field} must be an integer from ${min} to ${max} (got ${show(value)})`);
    }
    return { value: parsed };
  };
}

/** Why `value` is not a usable endpoint URL, or undefined when it is. @internal */
export function endpointProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute http:// or https:// URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an absolute http:// or https:// URL';
  if (url.username !== '' || url.password !== '') return 'must not carry credentials';
  if (url.search !== '' || url.hash !== '') return 'must not carry a query or a fragment';
  return undefined;
}

/**
 * The least `DEADLINE_MARGIN_MS` (and `deadlineMarginMs` option) accepted: the time the run needs after its deadline
 * to presign the keys it already holds and complete the manifest. The measured tail on a whole core is about 20 ms
 * for the default `QUEUE_MAX` and 100 ms with `LIST_CONCURRENCY` 16, whose answered pages are presigned too
 * (docs/scaling.md, `scripts/bench/deadline-tail.mjs`); one second leaves room for a slow CompleteMultipartUpload on S3.
 */
export const MIN_DEADLINE_MARGIN_MS = 1000;

/** The `deadlineMarginMs` option (checked by the caller), else `DEADLINE_MARGIN_MS`: an integer ≥ the minimum. */
function deadlineMarginOf({ env, options }: ResolveContext): Resolved {
  if (options.deadlineMarginMs !== undefined) return { value: options.deadlineMarginMs };
  const raw = env.DEADLINE_MARGIN_MS;
  if (raw === undefined) return { value: DEFAULTS.deadlineMarginMs };
  const margin = parsePythonInt(raw);
  if (margin === undefined || margin < MIN_DEADLINE_MARGIN_MS) {
    return refuse(
      'DEADLINE_MARGIN_MS',
      `DEADLINE_MARGIN_MS must be an integer number of milliseconds, ${MIN_DEADLINE_MARGIN_MS} or more (got ${show(raw)})`,
    );
  }
  return { value: margin };
}

/**
 * Why an invocation event is not a job (`{...}`), or undefined when it is a plain object. `null` and `undefined` are
 * refused too: the reference's `event.get(...)` fails on them, and a job that silently lists the default bucket is
 * not what anyone sent.
 */
export function eventShapeProblem(rawEvent: unknown): string | undefined {
  if (isPlainObject(rawEvent)) return undefined;
  let kind: string;
  if (rawEvent === null) kind = 'null';
  else if (rawEvent === undefined) kind = 'no event (undefined)';
  else if (Array.isArray(rawEvent)) kind = 'an array';
  else if (typeof rawEvent === 'object') kind = 'a non-plain object';
  else kind = `a ${typeof rawEvent}`;
  return `The event must be a JSON object, got ${kind}`;
}

/** What resolving one configuration property sees: the event, the environment, the options, and what came before. */
interface ResolveContext {
  readonly event: Record<string, unknown>;
  readonly env: HandlerEnv;
  readonly options: ResolveConfigOptions;
  /** The properties resolved so far (a later one may depend on an earlier one, as `startAfter` on `prefix`). */
  readonly config: Partial<Record<keyof PresignConfig, unknown>>;
}

/** One property's value (absent: left out of the configuration) and where it came from, or why it is refused. */
type Resolved = { readonly value: unknown; readonly source?: ValueSource } | { readonly rejection: RequestRejection };

/** One row of {@link CONFIG_RESOLVERS}: the property it fills and how it reads and checks its value. */
interface ConfigResolver {
  readonly property: Exclude<keyof PresignConfig, 'sources'>;
  readonly resolve: (context: ResolveContext) => Resolved;
}

function refuse(field: string, error: string): Resolved {
  return { rejection: { statusCode: 400, field, error } };
}

/**
 * A property read as `event.get(eventName) or env.get(envName, fallback)`, then checked by `check` (which answers the
 * value or a rejection naming the field the value arrived under).
 */
function picked(
  property: ConfigResolver['property'],
  eventName: string,
  envName: string | undefined,
  fallback: unknown,
  check: (picked: Picked) => Resolved,
): ConfigResolver {
  return {
    property,
    resolve: ({ event, env }) => {
      const found = pick(event, eventName, env, envName, fallback);
      const checked = check(found);
      return 'rejection' in checked ? checked : { value: checked.value, source: found.source };
    },
  };
}

function bucketName({ value, field }: Picked): Resolved {
  if (typeof value !== 'string') return refuse(field, `${field} must be a string (got ${show(value)})`);
  const problem = bucketNameProblem(value);
  if (problem !== undefined) {
    return refuse(field, `${field} is not a valid S3 bucket name: it ${problem} (got ${show(value)})`);
  }
  return { value };
}

/**
 * Whether a string holds a lone UTF-16 surrogate (a JSON event may carry one as `\ud800`): no S3 key can, as keys are
 * UTF-8, and the SDK throws a URIError when it encodes one into a request. Such a field is refused, not sent.
 * @internal
 */
export function hasLoneSurrogate(value: string): boolean {
  return /\p{Surrogate}/u.test(value);
}

/** Why a string field holding a lone surrogate is refused (see {@link hasLoneSurrogate}). @internal */
export function loneSurrogateProblem(field: string): string {
  return `${field} must be valid Unicode text: it holds a lone UTF-16 surrogate, which no S3 key can hold`;
}

function notText(field: string): Resolved {
  return refuse(field, loneSurrogateProblem(field));
}

function prefixString({ value, field }: Picked): Resolved {
  if (typeof value !== 'string') return refuse(field, `${field} must be a string (got ${show(value)})`);
  if (hasLoneSurrogate(value)) return notText(field);
  if (Buffer.byteLength(value, 'utf8') > MAX_PREFIX_BYTES) {
    return refuse(field, `${field} must be at most ${MAX_PREFIX_BYTES} bytes long, the longest S3 key`);
  }
  return { value };
}

/** The event's `start_after`: a continuation cursor is always a key listed under the prefix; anything else would list all or nothing. */
function startAfterOf({ event, config }: ResolveContext): Resolved {
  const value = event.start_after;
  // Python's `or`, as for every event field: 0, false, [] and {} mean "from the start", as null and "" do.
  if (isPythonFalsy(value)) return { value: undefined };
  if (typeof value !== 'string') {
    return refuse(
      'start_after',
      `start_after must be a string, the next_start_after of an earlier run (got ${show(value)})`,
    );
  }
  if (hasLoneSurrogate(value)) return notText('start_after');
  if (Buffer.byteLength(value, 'utf8') > MAX_PREFIX_BYTES) {
    return refuse('start_after', `start_after must be at most ${MAX_PREFIX_BYTES} bytes long, the longest S3 key`);
  }
  const prefix = config.prefix as string;
  if (value !== '' && !value.startsWith(prefix)) {
    return refuse('start_after', `start_after must start with the prefix ${show(prefix)} (got ${show(value)})`);
  }
  return { value: value === '' ? undefined : value };
}

function queueMaxOf({ env }: ResolveContext): Resolved {
  const value = env.QUEUE_MAX;
  if (value === undefined) return { value: DEFAULTS.queueMax };
  return integerFrom(1, MAX_QUEUE_MAX)({ value, field: 'QUEUE_MAX', source: 'env' });
}

/** `S3_ENDPOINT_URL`: `os.environ.get("S3_ENDPOINT_URL") or None`, so an empty value means "not set". */
function endpointOf({ env }: ResolveContext): Resolved {
  const endpoint = env.S3_ENDPOINT_URL || undefined;
  const problem = endpoint === undefined ? undefined : endpointProblem(endpoint);
  return problem === undefined ? { value: endpoint } : refuse('S3_ENDPOINT_URL', `S3_ENDPOINT_URL ${problem}`);
}

/** The `publicEndpoint` option, else `S3_PUBLIC_ENDPOINT_URL` (empty: not set). */
function publicEndpointOf({ env, options }: ResolveContext): Resolved {
  const field = options.publicEndpoint !== undefined ? 'publicEndpoint' : 'S3_PUBLIC_ENDPOINT_URL';
  const endpoint = options.publicEndpoint || env.S3_PUBLIC_ENDPOINT_URL || undefined;
  const problem = endpoint === undefined ? undefined : endpointProblem(endpoint);
  return problem === undefined ? { value: endpoint } : refuse(field, `${field} ${problem}`);
}

/** The `manifestEncryption` option, else `MANIFEST_SSE` and `MANIFEST_KMS_KEY_ID` (empty: not set). */
function manifestEncryptionOf({ env, options }: ResolveContext): Resolved {
  if (options.manifestEncryption !== undefined) return { value: options.manifestEncryption };
  const mode = env.MANIFEST_SSE?.trim() || undefined;
  const keyId = env.MANIFEST_KMS_KEY_ID?.trim() || undefined;
  if (mode === undefined && keyId !== undefined) {
    return refuse(
      'MANIFEST_KMS_KEY_ID',
      'MANIFEST_KMS_KEY_ID needs MANIFEST_SSE aws:kms or aws:kms:dsse (MANIFEST_SSE is not set)',
    );
  }
  if (mode === undefined) return { value: undefined };
  const problem = manifestEncryptionProblem(
    { serverSideEncryption: mode, kmsKeyId: keyId },
    'MANIFEST_SSE',
    'MANIFEST_KMS_KEY_ID',
  );
  if (problem !== undefined) return refuse(problem.field, problem.error);
  const encryption: ManifestEncryption = {
    serverSideEncryption: mode as ManifestSse,
    ...(keyId !== undefined ? { kmsKeyId: keyId } : {}),
  };
  return { value: encryption };
}

/**
 * Every configuration property, in the order they are checked (the first bad one is the one reported): the rows of
 * the configuration table (config-fields.ts) that land in {@link PresignConfig}, with how each is read.
 */
const CONFIG_RESOLVERS: readonly ConfigResolver[] = [
  picked('bucket', 'bucket', 'BUCKET_NAME', DEFAULTS.bucket, bucketName),
  picked('prefix', 'prefix', 'PREFIX', DEFAULTS.prefix, prefixString),
  picked(
    'expirySeconds',
    'expiry_seconds',
    'URL_EXPIRY_SECONDS',
    DEFAULTS.expirySeconds,
    integerFrom(1, MAX_EXPIRY_SECONDS),
  ),
  picked('pageSize', 'page_size', undefined, DEFAULTS.pageSize, integerFrom(1, MAX_PAGE_SIZE)),
  picked('concurrency', 'concurrency', undefined, DEFAULTS.concurrency, integerFrom(1, MAX_CONCURRENCY)),
  { property: 'startAfter', resolve: startAfterOf },
  { property: 'deadlineMarginMs', resolve: deadlineMarginOf },
  { property: 'queueMax', resolve: queueMaxOf },
  { property: 'endpoint', resolve: endpointOf },
  { property: 'publicEndpoint', resolve: publicEndpointOf },
  { property: 'manifestEncryption', resolve: manifestEncryptionOf },
];

/**
 * Resolves the run configuration from an event and the environment, validating every value before anything touches
 * S3. Missing (or Python-falsy) event fields fall back to the environment, then to the reference defaults. A bad value
 * is reported with the name it arrived under: the event field (`expiry_seconds`) or the variable (`URL_EXPIRY_SECONDS`).
 */
export function resolveConfig(rawEvent: unknown, env: HandlerEnv, options: ResolveConfigOptions = {}): ConfigResult {
  const eventProblem = eventShapeProblem(rawEvent);
  if (eventProblem !== undefined)
    return { ok: false, rejection: { statusCode: 400, field: 'event', error: eventProblem } };
  const config: Partial<Record<keyof PresignConfig, unknown>> = {};
  const sources: Partial<Record<keyof PresignConfig, ValueSource>> = {};
  const context: ResolveContext = { event: rawEvent as Record<string, unknown>, env, options, config };
  for (const { property, resolve } of CONFIG_RESOLVERS) {
    const resolved = resolve(context);
    if ('rejection' in resolved) return { ok: false, rejection: resolved.rejection };
    if (resolved.value !== undefined) config[property] = resolved.value;
    if (resolved.source !== undefined) sources[property] = resolved.source;
  }
  const { bucket, prefix, expirySeconds } = sources as Record<'bucket' | 'prefix' | 'expirySeconds', ValueSource>;
  return {
    ok: true,
    config: { ...(config as Omit<PresignConfig, 'sources'>), sources: { bucket, prefix, expirySeconds } },
  };
}

/** Field name a configuration value is reported under, given where it came from. */
export function fieldName(eventName: 'bucket' | 'prefix' | 'expiry_seconds', source: ValueSource): string {
  if (source === 'event') return eventName;
  return eventName === 'bucket' ? 'BUCKET_NAME' : eventName === 'prefix' ? 'PREFIX' : 'URL_EXPIRY_SECONDS';
}
