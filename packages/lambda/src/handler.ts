import { randomUUID } from 'node:crypto';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import type { Reporter } from '@presign-pipeline/core';
import type { Context } from 'aws-lambda';
import { invocationBudget, jobDeadline, type InvocationBudget } from './job-budget.js';
import type { PresignerChoice } from './clients.js';
import type { HandlerEnv, ManifestEncryption } from './config.js';
import { resolveHandlerSettings, type HandlerSettings } from './handler-settings.js';
import type { IdempotencyOptions, IdempotencyStore } from './idempotency.js';
import { inventoryRejection } from './inventory.js';
import { Invocation } from './invocation.js';
import { isRequestRejection, planJob } from './job-plan.js';
import { respondTo } from './job-response.js';
import { JobRun } from './job-run.js';

export { DEFAULT_FUNCTION_NAME, DEFAULT_NAMESPACE } from './handler-settings.js';

/** What the handler returns: an API-Gateway-style status and a JSON body. */
export interface PresignResponse {
  /** 200 on success, 400 for a malformed request, 403 outside the allow-list, 409 while a duplicate runs. */
  statusCode: number;
  /**
   * The JSON body: `{count, errors, manifest_key, manifest_url, complete[, next_start_after]}` on 200, `{error, field}`
   * otherwise.
   */
  body: string;
}

/** The body of a 200 response, keys in this order. */
export interface PresignSuccessBody {
  /** Keys presigned. */
  count: number;
  /** Keys that failed to presign. */
  errors: number;
  /** The manifest's key in the listed bucket. */
  manifest_key: string;
  /** A presigned GET URL of the manifest. */
  manifest_url: string;
  /** False when the run stopped at the invocation's deadline: invoke again with `start_after: next_start_after`. */
  complete: boolean;
  /** Present when `complete` is false after a sequential listing: the event's `start_after` for the next invocation. */
  next_start_after?: string;
  /**
   * Present instead of `next_start_after` when `complete` is false after an inventory run (a token `inv1.…`) or a
   * concurrent listing (`list_concurrency` > 1, or a `resume_token` given; a token `v1.…`): the event's
   * `resume_token` for the next invocation.
   */
  resume_token?: string;
}

/** A Lambda handler for presign jobs. The context is optional so the handler can be called from plain code and tests. */
export type PresignHandler = (event: unknown, context?: Context) => Promise<PresignResponse>;

/** Options of {@link createPresignHandler}. Every option has the reference handler's default. */
export interface PresignHandlerOptions {
  /** CloudWatch namespace of the EMF document. Default `eth/sign_pdfs_optimized`. */
  namespace?: string;
  /** Value of the `Function` dimension. Default `sign_pdfs_optimized`. */
  functionName?: string;
  /** The endpoint URLs are signed for, when consumers reach S3 by another host than the function (overrides `S3_PUBLIC_ENDPOINT_URL`). */
  publicEndpoint?: string;
  /** A ready S3 client for listing and uploading; `S3_ENDPOINT_URL` is then ignored. */
  s3Client?: S3Client;
  /** Configuration merged into the S3 clients the handler builds (region, credentials, retries, request timeouts…). */
  clientConfig?: S3ClientConfig;
  /** Which presigner signs URLs: `'fast'` (default), `'sdk'` or a factory given the signing client. */
  presigner?: PresignerChoice;
  /** Deduplicate jobs through DynamoDB (see {@link IdempotencyOptions}); default: on when `IDEMPOTENCY_TABLE` is set. `false` turns it off. */
  idempotency?: IdempotencyOptions | false;
  /**
   * Where jobs are deduplicated when idempotency is on: `dynamoDbIdempotencyStore()` from
   * `@presign-pipeline/lambda/idempotency`. Without it, an invocation with idempotency on fails with
   * `IDEMPOTENCY_UNAVAILABLE` before anything is listed.
   */
  idempotencyStore?: IdempotencyStore;
  /** Where log lines and EMF documents go, one JSON object per call, without newline. Default: stdout. */
  write?: (line: string) => void;
  /** The environment, read on every invocation. Default `process.env`. */
  env?: HandlerEnv;
  /** Buckets events may name (overrides `ALLOWED_BUCKETS`). Default: any bucket the role can read. */
  allowedBuckets?: readonly string[];
  /** Prefixes an event's prefix must start with (overrides `ALLOWED_PREFIXES`). Default: any prefix. */
  allowedPrefixes?: readonly string[];
  /** Keys kept are those ending with this, case-insensitively. Default `.pdf`. */
  suffix?: string;
  /** Where manifests are written in the listed bucket. Default `manifests/`. */
  manifestPrefix?: string;
  /** More reporters subscribed to every run (progress displays, your own metrics). */
  reporters?: readonly Reporter[];
  /**
   * What to do when the signing credentials expire before `expiry_seconds` would (overrides `ON_EXPIRY_CAPPED`):
   * `'warn'` (default) caps the URLs' lifetime and logs `expiry_capped`; `'refuse'` fails the invocation with
   * `CREDENTIALS_EXPIRE_TOO_SOON` before anything is listed.
   */
  onExpiryCapped?: 'warn' | 'refuse';
  /**
   * Milliseconds kept free at the end of the invocation (overrides `DEADLINE_MARGIN_MS`; default 30000): listing
   * stops when the time left falls under it. It never takes more than half of the time the invocation started with.
   */
  deadlineMarginMs?: number;
  /**
   * Server-side encryption of the manifest objects (overrides `MANIFEST_SSE` and `MANIFEST_KMS_KEY_ID`). The
   * manifest holds bearer URLs, so a policy may require it encrypted with a given key. Default: the bucket's default
   * encryption. `kmsKeyId` is only valid with the `aws:kms` modes.
   */
  manifestEncryption?: ManifestEncryption;
  /**
   * Aborts the runs of this handler (a local tester's Cancel): listing and presigning stop, the manifest upload is
   * aborted so nothing is left behind, and the invocation fails with an `AbortError`. Default: none.
   */
  signal?: AbortSignal;
}

/**
 * Runs one job; shared by the direct handler and the SQS handler, which passes one budget for all jobs of a batch
 * (without it, the job's own context is read). @internal
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
  try {
    const plan = planJob(event, env, settings);
    if (isRequestRejection(plan)) return invocation.refuse(plan);
    const deadline = jobDeadline(budget, sharedBudget !== undefined, plan.config.deadlineMarginMs);
    const clients = settings.clientsFor(env, plan.config.endpoint, plan.config.publicEndpoint);
    const outcome = await new JobRun({ settings, invocation, plan, clients, deadline, env, context }).outcome();
    return respondTo(outcome, plan, invocation);
  } catch (error) {
    const rejection = inventoryRejection(error);
    if (rejection !== undefined) return invocation.refuse(rejection);
    throw invocation.failure(error);
  } finally {
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
