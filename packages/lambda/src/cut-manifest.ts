import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { redactSecrets } from '@presign-pipeline/core';
import { messageOf } from '@presign-pipeline/core/internal';
import type { Invocation } from './invocation.js';
import type { JobOutcome } from './job-run.js';

/** The manifest key of a job its deadline cut short (`complete: false`), or undefined for any other outcome. @internal */
export function cutManifestKey(outcome: JobOutcome): string | undefined {
  if (outcome.kind === 'ran') return outcome.result.complete ? undefined : outcome.key;
  if (outcome.kind === 'stored') return outcome.stored.complete ? undefined : outcome.stored.manifest_key;
  return undefined;
}

/**
 * Deletes the manifest of a cut job whose message goes back to the queue whole: its redelivery writes a manifest of
 * its own, so this one would be an orphan until the bucket's lifecycle rule. Best effort: a failure is logged
 * (`manifest_discard_failed`), never thrown over the job's answer. @internal
 */
export async function discardCutManifest(
  client: S3Client,
  bucket: string,
  key: string,
  invocation: Invocation,
  stop: AbortSignal | undefined,
): Promise<void> {
  const fields = { request_id: invocation.requestId, manifest_key: key };
  try {
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), stop ? { abortSignal: stop } : {});
    invocation.log({ event: 'manifest_discarded', ...fields, reason: 'cut short; the message goes back whole' });
  } catch (error) {
    invocation.log({ event: 'manifest_discard_failed', ...fields, error: redactSecrets(messageOf(error)) });
  }
}
