/**
 * The handler's inventory mode: an event with `inventory_manifest` (`s3://bucket/key` of an S3 Inventory
 * manifest.json) presigns the keys the inventory lists instead of listing the prefix. Kept apart from the listing
 * configuration so both evolve without touching each other.
 */

import type { S3Client } from '@aws-sdk/client-s3';
import {
  isInventoryToken,
  isPresignPipelineError,
  s3InventorySource,
  type KeyFilter,
  type KeySource,
} from '@presign-pipeline/core';
import type { AccessPolicy } from './access.js';
import {
  hasLoneSurrogate,
  isPythonFalsy,
  loneSurrogateProblem,
  type PresignConfig,
  type RequestRejection,
} from './config.js';
import { resolveModifiedWindow, type ModifiedWindow } from './freshness.js';

/** Where the keys come from in inventory mode. @internal */
export interface InventoryRequest {
  /** The manifest's bucket (the inventory's destination bucket) and key. */
  readonly manifest: { readonly bucket: string; readonly key: string };
  /** The keys kept start with this: the event's (or `PREFIX`'s) prefix; empty when neither gives one. */
  readonly prefix: string;
  /** Where to continue an earlier inventory run (the event's `resume_token`). */
  readonly resumeToken?: string;
  /** The event's `modified_after` / `modified_before`: the LastModified window the run keeps. */
  readonly window: ModifiedWindow;
}

const MAX_TOKEN_BYTES = 4096;

function reject(field: string, error: string, statusCode: 400 | 403 = 400): RequestRejection {
  return { statusCode, field, error };
}

/** `s3://bucket/key` → its bucket and key, or undefined when it is not one. */
function parseS3Url(value: string): { bucket: string; key: string } | undefined {
  const match = /^s3:\/\/([^/]+)\/(.+)$/s.exec(value);
  if (match === null) return undefined;
  return { bucket: match[1] as string, key: match[2] as string };
}

/**
 * Reads `inventory_manifest` and `resume_token` from the event: undefined for a listing run (no
 * `inventory_manifest`), a rejection naming the field at fault, or the inventory request. @internal
 */
export function resolveInventoryRequest(
  event: unknown,
  config: PresignConfig,
  policy: AccessPolicy,
): InventoryRequest | RequestRejection | undefined {
  const fields = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
  const raw = fields.inventory_manifest;
  const token = fields.resume_token;
  const window = resolveModifiedWindow(fields, !isPythonFalsy(raw));
  if ('statusCode' in window) return window;
  if (isPythonFalsy(raw)) {
    // Without inventory_manifest, resume_token continues a listing: resolveListing checks it is a listing token.
    return undefined;
  }
  if (typeof raw === 'string' && hasLoneSurrogate(raw)) {
    return reject('inventory_manifest', loneSurrogateProblem('inventory_manifest'));
  }
  const manifest = typeof raw === 'string' ? parseS3Url(raw) : undefined;
  if (manifest === undefined) {
    return reject(
      'inventory_manifest',
      `inventory_manifest must be the s3://bucket/key of an S3 Inventory manifest.json (got ${typeof raw === 'string' ? JSON.stringify(raw.slice(0, 200)) : typeof raw})`,
    );
  }
  if (policy.allowedBuckets !== undefined && !policy.allowedBuckets.includes(manifest.bucket)) {
    return reject(
      'inventory_manifest',
      `Bucket ${JSON.stringify(manifest.bucket)} of inventory_manifest is not in the allowed buckets`,
      403,
    );
  }
  // The listing default prefix is not a filter anyone asked for: only an explicit prefix narrows an inventory.
  const prefix = config.sources.prefix === 'default' ? '' : config.prefix;
  if (policy.allowedPrefixes !== undefined && !policy.allowedPrefixes.some((allowed) => prefix.startsWith(allowed))) {
    return reject(
      'prefix',
      `An inventory run must name a prefix under an allowed prefix (got ${JSON.stringify(prefix)})`,
      403,
    );
  }
  if (config.startAfter !== undefined) {
    return reject('start_after', 'start_after continues a listing; an inventory run continues with resume_token');
  }
  if (isPythonFalsy(token)) return { manifest, prefix, window };
  if (typeof token !== 'string' || !isInventoryToken(token) || Buffer.byteLength(token, 'utf8') > MAX_TOKEN_BYTES) {
    const listingToken = typeof token === 'string' && token.startsWith('v');
    return reject(
      'resume_token',
      listingToken
        ? "resume_token is a listing run's token (v1.…); with inventory_manifest it must be the resume_token an earlier inventory run returned (inv1.…)"
        : 'resume_token must be the resume_token an earlier inventory run returned (inv1.…)',
    );
  }
  return { manifest, prefix, resumeToken: token, window };
}

/** The key source of an inventory run: the inventory's keys in `config.bucket`, filtered like a listing's. @internal */
export function inventoryKeySource(
  client: S3Client,
  config: PresignConfig,
  request: InventoryRequest,
  filter: KeyFilter,
): KeySource {
  return s3InventorySource({
    client,
    manifest: request.manifest,
    bucket: config.bucket,
    prefix: request.prefix,
    filter,
    ...(request.resumeToken !== undefined ? { resumeToken: request.resumeToken } : {}),
    ...request.window,
  });
}

/** Inventory problems that are the event's fault: answered 400 naming the field, not retried. @internal */
export function inventoryRejection(error: unknown): RequestRejection | undefined {
  if (!isPresignPipelineError(error)) return undefined;
  if (error.code === 'INVALID_INVENTORY_MANIFEST' || error.code === 'UNSUPPORTED_INVENTORY_FORMAT') {
    return reject('inventory_manifest', error.message);
  }
  if (error.code === 'INVALID_RESUME_TOKEN') return reject('resume_token', error.message);
  return undefined;
}
