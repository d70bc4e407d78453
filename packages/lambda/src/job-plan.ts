import { admitJob } from './job-access.js';
import { resolveConfig, type HandlerEnv, type PresignConfig, type RequestRejection } from './config.js';
import { expiryPolicyOf, type HandlerSettings } from './handler-settings.js';
import { resolveIdempotencySettings, type IdempotencySettings } from './idempotency.js';
import type { InventoryRequest } from './inventory.js';
import { isRejection, resolveListing, type ListingConfig } from './listing.js';

/**
 * One event, checked: what to list (or which inventory to read), how, what to do when the credentials expire early,
 * and how the job is deduplicated. @internal
 */
export interface JobPlan {
  /** The event and environment resolved. */
  readonly config: PresignConfig;
  /** The inventory to read instead of listing, or undefined for a listing. */
  readonly inventory: InventoryRequest | undefined;
  /** How the bucket is listed (concurrency, resume token). */
  readonly listing: ListingConfig;
  /** What the run does when the credentials expire before the URLs would. */
  readonly onExpiryCapped: 'warn' | 'refuse';
  /** Idempotency settings when jobs are deduplicated, else undefined. */
  readonly dedup: IdempotencySettings | undefined;
}

/** The handler settings the plan reads. @internal */
export type PlanSettings = Pick<HandlerSettings, 'configOptions' | 'accessOptions' | 'onExpiryCapped' | 'idempotency'>;

/** True for a refused request (400 or 403) rather than a plan. @internal */
export function isRequestRejection(value: object): value is RequestRejection {
  return 'statusCode' in value;
}

/**
 * The config and access steps of one invocation, in the order their problems are reported: the configuration, the
 * inventory request and the allow-lists, the listing, `ON_EXPIRY_CAPPED`, the idempotency settings. The first
 * problem is the rejection; nothing is called on S3. @internal
 */
export function planJob(event: unknown, env: HandlerEnv, settings: PlanSettings): JobPlan | RequestRejection {
  const resolved = resolveConfig(event, env, settings.configOptions);
  if (!resolved.ok) return resolved.rejection;
  const config = resolved.config;
  const admitted = admitJob(event, env, config, settings.accessOptions);
  if (isRequestRejection(admitted)) return admitted;
  const listing = resolveListing(event, env, config, admitted.inventory !== undefined);
  if (isRejection(listing)) return listing;
  const onExpiryCapped = settings.onExpiryCapped ?? expiryPolicyOf(env);
  if (typeof onExpiryCapped !== 'string') return onExpiryCapped;
  const dedup = resolveIdempotencySettings(env, settings.idempotency);
  if (dedup !== undefined && isRequestRejection(dedup)) return dedup;
  return { config, inventory: admitted.inventory, listing, onExpiryCapped, dedup };
}
