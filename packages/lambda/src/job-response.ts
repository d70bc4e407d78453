import type { PipelineResult } from '@presign-pipeline/core';
import type { PresignConfig } from './config.js';
import type { PresignResponse, PresignSuccessBody } from './handler-types.js';
import type { StoredResult } from './idempotency.js';
import type { InventoryRequest } from './inventory.js';
import type { Invocation } from './invocation.js';
import type { JobPlan } from './job-plan.js';
import { type JobOutcome, nextStartAfterOf } from './job-run.js';

/**
 * The respond step: a job's outcome as the invocation's response. A fresh run or a stored result answers 200 with
 * the manifest's URL; a replay logs `idempotent_replay` and counts `IdempotentReplays`; a duplicate still running logs
 * `in_progress` and answers 409. @internal
 */
export function respondTo(
  outcome: JobOutcome,
  plan: Pick<JobPlan, 'config' | 'inventory'>,
  invocation: Invocation,
): PresignResponse {
  switch (outcome.kind) {
    case 'ran':
      if (cutBeforeFirstPage(outcome.result, plan))
        logNoProgress(outcome.result, plan.config, plan.inventory, invocation);
      return invocation.respond(200, bodyOfRun(outcome.result, outcome.key, outcome.url, plan));
    case 'stored':
      return invocation.respond(200, bodyOfStored(outcome.stored, outcome.url));
    case 'replayed':
      invocation.log({
        event: 'idempotent_replay',
        request_id: invocation.requestId,
        count: outcome.stored.count,
        errors: outcome.stored.errors,
        manifest_key: outcome.stored.manifest_key,
        url_remaining_seconds: outcome.remainingSeconds,
      });
      invocation.metrics.addMetric('IdempotentReplays', 1);
      return invocation.respond(200, bodyOfStored(outcome.stored, outcome.url));
    case 'in-progress':
      return inProgress(plan.config, invocation);
  }
}

/**
 * A run cut by its deadline before a single page arrived: a listing before its first ListObjectsV2 page, an inventory
 * run before its first rows (a Parquet data file is hashed in full before them). It hands on the position it started
 * from, so a caller that loops on `complete: false` would invoke again and again, each invocation paying for requests
 * and presigning nothing. The answer stays the usual 200 (its manifest is real, if empty, and named in the answer);
 * the log line is what an alarm can watch. An inventory run counts as stalled only when the token it hands back is
 * the one it was given: a run that moved on, even past rows it did not keep, made progress.
 */
function cutBeforeFirstPage(result: PipelineResult, { inventory }: Pick<JobPlan, 'inventory'>): boolean {
  if (result.complete || result.pages !== 0) return false;
  return inventory === undefined || (result.nextStartAfter ?? inventory.resumeToken) === inventory.resumeToken;
}

function logNoProgress(
  result: PipelineResult,
  config: PresignConfig,
  inventory: InventoryRequest | undefined,
  invocation: Invocation,
): void {
  const first = inventory === undefined ? 'the first ListObjectsV2 page arrived' : 'the first inventory rows were read';
  invocation.log({
    event: 'no_progress',
    request_id: invocation.requestId,
    bucket: config.bucket,
    prefix: inventory === undefined ? config.prefix : inventory.prefix,
    duration_ms: Math.round(result.durationMs),
    reason:
      `the deadline came before ${first}; give the invocation more time (a longer function timeout or a smaller ` +
      'DEADLINE_MARGIN_MS)',
  });
}

function inProgress(config: PresignConfig, invocation: Invocation): PresignResponse {
  invocation.log({
    event: 'in_progress',
    request_id: invocation.requestId,
    bucket: config.bucket,
    prefix: config.prefix,
  });
  return invocation.respond(409, {
    error: 'in progress: a run for the same bucket, prefix and expiry_seconds has not finished yet; retry later',
    field: null,
  });
}

/** The 200 body of a run without deduplication: an inventory run's, or a listing's. */
function bodyOfRun(
  result: PipelineResult,
  key: string,
  url: string,
  { config, inventory }: Pick<JobPlan, 'config' | 'inventory'>,
): PresignSuccessBody {
  if (inventory !== undefined) return inventoryBody(result, key, url, inventory);
  return successBody(
    result.count,
    result.errors,
    key,
    url,
    result.complete,
    nextStartAfterOf(result, config),
    result.resumeToken,
  );
}

/** The 200 body: the reference's four keys in its order, then the continuation fields. @internal */
export function successBody(
  count: number,
  errors: number,
  manifestKey: string,
  manifestUrl: string,
  complete: boolean,
  nextStartAfter: string | undefined,
  resumeToken?: string,
): PresignSuccessBody {
  const body: PresignSuccessBody = { count, errors, manifest_key: manifestKey, manifest_url: manifestUrl, complete };
  if (!complete && resumeToken !== undefined) body.resume_token = resumeToken;
  else if (!complete) body.next_start_after = nextStartAfter ?? '';
  return body;
}

/** The 200 body of a stored result. @internal */
export function bodyOfStored(stored: StoredResult, url: string): PresignSuccessBody {
  // Records written before continuation existed hold complete runs.
  const complete = stored.complete ?? true;
  return successBody(
    stored.count,
    stored.errors,
    stored.manifest_key,
    url,
    complete,
    stored.next_start_after,
    stored.resume_token,
  );
}

/**
 * The 200 body of an inventory run: the listing's fields, with `resume_token` (where the next invocation continues in
 * the inventory) instead of `next_start_after` when it stopped at its deadline.
 */
function inventoryBody(
  result: PipelineResult,
  key: string,
  url: string,
  inventory: InventoryRequest,
): PresignSuccessBody {
  const body: PresignSuccessBody = {
    count: result.count,
    errors: result.errors,
    manifest_key: key,
    manifest_url: url,
    complete: result.complete,
  };
  if (!result.complete) body.resume_token = result.nextStartAfter ?? inventory.resumeToken ?? '';
  return body;
}
