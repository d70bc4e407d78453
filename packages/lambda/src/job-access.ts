import { type AccessPolicy, checkAccess, resolveAccessPolicy } from './access.js';
import type { HandlerEnv, PresignConfig, RequestRejection } from './config.js';
import { type InventoryRequest, resolveInventoryRequest } from './inventory.js';

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
