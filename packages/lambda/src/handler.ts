import { randomUUID } from 'node:crypto';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import {
  isPresignPipelineError,
  PresignPipelineError,
  redactSecrets,
  jsonLogReporter,
  presignPipeline,
  s3ListSource,
  s3ManifestWriter,
  suffixFilter,
  type PipelineEventEmitter,
  type PipelineResult,
  type Presigner,
  type Reporter,
} from '@presign-pipeline/core';
import { emfReporter, type EmfReporter } from '@presign-pipeline/emf';
import type { Context } from 'aws-lambda';
import { checkAccess, resolveAccessPolicy } from './access.js';
import { inventoryKeySource, inventoryRejection, resolveInventoryRequest, type InventoryRequest } from './inventory.js';
import { createClientCache, type PresignerChoice } from './clients.js';
import {
  manifestEncryptionProblem,
  MIN_DEADLINE_MARGIN_MS,
  resolveConfig,
  type HandlerEnv,
  type ManifestEncryption,
  type PresignConfig,
  type RequestRejection,
} from './config.js';
import {
  recordLifetimeSeconds,
  resolveIdempotencySettings,
  type IdempotencyOptions,
  type IdempotencySettings,
  type IdempotencyStore,
  type JobKey,
  type StoredResult,
} from './idempotency.js';
import { isRejection, listingSourceOptions, resolveListing, resumeFields } from './listing.js';

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
 * Checks a `manifestEncryption` option when the handler is created, so a wrong one fails the cold start rather than
 * every invocation. @internal
 */
export function checkManifestEncryptionOption(owner: string, value: unknown): ManifestEncryption | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object') {
    throw new TypeError(
      `${owner}: manifestEncryption must be an object {serverSideEncryption, kmsKeyId?} (got ${String(value)})`,
    );
  }
  const problem = manifestEncryptionProblem(
    value as Record<string, unknown>,
    'manifestEncryption.serverSideEncryption',
    'manifestEncryption.kmsKeyId',
  );
  if (problem !== undefined) throw new TypeError(`${owner}: ${problem.error}`);
  return value as ManifestEncryption;
}

/** The `s3ManifestWriter` options that encrypt a manifest as configured. @internal */
export function manifestSseOptions(encryption: ManifestEncryption | undefined): {
  serverSideEncryption?: ManifestEncryption['serverSideEncryption'];
  sseKmsKeyId?: string;
} {
  if (encryption === undefined) return {};
  return {
    serverSideEncryption: encryption.serverSideEncryption,
    ...(encryption.kmsKeyId !== undefined ? { sseKmsKeyId: encryption.kmsKeyId } : {}),
  };
}

/** The reference handler's CloudWatch namespace. */
export const DEFAULT_NAMESPACE = 'eth/sign_pdfs_optimized';
/** The reference handler's `Function` dimension value. */
export const DEFAULT_FUNCTION_NAME = 'sign_pdfs_optimized';

const defaultWrite = (line: string): void => {
  // Looked up on every call so a local runner can capture stdout around one invocation.
  process.stdout.write(`${line}\n`);
};

/** The time an invocation has: when it was measured and how much was left then. @internal */
export interface InvocationBudget {
  /** Epoch milliseconds of the measurement. */
  readonly startedAt: number;
  /** `context.getRemainingTimeInMillis()` at that moment. */
  readonly remainingMs: number;
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

/** What the context says is left of the invocation, or undefined without a usable context (plain calls, tests). @internal */
export function invocationBudget(context: Context | undefined, now: number = Date.now()): InvocationBudget | undefined {
  const remaining =
    typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : undefined;
  if (typeof remaining !== 'number' || !Number.isFinite(remaining)) return undefined;
  return { startedAt: now, remainingMs: Math.max(0, remaining) };
}

/**
 * When listing must stop: the budget's end minus the margin. The margin never takes more than half of the budget,
 * so a function whose timeout is shorter than twice the margin still makes progress on every invocation. @internal
 */
export function deadlineOf(budget: InvocationBudget, marginMs: number): number {
  return budget.startedAt + budget.remainingMs - Math.min(marginMs, budget.remainingMs / 2);
}

function jsonResponse(statusCode: number, body: unknown): PresignResponse {
  return { statusCode, body: JSON.stringify(body) };
}

/** The 200 body: the reference's four keys in its order, then the continuation fields. */
function successBody(
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

/** Thrown when a job of a batch would start after the batch's deadline (an SQS batch that ran out of time). */
function deadlineReached(deadline: number): Error {
  const error = new Error(
    `The invocation's deadline (${new Date(deadline).toISOString()}, DEADLINE_MARGIN_MS before its timeout) passed before the job started; nothing was listed`,
  );
  error.name = 'DeadlineReached';
  return error;
}

/** `ON_EXPIRY_CAPPED` from the environment: `warn` (the default, also when empty) or `refuse`. */
function expiryPolicyOf(env: HandlerEnv): 'warn' | 'refuse' | RequestRejection {
  const raw = env.ON_EXPIRY_CAPPED;
  const value = raw === undefined || raw.trim() === '' ? 'warn' : raw.trim().toLowerCase();
  if (value === 'warn' || value === 'refuse') return value;
  return {
    statusCode: 400,
    field: 'ON_EXPIRY_CAPPED',
    error: `ON_EXPIRY_CAPPED must be "warn" or "refuse" (got ${JSON.stringify(raw)})`,
  };
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

/** True for an error raised by an AWS service (an S3 error code as its name). */
function isServiceError(error: unknown): error is Error {
  return error instanceof Error && typeof error === 'object' && ('$metadata' in error || '$fault' in error);
}

/**
 * The error the invocation fails with: S3's own error, named by its code (`NoSuchBucket`, `AccessDenied`, `SlowDown`…)
 * so Lambda retries it and Step Functions can Retry/Catch on it, also when a pipeline error wraps it.
 */
function toInvocationError(error: unknown): Error {
  if (!(error instanceof Error)) return new Error(`The invocation failed: ${String(error)}`);
  if (isPresignPipelineError(error) && isServiceError(error.cause)) {
    const wrapped = new Error(error.message, { cause: error });
    wrapped.name = error.cause.name;
    return wrapped;
  }
  return error;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The Lambda runtime prints a failed invocation's error (type, message and stack) to the function's log, so an error
 * whose message embeds a presigned URL or a credential is replaced by a masked copy with the same name and `code`.
 */
function withoutSecrets(error: Error): Error {
  const message = redactSecrets(error.message);
  if (message === error.message) return error;
  const masked = new Error(message);
  masked.name = error.name;
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) Object.defineProperty(masked, 'code', { value: code, enumerable: true });
  return masked;
}

/** Checks the `idempotencyStore` option when the handler is created. */
function checkIdempotencyStoreOption(store: unknown): IdempotencyStore | undefined {
  if (store === undefined) return undefined;
  if (store === null || typeof store !== 'object' || typeof (store as IdempotencyStore).run !== 'function') {
    throw new TypeError(
      'createPresignHandler: idempotencyStore must have a run() method (use dynamoDbIdempotencyStore())',
    );
  }
  return store as IdempotencyStore;
}

/** Idempotency is on, but the handler was built without a store (the main entry does not carry DynamoDB). */
function idempotencyUnavailable(settings: IdempotencySettings): PresignPipelineError {
  return new PresignPipelineError(
    'IDEMPOTENCY_UNAVAILABLE',
    `IDEMPOTENCY_TABLE (or the idempotency option) names table ${JSON.stringify(settings.tableName)}, but this handler has no idempotencyStore: ` +
      "deploy `handler` from '@presign-pipeline/lambda/idempotency', or pass idempotencyStore: dynamoDbIdempotencyStore(); nothing was listed",
  );
}

/** Builds the job runner behind {@link createPresignHandler} and {@link createSqsHandler}. @internal */
export function createJobRunner(options: PresignHandlerOptions = {}): JobRunner {
  if (options === null || typeof options !== 'object')
    throw new TypeError('createPresignHandler: options must be an object');
  const namespace = options.namespace ?? DEFAULT_NAMESPACE;
  const functionName = options.functionName ?? DEFAULT_FUNCTION_NAME;
  const suffix = options.suffix ?? '.pdf';
  const manifestPrefix = options.manifestPrefix ?? 'manifests/';
  const write = options.write ?? defaultWrite;
  if (typeof write !== 'function') throw new TypeError('createPresignHandler: write must be a function');
  if (typeof functionName !== 'string' || functionName === '')
    throw new TypeError('createPresignHandler: functionName must be a non-empty string');
  if (typeof suffix !== 'string' || suffix === '')
    throw new TypeError('createPresignHandler: suffix must be a non-empty string');
  if (typeof manifestPrefix !== 'string') throw new TypeError('createPresignHandler: manifestPrefix must be a string');
  const choice = options.presigner;
  if (choice !== undefined && choice !== 'fast' && choice !== 'sdk' && typeof choice !== 'function') {
    throw new TypeError(
      `createPresignHandler: presigner must be 'fast', 'sdk' or a function (got ${JSON.stringify(choice)})`,
    );
  }
  const expiryOption: unknown = options.onExpiryCapped;
  if (expiryOption !== undefined && expiryOption !== 'warn' && expiryOption !== 'refuse') {
    throw new TypeError(
      `createPresignHandler: onExpiryCapped must be 'warn' or 'refuse' (got ${JSON.stringify(expiryOption)})`,
    );
  }
  const marginOption = options.deadlineMarginMs;
  if (
    marginOption !== undefined &&
    (typeof marginOption !== 'number' || !Number.isSafeInteger(marginOption) || marginOption < MIN_DEADLINE_MARGIN_MS)
  ) {
    throw new RangeError(
      `createPresignHandler: deadlineMarginMs must be an integer number of milliseconds, ${MIN_DEADLINE_MARGIN_MS} or more (got ${String(marginOption)})`,
    );
  }
  const encryptionOption = checkManifestEncryptionOption('createPresignHandler', options.manifestEncryption);
  const newMetrics = (): EmfReporter =>
    emfReporter({
      namespace,
      dimensions: { Function: functionName },
      metrics: (summary) => ({
        PDFsProcessed: summary.count,
        S3ListPages: summary.pages,
        PresignCount: summary.count,
        ManifestBytes: summary.bytes,
      }),
      deferPublish: true,
      write,
      onError: (error) => write(JSON.stringify({ event: 'metrics_error', error: messageOf(error) })),
    });
  // Fails at cold start, not on the first invocation, when the namespace or function name is unusable.
  newMetrics();
  const envOf = (): HandlerEnv => options.env ?? process.env;
  const clientsFor = createClientCache({
    ...(options.s3Client !== undefined ? { s3Client: options.s3Client } : {}),
    ...(options.clientConfig !== undefined ? { clientConfig: options.clientConfig } : {}),
    ...(options.presigner !== undefined ? { presigner: options.presigner } : {}),
  });
  const idempotencyStore = checkIdempotencyStoreOption(options.idempotencyStore);
  const extraReporters = options.reporters ?? [];

  return async (rawEvent, context, requestIdOverride, sharedBudget) => {
    const budget = sharedBudget ?? invocationBudget(context);
    const requestId = requestIdOverride ?? (context?.awsRequestId || randomUUID());
    const env = envOf();
    const log = (fields: Record<string, unknown>): void => write(JSON.stringify(fields));
    const metrics = newMetrics();
    let responseBody: string | undefined;
    let workRecorded = false;
    let failureLogged = false;

    // Tells the handler what the run's own reporters already covered.
    const observer: Reporter = {
      subscribe(events: PipelineEventEmitter) {
        const onCompleted = (): void => {
          workRecorded = true;
        };
        const onFailed = (): void => {
          workRecorded = true;
          failureLogged = true;
        };
        events.on('pipeline-completed', onCompleted);
        events.on('pipeline-failed', onFailed);
        return () => {
          events.off('pipeline-completed', onCompleted);
          events.off('pipeline-failed', onFailed);
        };
      },
    };

    const respond = (statusCode: number, body: unknown): PresignResponse => {
      const response = jsonResponse(statusCode, body);
      responseBody = response.body;
      return response;
    };
    const refuse = (rejection: RequestRejection): PresignResponse => {
      log({
        event: rejection.statusCode === 403 ? 'forbidden_request' : 'invalid_request',
        request_id: requestId,
        field: rejection.field,
        error: rejection.error,
      });
      return respond(rejection.statusCode, { error: rejection.error, field: rejection.field });
    };

    try {
      const resolved = resolveConfig(rawEvent, env, {
        ...(options.publicEndpoint !== undefined ? { publicEndpoint: options.publicEndpoint } : {}),
        ...(marginOption !== undefined ? { deadlineMarginMs: marginOption } : {}),
        ...(encryptionOption !== undefined ? { manifestEncryption: encryptionOption } : {}),
      });
      if (!resolved.ok) return refuse(resolved.rejection);
      const config = resolved.config;
      const policy = resolveAccessPolicy(env, {
        ...(options.allowedBuckets !== undefined ? { allowedBuckets: options.allowedBuckets } : {}),
        ...(options.allowedPrefixes !== undefined ? { allowedPrefixes: options.allowedPrefixes } : {}),
      });
      const inventory = resolveInventoryRequest(rawEvent, config, policy);
      if (inventory !== undefined && 'statusCode' in inventory) return refuse(inventory);
      // An inventory run's prefix filter was checked by resolveInventoryRequest (it need not be the listing default).
      const denied = checkAccess(config, inventory === undefined ? policy : { ...policy, allowedPrefixes: undefined });
      if (denied !== undefined) return refuse(denied);
      const listing = resolveListing(rawEvent, env, config, inventory !== undefined);
      if (isRejection(listing)) return refuse(listing);
      const onExpiryCapped = options.onExpiryCapped ?? expiryPolicyOf(env);
      if (typeof onExpiryCapped !== 'string') return refuse(onExpiryCapped);
      const dedup = resolveIdempotencySettings(env, options.idempotency);
      if (dedup !== undefined && 'statusCode' in dedup) return refuse(dedup);
      const deadline = budget === undefined ? undefined : deadlineOf(budget, config.deadlineMarginMs);
      // Jobs sharing one invocation (an SQS batch) skip the ones left without time; a job alone always runs, and at
      // worst lists nothing and answers where to resume.
      if (sharedBudget !== undefined && deadline !== undefined && Date.now() >= deadline)
        throw deadlineReached(deadline);

      const clients = clientsFor(env, config.endpoint, config.publicEndpoint);

      const run = async (): Promise<{ result: PipelineResult; key: string }> => {
        const result = await presignPipeline({
          source:
            inventory !== undefined
              ? inventoryKeySource(clients.client, config, inventory, suffixFilter(suffix))
              : s3ListSource({
                  client: clients.client,
                  bucket: config.bucket,
                  prefix: config.prefix,
                  pageSize: config.pageSize,
                  filter: suffixFilter(suffix),
                  ...(config.startAfter !== undefined ? { startAfter: config.startAfter } : {}),
                  ...listingSourceOptions(listing),
                }),
          presigner: clients.presigner,
          manifest: s3ManifestWriter({
            client: clients.client,
            bucket: config.bucket,
            keyPrefix: manifestPrefix,
            presigner: clients.presigner,
            ...manifestSseOptions(config.manifestEncryption),
          }),
          concurrency: config.concurrency,
          queueMax: config.queueMax,
          expiresIn: config.expirySeconds,
          requestId,
          onExpiryCapped,
          reporters: [jsonLogReporter({ write }), metrics, observer, ...extraReporters],
          ...(deadline !== undefined ? { deadline } : {}),
          ...(options.signal !== undefined ? { signal: options.signal } : {}),
        });
        const key = result.manifest.key;
        if (key === undefined) throw new Error('The manifest writer did not report a manifest key');
        return { result, key };
      };

      if (dedup === undefined) {
        const { result, key } = await run();
        const url =
          result.manifest.url ??
          (await clients.presigner.presign({ bucket: config.bucket, key }, { expiresIn: result.effectiveExpiresIn }));
        if (inventory !== undefined) return respond(200, inventoryBody(result, key, url, inventory));
        return respond(
          200,
          successBody(
            result.count,
            result.errors,
            key,
            url,
            result.complete,
            nextStartAfterOf(result, config),
            result.resumeToken,
          ),
        );
      }

      if (idempotencyStore === undefined) throw idempotencyUnavailable(dedup);
      return await runDeduplicated(
        config,
        dedup,
        idempotencyStore,
        clients.presigner,
        run,
        inventory,
        listing.resumeToken,
      );
    } catch (error) {
      const rejection = inventoryRejection(error);
      if (rejection !== undefined) return refuse(rejection);
      if (!failureLogged) {
        log({
          event: 'error',
          request_id: requestId,
          error: redactSecrets(messageOf(error)),
          error_name: errorName(error),
        });
      }
      throw withoutSecrets(toInvocationError(error));
    } finally {
      try {
        if (!workRecorded) {
          for (const name of ['PDFsProcessed', 'S3ListPages', 'PresignCount', 'ManifestBytes'])
            metrics.addMetric(name, 0);
        }
        if (responseBody !== undefined)
          metrics.addMetric('ResponseBytes', Buffer.byteLength(responseBody, 'utf8'), 'Bytes');
        metrics.publish();
      } catch (error) {
        log({ event: 'metrics_error', request_id: requestId, error: messageOf(error) });
      }
    }

    async function runDeduplicated(
      config: PresignConfig,
      settings: IdempotencySettings,
      store: IdempotencyStore,
      presigner: Presigner,
      runJob: () => Promise<{ result: PipelineResult; key: string }>,
      inventory: InventoryRequest | undefined,
      listingResumeToken: string | undefined,
    ): Promise<PresignResponse> {
      let freshUrl: string | undefined;
      const job = async (): Promise<StoredResult> => {
        const { result, key } = await runJob();
        freshUrl = result.manifest.url;
        return {
          count: result.count,
          errors: result.errors,
          pages: result.pages,
          manifest_key: key,
          manifest_bytes: result.manifest.bytes,
          urls_expire_at: Math.floor(Date.now() / 1000) + result.effectiveExpiresIn,
          complete: result.complete,
          ...(result.complete
            ? {}
            : inventory !== undefined
              ? { resume_token: result.nextStartAfter ?? inventory.resumeToken ?? '' }
              : (resumeFields(result) ?? { next_start_after: nextStartAfterOf(result, config) })),
        };
      };
      const credentialsExpireAt =
        presigner.credentialsExpiration === undefined ? undefined : await presigner.credentialsExpiration();
      const lifetime = recordLifetimeSeconds(settings, config.expirySeconds, credentialsExpireAt);
      if (lifetime <= 0) {
        // URLs this short-lived are not worth reusing: run without a record.
        const stored = await job();
        const url =
          freshUrl ??
          (await presigner.presign(
            { bucket: config.bucket, key: stored.manifest_key },
            { expiresIn: config.expirySeconds },
          ));
        return respond(200, bodyOfStored(stored, url));
      }
      // A continuation is its own job: its result covers only the keys after start_after.
      const key: JobKey = {
        bucket: config.bucket,
        prefix: config.prefix,
        expiry_seconds: config.expirySeconds,
        suffix,
        ...(config.startAfter !== undefined ? { start_after: config.startAfter } : {}),
        ...inventoryJobFields(inventory),
        ...(listingResumeToken !== undefined ? { resume_token: listingResumeToken } : {}),
      };
      const keyPrefix = env.AWS_LAMBDA_FUNCTION_NAME || functionName;
      let outcome;
      try {
        const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
        outcome = await store.run({ settings, key, keyPrefix, lifetimeSeconds: lifetime, context, region, job });
      } catch (error) {
        if (errorName(error) === 'IdempotencyAlreadyInProgressError') {
          log({ event: 'in_progress', request_id: requestId, bucket: config.bucket, prefix: config.prefix });
          return respond(409, {
            error:
              'in progress: a run for the same bucket, prefix and expiry_seconds has not finished yet; retry later',
            field: null,
          });
        }
        throw error;
      }
      const { stored, replay } = outcome;
      if (!replay) {
        const url =
          freshUrl ??
          (await presigner.presign(
            { bucket: config.bucket, key: stored.manifest_key },
            { expiresIn: config.expirySeconds },
          ));
        return respond(200, bodyOfStored(stored, url));
      }
      // A stored result: re-presign the manifest for no longer than the URLs inside it live.
      const remaining = Math.max(
        1,
        Math.min(config.expirySeconds, stored.urls_expire_at - Math.floor(Date.now() / 1000)),
      );
      const url = await presigner.presign(
        { bucket: config.bucket, key: stored.manifest_key },
        { expiresIn: remaining },
      );
      log({
        event: 'idempotent_replay',
        request_id: requestId,
        count: stored.count,
        errors: stored.errors,
        manifest_key: stored.manifest_key,
        url_remaining_seconds: remaining,
      });
      metrics.addMetric('IdempotentReplays', 1);
      return respond(200, bodyOfStored(stored, url));
    }
  };
}

/** Where the next invocation starts: the run's cursor, or where this one started when it listed nothing. */
function nextStartAfterOf(result: PipelineResult, config: PresignConfig): string | undefined {
  if (result.complete) return undefined;
  return result.nextStartAfter ?? config.startAfter;
}

function bodyOfStored(stored: StoredResult, url: string): PresignSuccessBody {
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

/** What sets an inventory job apart in the idempotency key: the manifest, where it continues, its LastModified window. */
function inventoryJobFields(inventory: InventoryRequest | undefined): {
  inventory_manifest?: string;
  resume_token?: string;
  modified_after?: string;
  modified_before?: string;
} {
  if (inventory === undefined) return {};
  const { modifiedAfter, modifiedBefore } = inventory.window;
  return {
    inventory_manifest: `s3://${inventory.manifest.bucket}/${inventory.manifest.key}`,
    ...(inventory.resumeToken !== undefined ? { resume_token: inventory.resumeToken } : {}),
    ...(modifiedAfter !== undefined ? { modified_after: modifiedAfter.toISOString() } : {}),
    ...(modifiedBefore !== undefined ? { modified_before: modifiedBefore.toISOString() } : {}),
  };
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
