import {
  GetBucketLifecycleConfigurationCommand,
  PutBucketLifecycleConfigurationCommand,
  type LifecycleRule,
  type TransitionDefaultMinimumObjectSize,
  type S3Client,
} from '@aws-sdk/client-s3';
import { bucketNameProblem } from './config.js';
import { optionRangeError, optionTypeError } from '@presign-pipeline/core/internal';

/** The ID of the rule {@link ensureManifestLifecycle} owns; other rules of the bucket are never touched. */
export const MANIFEST_LIFECYCLE_RULE_ID = 'presign-pipeline-expire-manifests';

/** Options of {@link ensureManifestLifecycle}. */
export interface ManifestLifecycleOptions {
  /** The client that reads and writes the bucket's lifecycle configuration. */
  readonly client: S3Client;
  /** The bucket manifests are written to. */
  readonly bucket: string;
  /** Where the manifests live; must not be empty (that would expire the whole bucket). Default `manifests/`. */
  readonly prefix?: string;
  /** Days after which a manifest is deleted, an integer ≥ 1. Default 1 (the URLs inside are long dead by then). */
  readonly days?: number;
}

/** What {@link ensureManifestLifecycle} found and did. */
export interface ManifestLifecycleResult {
  /** False when the bucket already had exactly this rule, so nothing was written. */
  readonly changed: boolean;
  /** The bucket's rules after the call (ours included). */
  readonly rules: readonly LifecycleRule[];
}

const MAX_RULES = 1000;
const MAX_DAYS = 36_500;

function sameRule(a: LifecycleRule, b: LifecycleRule): boolean {
  return (
    a.Status === b.Status &&
    a.Filter?.Prefix === b.Filter?.Prefix &&
    a.Expiration?.Days === b.Expiration?.Days &&
    a.AbortIncompleteMultipartUpload?.DaysAfterInitiation === b.AbortIncompleteMultipartUpload?.DaysAfterInitiation &&
    a.Filter?.And === undefined &&
    a.Filter?.Tag === undefined &&
    a.Transitions === undefined &&
    a.NoncurrentVersionExpiration === undefined
  );
}

/**
 * Makes sure the bucket deletes old manifests: adds (or updates) one lifecycle rule that expires objects under
 * `prefix` after `days` and aborts multipart uploads left incomplete for a day. The bucket's other rules are kept as
 * they are; only a rule with our ID ({@link MANIFEST_LIFECYCLE_RULE_ID}) is replaced. Calling it again is a no-op.
 * Meant for provisioning scripts, not for the handler's hot path (it needs `s3:GetLifecycleConfiguration` and
 * `s3:PutLifecycleConfiguration`).
 */
export async function ensureManifestLifecycle(options: ManifestLifecycleOptions): Promise<ManifestLifecycleResult> {
  const { client, bucket, prefix = 'manifests/', days = 1 } = options;
  if (typeof client?.send !== 'function') throw optionTypeError('ensureManifestLifecycle: client must be an S3Client');
  if (typeof bucket !== 'string' || bucketNameProblem(bucket) !== undefined) {
    throw optionTypeError(
      `ensureManifestLifecycle: bucket must be a valid S3 bucket name (got ${JSON.stringify(bucket)})`,
    );
  }
  if (typeof prefix !== 'string' || prefix === '') {
    throw optionTypeError(
      'ensureManifestLifecycle: prefix must be a non-empty string (an empty prefix would expire the whole bucket)',
    );
  }
  if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS) {
    throw optionRangeError(
      `ensureManifestLifecycle: days must be an integer from 1 to ${MAX_DAYS} (got ${String(days)})`,
    );
  }

  let existing: LifecycleRule[] = [];
  let transitionDefault: TransitionDefaultMinimumObjectSize | undefined;
  try {
    const current = await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
    existing = current.Rules ?? [];
    transitionDefault = current.TransitionDefaultMinimumObjectSize;
  } catch (error) {
    if ((error as { name?: unknown }).name !== 'NoSuchLifecycleConfiguration') throw error;
  }

  const ours: LifecycleRule = {
    ID: MANIFEST_LIFECYCLE_RULE_ID,
    Status: 'Enabled',
    Filter: { Prefix: prefix },
    Expiration: { Days: days },
    AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
  };
  const previous = existing.find((rule) => rule.ID === MANIFEST_LIFECYCLE_RULE_ID);
  if (previous !== undefined && sameRule(previous, ours)) return { changed: false, rules: existing };

  const others = existing.filter((rule) => rule.ID !== MANIFEST_LIFECYCLE_RULE_ID);
  if (others.length + 1 > MAX_RULES) {
    throw optionRangeError(
      `ensureManifestLifecycle: bucket ${bucket} already has ${others.length} lifecycle rules, the most S3 allows`,
    );
  }
  const rules = [...others, ours];
  await client.send(
    new PutBucketLifecycleConfigurationCommand({
      Bucket: bucket,
      LifecycleConfiguration: { Rules: rules },
      ...(transitionDefault !== undefined ? { TransitionDefaultMinimumObjectSize: transitionDefault } : {}),
    }),
  );
  return { changed: true, rules };
}
