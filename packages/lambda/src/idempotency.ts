import { checkInteger, checkObject, optionRangeError, optionTypeError } from '@presign-pipeline/core/internal';
import type { Context } from 'aws-lambda';
import { endpointProblem, parsePythonInt, type HandlerEnv, type RequestRejection } from './config.js';

/**
 * Opt-in deduplication of jobs through a DynamoDB table (hash key `id`, a string), built on Powertools idempotency. It
 * needs an {@link IdempotencyStore} on the handler: `dynamoDbIdempotencyStore()` from `@presign-pipeline/lambda/idempotency`,
 * which is kept out of the main entry so handlers without idempotency neither bundle nor load DynamoDB and Powertools.
 */
export interface IdempotencyOptions {
  /**
   * The DynamoDB table: 3 to 255 characters of letters, digits, `_`, `.` and `-`, taken as written. Its hash key must
   * be `id` (S); enable its TTL on the `expiration` attribute. To turn deduplication off, pass `idempotency: false`.
   */
  readonly tableName: string;
  /**
   * Longest time a result is reused, in whole seconds, 1 or more. Default 3600. A record never outlives the URLs it
   * points to: counted from when the run starts, the record lives `min(ttlSeconds, expiry − marginSeconds,
   * credentials' remaining life − marginSeconds)`, so a slow run leaves a shorter record, and none when the run took
   * all of it.
   */
  readonly ttlSeconds?: number;
  /** Seconds of URL life a reused result must still have, a whole number, 0 or more. Default 60. */
  readonly marginSeconds?: number;
  /** A DynamoDB endpoint, an absolute http:// or https:// URL (a local one in tests); default `DYNAMODB_ENDPOINT_URL`. */
  readonly endpoint?: string;
}

/** The identity of a job: the same identity within the TTL gets the stored result. */
export interface JobKey {
  /** The listed bucket. */
  readonly bucket: string;
  /** The listed prefix. */
  readonly prefix: string;
  /** The requested URL lifetime. */
  readonly expiry_seconds: number;
  /** The key suffix the job keeps. */
  readonly suffix: string;
  /** Where a continuation starts (absent for a run from the start, so such keys hash as before continuation existed). */
  readonly start_after?: string;
  /** The S3 Inventory manifest an inventory job reads (absent for a listing). */
  readonly inventory_manifest?: string;
  /** Where an inventory job or a concurrent listing continues (absent for a run from the start). */
  readonly resume_token?: string;
  /** An inventory job's LastModified window, ISO 8601 (absent when not given). */
  readonly modified_after?: string;
  /** See `modified_after`. */
  readonly modified_before?: string;
}

/**
 * What is stored for a finished job: small, and free of URLs. The manifest URL is presigned again for every caller,
 * so a stored result can never hand out a dead link to the manifest itself.
 */
export interface StoredResult {
  /** Keys presigned. */
  readonly count: number;
  /** Keys that failed to presign. */
  readonly errors: number;
  /** Pages listed. */
  readonly pages: number;
  /** The manifest's key in the job's bucket. */
  readonly manifest_key: string;
  /** The manifest's size in bytes. */
  readonly manifest_bytes: number;
  /** When the first URL inside the manifest dies, in epoch seconds (counted from before the run signed its first URL). */
  readonly urls_expire_at: number;
  /** False for a run cut short by its deadline (such results are returned, never stored). Absent means true. */
  readonly complete?: boolean;
  /** Where the next run starts, for a result that is not complete. */
  readonly next_start_after?: string;
  /** Where the next run continues an inventory run or a concurrent listing, for a result that is not complete. */
  readonly resume_token?: string;
}

/** Settings resolved for one invocation. */
export interface IdempotencySettings {
  /** The table. */
  readonly tableName: string;
  /** The configured TTL in seconds. */
  readonly ttlSeconds: number;
  /** The margin in seconds. */
  readonly marginSeconds: number;
  /** The endpoint, if not AWS's. */
  readonly endpoint?: string;
}

/** Default record lifetime (Powertools' own default). */
export const DEFAULT_IDEMPOTENCY_TTL_SECONDS = 3600;
/** Default URL life a reused result must still have. */
export const DEFAULT_IDEMPOTENCY_MARGIN_SECONDS = 60;

/** DynamoDB's rule for table names. */
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

/** Why `name` is not a DynamoDB table name, or undefined when it is. */
function tableNameProblem(name: string): string | undefined {
  return TABLE_NAME.test(name)
    ? undefined
    : 'must be a DynamoDB table name: 3 to 255 characters of letters, digits, "_", "." and "-"';
}

/**
 * Checks the `idempotency` option when the handler is created, with the ranges the environment variables accept;
 * each error (code `INVALID_OPTION`) names the bad field. @internal
 */
export function checkIdempotencyOption(owner: string, option: unknown): IdempotencyOptions | false | undefined {
  if (option === undefined || option === false) return option;
  checkObject(owner, 'idempotency', option);
  const { tableName, ttlSeconds, marginSeconds, endpoint } = option as Record<string, unknown>;
  if (typeof tableName !== 'string') {
    throw optionTypeError(
      `${owner}: idempotency.tableName must be a string (got ${typeof tableName}); pass idempotency: false to turn deduplication off`,
    );
  }
  const tableProblem = tableNameProblem(tableName);
  if (tableProblem !== undefined) {
    throw optionRangeError(`${owner}: idempotency.tableName ${tableProblem} (got ${JSON.stringify(tableName)})`);
  }
  if (ttlSeconds !== undefined) checkInteger(owner, 'idempotency.ttlSeconds', ttlSeconds, 1);
  if (marginSeconds !== undefined) checkInteger(owner, 'idempotency.marginSeconds', marginSeconds, 0);
  if (endpoint !== undefined) {
    if (typeof endpoint !== 'string') throw optionTypeError(`${owner}: idempotency.endpoint must be a string URL`);
    const problem = endpointProblem(endpoint);
    if (problem !== undefined) throw optionRangeError(`${owner}: idempotency.endpoint ${problem}`);
  }
  return option as IdempotencyOptions;
}

/**
 * The idempotency settings in force for an invocation, undefined when off, or a rejection naming a bad variable.
 * The option is checked when the handler is created ({@link checkIdempotencyOption}); the variables here.
 */
export function resolveIdempotencySettings(
  env: HandlerEnv,
  option: IdempotencyOptions | false | undefined,
): IdempotencySettings | undefined | RequestRejection {
  if (option === false) return undefined;
  const table = option !== undefined ? { value: option.tableName } : tableFromEnv(env);
  if (table === undefined || 'rejection' in table) return table?.rejection;
  const ttl = option?.ttlSeconds !== undefined ? { value: option.ttlSeconds } : ttlFromEnv(env);
  if ('rejection' in ttl) return ttl.rejection;
  const endpoint = option?.endpoint !== undefined ? { value: option.endpoint } : endpointFromEnv(env);
  if ('rejection' in endpoint) return endpoint.rejection;
  return {
    tableName: table.value,
    ttlSeconds: ttl.value,
    marginSeconds: option?.marginSeconds ?? DEFAULT_IDEMPOTENCY_MARGIN_SECONDS,
    ...(endpoint.value !== undefined ? { endpoint: endpoint.value } : {}),
  };
}

type FromEnv<T> = { readonly value: T } | { readonly rejection: RequestRejection };

function rejected(field: string, error: string): { rejection: RequestRejection } {
  return { rejection: { statusCode: 400, field, error } };
}

/** `IDEMPOTENCY_TABLE`, surrounding whitespace trimmed as for other names (empty or blank: off). */
function tableFromEnv(env: HandlerEnv): FromEnv<string> | undefined {
  const raw = env.IDEMPOTENCY_TABLE;
  const name = raw?.trim();
  if (name === undefined || name === '') return undefined;
  const problem = tableNameProblem(name);
  return problem === undefined
    ? { value: name }
    : rejected('IDEMPOTENCY_TABLE', `IDEMPOTENCY_TABLE ${problem} (got ${JSON.stringify(raw)})`);
}

/** `IDEMPOTENCY_TTL_SECONDS`: a positive integer, default 3600. */
function ttlFromEnv(env: HandlerEnv): FromEnv<number> {
  const raw = env.IDEMPOTENCY_TTL_SECONDS;
  if (raw === undefined) return { value: DEFAULT_IDEMPOTENCY_TTL_SECONDS };
  const parsed = parsePythonInt(raw);
  if (parsed === undefined || parsed < 1) {
    return rejected(
      'IDEMPOTENCY_TTL_SECONDS',
      `IDEMPOTENCY_TTL_SECONDS must be a positive integer (got ${JSON.stringify(raw)})`,
    );
  }
  return { value: parsed };
}

/** `DYNAMODB_ENDPOINT_URL`, read and checked as `S3_ENDPOINT_URL` is (empty: AWS's). */
function endpointFromEnv(env: HandlerEnv): FromEnv<string | undefined> {
  const endpoint = env.DYNAMODB_ENDPOINT_URL || undefined;
  const problem = endpoint === undefined ? undefined : endpointProblem(endpoint);
  return problem === undefined
    ? { value: endpoint }
    : rejected('DYNAMODB_ENDPOINT_URL', `DYNAMODB_ENDPOINT_URL ${problem}`);
}

/**
 * How long a record for this job may live: `min(ttl, expiry − margin, credentials' remaining life − margin)`, in
 * whole seconds. Zero or less means "do not deduplicate this call" (its URLs would be too short-lived to reuse).
 */
export function recordLifetimeSeconds(
  settings: Pick<IdempotencySettings, 'ttlSeconds' | 'marginSeconds'>,
  expirySeconds: number,
  credentialsExpireAt: Date | undefined,
  now = Date.now(),
): number {
  let lifetime = Math.min(settings.ttlSeconds, expirySeconds - settings.marginSeconds);
  if (credentialsExpireAt !== undefined) {
    lifetime = Math.min(lifetime, Math.floor((credentialsExpireAt.getTime() - now) / 1000) - settings.marginSeconds);
  }
  return Math.floor(lifetime);
}

/** The outcome of a deduplicated job. */
export interface DedupOutcome {
  /** The result, fresh or stored. */
  readonly stored: StoredResult;
  /** True when the stored result of an earlier run was returned (nothing was listed). */
  readonly replay: boolean;
}

/** One job to run at most once within its record's lifetime; what {@link IdempotencyStore.run} receives. */
export interface IdempotentJob {
  /** The settings in force for this invocation (table, TTL, margin, endpoint). */
  readonly settings: IdempotencySettings;
  /** The job's identity. */
  readonly key: JobKey;
  /** Prefix of the record id, the function's name: two functions never share records. */
  readonly keyPrefix: string;
  /**
   * How long the record may live, in seconds: min(TTL, URL expiry − margin, credentials' life − margin); always 1 or
   * more. Counted from when `run` is called, not from when the result is saved: a job that takes 40 s of a 100 s
   * lifetime leaves a record of at most 60 s, and none when it takes all of it. The record must also expire
   * `settings.marginSeconds` before the result's `urls_expire_at`.
   */
  readonly lifetimeSeconds: number;
  /** The invocation's context: an in-progress lock expires when the invocation would time out. */
  readonly context: Context | undefined;
  /** The AWS region of the function, for clients the store builds. */
  readonly region: string;
  /** Runs the job; called at most once, and not at all when a stored result is returned. */
  readonly job: () => Promise<StoredResult>;
}

/**
 * Where the handler deduplicates jobs. `dynamoDbIdempotencyStore()` (from `@presign-pipeline/lambda/idempotency`) is
 * the built-in one, on Powertools idempotency and DynamoDB.
 */
export interface IdempotencyStore {
  /**
   * Runs `job` unless a run with the same key finished within the record's lifetime (then returns its stored result)
   * or is in progress (then rejects with an error named `IdempotencyAlreadyInProgressError`). A job that throws leaves
   * no record; a job whose result has item errors (`errors > 0`) or stopped at its deadline (`complete: false`) is
   * returned but not stored, so a retry runs again instead of being handed a partial result.
   */
  run(job: IdempotentJob): Promise<DedupOutcome>;
}
