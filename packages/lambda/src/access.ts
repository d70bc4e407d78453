import { fieldName, type HandlerEnv, type PresignConfig, type RequestRejection } from './config.js';

/** Which buckets and prefixes an event may point the function's role at. */
export interface AccessPolicy {
  /** Buckets that may be listed; undefined means any bucket the role can read. */
  readonly allowedBuckets?: readonly string[];
  /** Prefixes a listed prefix must start with; undefined means any prefix. */
  readonly allowedPrefixes?: readonly string[];
}

/** Splits a comma-separated list, trimming entries and dropping empty ones; undefined when nothing is left. */
export function parseList(value: string | undefined): readonly string[] | undefined {
  if (value === undefined) return undefined;
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  return entries.length > 0 ? entries : undefined;
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
    return { statusCode: 403, field, error: `Bucket ${JSON.stringify(config.bucket)} is not in the allowed buckets` };
  }
  if (
    policy.allowedPrefixes !== undefined &&
    !policy.allowedPrefixes.some((allowed) => config.prefix.startsWith(allowed))
  ) {
    const field = fieldName('prefix', config.sources.prefix);
    return { statusCode: 403, field, error: `Prefix ${JSON.stringify(config.prefix)} is not under an allowed prefix` };
  }
  return undefined;
}
