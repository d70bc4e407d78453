import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { cutManifestKey, discardCutManifest } from './cut-manifest.js';
import { armHardStop, invocationBudget, jobDeadline, type InvocationBudget } from './job-budget.js';
import { resolveHandlerSettings, type HandlerSettings } from './handler-settings.js';
import { inventoryRejection } from './inventory.js';
import { Invocation } from './invocation.js';
import { isRequestRejection, planJob } from './job-plan.js';
import { respondTo } from './job-response.js';
import { JobRun } from './job-run.js';
import type { PresignHandler, PresignHandlerOptions, PresignResponse } from './handler-types.js';

export { DEFAULT_FUNCTION_NAME, DEFAULT_NAMESPACE } from './handler-settings.js';

export type { PresignHandler, PresignHandlerOptions, PresignResponse, PresignSuccessBody } from './handler-types.js';

/**
 * Runs one job; shared by the direct handler and the SQS handler, which passes one budget for all jobs of a batch
 * (without it, the job's own context is read). A job given that shared budget is one message, redelivered whole when
 * its deadline cuts it short, so the manifest of a cut job is deleted. @internal
 */
export type JobRunner = (
  event: unknown,
  context: Context | undefined,
  requestId?: string,
  sharedBudget?: InvocationBudget,
) => Promise<PresignResponse>;

/**
 * Builds the job runner behind {@link createPresignHandler} and {@link createSqsHandler}: the options are checked
 * once, then each invocation goes through its steps (see {@link runInvocation}). @internal
 */
export function createJobRunner(options: PresignHandlerOptions = {}): JobRunner {
  const settings = resolveHandlerSettings(options);
  return (event, context, requestId, sharedBudget) => runInvocation(settings, event, context, requestId, sharedBudget);
}

/**
 * One invocation, step by step: config and access ({@link planJob}: a 400 or 403 before any S3 call), run
 * ({@link JobRun}), respond ({@link respondTo}); the {@link Invocation} holds its state, turns a failure into the error
 * thrown, and publishes one EMF document whatever happened. @internal
 */
async function runInvocation(
  settings: HandlerSettings,
  event: unknown,
  context: Context | undefined,
  requestIdOverride: string | undefined,
  sharedBudget: InvocationBudget | undefined,
): Promise<PresignResponse> {
  const budget = sharedBudget ?? invocationBudget(context);
  const requestId = requestIdOverride ?? (context?.awsRequestId || randomUUID());
  const env = settings.env();
  const invocation = new Invocation(requestId, settings.newMetrics(), settings.write);
  // Writing never outlives the invocation: a stalled manifest upload is stopped shortly before its end.
  const hardStop = armHardStop(budget);
  try {
    const plan = planJob(event, env, settings);
    if (isRequestRejection(plan)) return invocation.refuse(plan);
    const deadline = jobDeadline(budget, sharedBudget !== undefined, plan.config.deadlineMarginMs);
    const clients = settings.clientsFor(env, plan.config.endpoint, plan.config.publicEndpoint);
    const stop = hardStop.signal;
    const outcome = await new JobRun({ settings, invocation, plan, clients, deadline, stop, env, context }).outcome();
    // A job of a batch is redelivered whole when cut short: the part it wrote would only be an orphan.
    const cutKey = sharedBudget === undefined ? undefined : cutManifestKey(outcome);
    if (cutKey !== undefined) await discardCutManifest(clients.client, plan.config.bucket, cutKey, invocation, stop);
    return respondTo(outcome, plan, invocation);
  } catch (error) {
    const rejection = inventoryRejection(error);
    if (rejection !== undefined) return invocation.refuse(rejection);
    throw invocation.failure(error);
  } finally {
    hardStop.dispose();
    invocation.publishMetrics();
  }
}

/**
 * Creates the documented presign handler: lists `bucket`/`prefix`, presigns every `.pdf` key, streams a JSONL
 * manifest to `manifests/<uuid>.jsonl` in the same bucket and returns
 * `{ statusCode: 200, body: '{"count":…,"errors":…,"manifest_key":…,"manifest_url":…,"complete":true}' }`.
 *
 * The run is deadline-aware: when the invocation's time left falls under `DEADLINE_MARGIN_MS` (30 s), it stops
 * listing, presigns what it holds, completes the manifest and answers `complete: false` with `next_start_after`;
 * invoked again with `start_after` set to that, it continues. The manifests of such a chain hold every key exactly once.
 *
 * Clients are built once per endpoint configuration and reused while the Lambda is warm; the event and the
 * environment are read on every invocation. Bad input gets 400 (403 outside the allow-list) before any S3 call.
 * S3 failures throw an error named by S3's error code, after an `{"event":"error"}` log line. One EMF document is
 * written per invocation, on success and on failure.
 *
 * @example
 * ```ts
 * import { createPresignHandler } from '@presign-pipeline/lambda';
 * export const handler = createPresignHandler({ allowedBuckets: ['my-company-reports-bucket'] });
 * ```
 */
export function createPresignHandler(options: PresignHandlerOptions = {}): PresignHandler {
  const runJob = createJobRunner(options);
  return (event, context) => runJob(event, context);
}

/** The documented handler with the reference defaults: `export { handler } from '@presign-pipeline/lambda'` deploys as is. */
export const handler: PresignHandler = createPresignHandler();
