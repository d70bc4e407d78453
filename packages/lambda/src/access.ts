import { fieldName, type HandlerEnv, type PresignConfig, type RequestRejection } from './config.js';

/** Which buckets and prefixes an event may point the function's role at. */
export interface AccessPolicy {
  /** Buckets that may be listed; undefined means any bucket the role can read. */
  readonly allowedBuckets?: readonly string[];
  /** Prefixes a listed prefix must start with; undefined means any prefix. */
  readonly allowedPrefixes?: readonly string[];
}

/**
 * Splits a comma-separated list, trimming entries and dropping empty ones; undefined only when the variable is not
 * set. A list that is set but names nothing (`""`, `" , "`) is an empty list, which allows nothing: an allow-list
 * left blank by a template fails closed and says so, rather than lifting the restriction without a word.
 */
export function parseList(value: string | undefined): readonly string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

/** The policy in force: the handler's options win, else `ALLOWED_BUCKETS` / `ALLOWED_PREFIXES` from the environment. */
export function resolveAccessPolicy(env: HandlerEnv, options: AccessPolicy = {}): AccessPolicy {
  const allowedBuckets = options.allowedBuckets ?? parseList(env.ALLOWED_BUCKETS);
  const allowedPrefixes = options.allowedPrefixes ?? parseList(env.ALLOWED_PREFIXES);
  return {
    ...(allowedBuckets !== undefined ? { allowedBuckets } : {}),
    ...(allowedPrefixes !== undefined ? { allowedPrefixes } : {}),
  };
}

/**
 * A 403 rejection when the configuration reaches outside the policy, else undefined. Prefixes compare literally
 * (`startsWith`), so an allowed prefix should end with `/` to stop `reports` from admitting `reports-private/`.
 */
export function checkAccess(config: PresignConfig, policy: AccessPolicy): RequestRejection | undefined {
  if (policy.allowedBuckets !== undefined && !policy.allowedBuckets.includes(config.bucket)) {
    const field = fieldName('bucket', config.sources.bucket);
    return {
      statusCode: 403,
      field,
      error: notAllowed('Bucket', config.bucket, policy.allowedBuckets, 'ALLOWED_BUCKETS'),
    };
  }
  if (
    policy.allowedPrefixes !== undefined &&
    !policy.allowedPrefixes.some((allowed) => config.prefix.startsWith(allowed))
  ) {
    const field = fieldName('prefix', config.sources.prefix);
    return {
      statusCode: 403,
      field,
      error: notAllowed('Prefix', config.prefix, policy.allowedPrefixes, 'ALLOWED_PREFIXES'),
    };
  }
  return undefined;
}

/** The 403 message; an allow-list that names nothing says so, since no value could pass it. @internal */
export function notAllowed(
  what: 'Bucket' | 'Prefix',
  value: string,
  allowed: readonly string[],
  variable: string,
): string {
  const verdict = what === 'Bucket' ? 'is not in the allowed buckets' : 'is not under an allowed prefix';
  if (allowed.length > 0) return `${what} ${JSON.stringify(value)} ${verdict}`;
  return (
    `${what} ${JSON.stringify(value)} ${verdict}: the allow-list (${variable} or the handler's option) is set but ` +
    `names none, so nothing is allowed; remove it to allow any ${what.toLowerCase()}`
  );
}
