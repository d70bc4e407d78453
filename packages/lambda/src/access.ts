import { fieldName, type HandlerEnv, type PresignConfig, type RequestRejection } from './config.js';
import { resolveInventoryRequest, type InventoryRequest } from './inventory.js';

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

/** What the access step admits: the inventory request, when the event names an inventory, checked against the policy. @internal */
export interface AdmittedJob {
  /** The inventory to read instead of listing, or undefined for a listing. */
  readonly inventory: InventoryRequest | undefined;
}

/**
 * The access step of a job: the policy in force, the event's inventory request checked against it, then the bucket
 * and prefix (an inventory run's prefix filter was checked with its request, so it need not be under the allowed
 * prefixes). A rejection (400 or 403) names the field at fault. @internal
 */
export function admitJob(
  event: unknown,
  env: HandlerEnv,
  config: PresignConfig,
  options: AccessPolicy,
): AdmittedJob | RequestRejection {
  const policy = resolveAccessPolicy(env, options);
  const inventory = resolveInventoryRequest(event, config, policy);
  if (inventory !== undefined && 'statusCode' in inventory) return inventory;
  const denied = checkAccess(config, inventory === undefined ? policy : { ...policy, allowedPrefixes: undefined });
  return denied ?? { inventory };
}
