import { nameOf } from '@presign-pipeline/core/internal';
import {
  jsonLogReporter,
  PresignPipelineError,
  presignPipeline,
  s3ListSource,
  s3ManifestWriter,
  suffixFilter,
  type KeySource,
  type ManifestWriter,
  type PipelineResult,
} from '@presign-pipeline/core';
import type { Context } from 'aws-lambda';
import type { ClientSet } from './clients.js';
import type { HandlerEnv, PresignConfig } from './config.js';
import { manifestSseOptions, type HandlerSettings } from './handler-settings.js';
import {
  recordLifetimeSeconds,
  type DedupOutcome,
  type IdempotencySettings,
  type IdempotencyStore,
  type JobKey,
  type StoredResult,
} from './idempotency.js';
import { inventoryKeySource, type InventoryRequest } from './inventory.js';
import type { Invocation } from './invocation.js';
import type { JobPlan } from './job-plan.js';
import { STOP_CLEANUP_MS } from './job-budget.js';
import { listingSourceOptions, resumeFields } from './listing.js';
import { manifestPartPool } from './memory-size.js';

/** What a job came to, before it is turned into a response. @internal */
export type JobOutcome =
  /** The pipeline ran without deduplication. */
  | { readonly kind: 'ran'; readonly result: PipelineResult; readonly key: string; readonly url: string }
  /** A deduplicated job ran now (or ran without a record: URLs too short-lived to reuse). */
  | { readonly kind: 'stored'; readonly stored: StoredResult; readonly url: string }
  /** The stored result of an earlier run, its manifest presigned again for `remainingSeconds`. */
  | {
      readonly kind: 'replayed';
      readonly stored: StoredResult;
      readonly url: string;
      readonly remainingSeconds: number;
    }
  /** A run with the same key has not finished yet. */
  | { readonly kind: 'in-progress' };

/** Everything one job needs to run. @internal */
export interface JobRunInput {
  /** The handler's settings. */
  readonly settings: HandlerSettings;
  /** The invocation: request id, metrics and the observer the run reports to. */
  readonly invocation: Invocation;
  /** The checked event. */
  readonly plan: JobPlan;
  /** The S3 client and presigner for the plan's endpoint. */
  readonly clients: ClientSet;
  /** When listing stops, if the invocation has a budget. */
  readonly deadline: number | undefined;
  /** Aborts shortly before the invocation ends: the manifest upload stops and is removed (see `HARD_STOP_RESERVE_MS`). */
  readonly stop?: AbortSignal | undefined;
  /** The invocation's environment (function name and region of the idempotency record). */
  readonly env: HandlerEnv;
  /** The Lambda context, handed to the idempotency store. */
  readonly context: Context | undefined;
}

/**
 * The run step of one job: the pipeline from the bucket (or inventory) to the manifest, once, or through the
 * idempotency store, then the manifest's URL. @internal
 */
export class JobRun {
  /** The manifest URL of a run that happened in this invocation (the writer presigns it as it closes). */
  private freshUrl: string | undefined;

  constructor(private readonly input: JobRunInput) {}

  /** Runs the job and says what came of it; throws what the pipeline or the store throws. */
  async outcome(): Promise<JobOutcome> {
    const { dedup } = this.input.plan;
    if (dedup === undefined) return this.runOnce();
    const store = this.input.settings.idempotencyStore;
    if (store === undefined) throw idempotencyUnavailable(dedup);
    return this.runDeduplicated(dedup, store);
  }

  private async runOnce(): Promise<JobOutcome> {
    const { result, key } = await this.pipeline();
    const url = result.manifest.url ?? (await this.presignManifest(key, result.effectiveExpiresIn));
    return { kind: 'ran', result, key, url };
  }

  private async runDeduplicated(settings: IdempotencySettings, store: IdempotencyStore): Promise<JobOutcome> {
    const { config } = this.input.plan;
    const presigner = this.input.clients.presigner;
    const credentialsExpireAt =
      presigner.credentialsExpiration === undefined ? undefined : await presigner.credentialsExpiration();
    const lifetime = recordLifetimeSeconds(settings, config.expirySeconds, credentialsExpireAt);
    // URLs this short-lived are not worth reusing: run without a record.
    if (lifetime <= 0) return this.storedOutcome(await this.storedJob());
    let outcome: DedupOutcome;
    try {
      outcome = await store.run({
        settings,
        key: jobKeyOf(this.input.plan, this.input.settings.suffix),
        keyPrefix: this.input.env.AWS_LAMBDA_FUNCTION_NAME || this.input.settings.functionName,
        lifetimeSeconds: lifetime,
        context: this.input.context,
        region: this.input.env.AWS_REGION ?? this.input.env.AWS_DEFAULT_REGION ?? 'us-east-1',
        job: () => this.storedJob(),
      });
    } catch (error) {
      if (nameOf(error) === 'IdempotencyAlreadyInProgressError') return { kind: 'in-progress' };
      throw error;
    }
    return outcome.replay ? this.replayed(outcome.stored) : this.storedOutcome(outcome.stored);
  }

  private async storedOutcome(stored: StoredResult): Promise<JobOutcome> {
    const expiresIn = this.input.plan.config.expirySeconds;
    const url = this.freshUrl ?? (await this.presignManifest(stored.manifest_key, expiresIn));
    return { kind: 'stored', stored, url };
  }

  /** A stored result: the manifest presigned again for no longer than the URLs inside it live. */
  private async replayed(stored: StoredResult): Promise<JobOutcome> {
    const expirySeconds = this.input.plan.config.expirySeconds;
    const remaining = Math.max(1, Math.min(expirySeconds, stored.urls_expire_at - Math.floor(Date.now() / 1000)));
    const url = await this.presignManifest(stored.manifest_key, remaining);
    return { kind: 'replayed', stored, url, remainingSeconds: remaining };
  }

  /** The job the idempotency store runs: the pipeline, its result as the record stores it. */
  private async storedJob(): Promise<StoredResult> {
    // Taken before the first URL is signed: the first URL dies no earlier than this plus the effective expiry.
    const signingFrom = Date.now();
    const { result, key } = await this.pipeline();
    this.freshUrl = result.manifest.url;
    return storedResultOf(result, key, this.input.plan, signingFrom);
  }

  private async pipeline(): Promise<{ result: PipelineResult; key: string }> {
    const { settings, invocation, plan, clients, deadline } = this.input;
    const result = await presignPipeline({
      source: this.source(),
      presigner: clients.presigner,
      manifest: this.manifest(),
      concurrency: plan.config.concurrency,
      queueMax: plan.config.queueMax,
      expiresIn: plan.config.expirySeconds,
      requestId: invocation.requestId,
      onExpiryCapped: plan.onExpiryCapped,
      reporters: [
        jsonLogReporter({ write: settings.write }),
        invocation.metrics,
        invocation.observer,
        ...settings.reporters,
      ],
      ...(deadline !== undefined ? { deadline } : {}),
      ...(settings.signal !== undefined ? { signal: settings.signal } : {}),
    });
    const key = result.manifest.key;
    if (key === undefined) throw new Error('The manifest writer did not report a manifest key');
    return { result, key };
  }

  private source(): KeySource {
    const { plan, clients, settings } = this.input;
    const { config } = plan;
    if (plan.inventory !== undefined) {
      return inventoryKeySource(clients.client, config, plan.inventory, suffixFilter(settings.suffix));
    }
    return s3ListSource({
      client: clients.client,
      bucket: config.bucket,
      prefix: config.prefix,
      pageSize: config.pageSize,
      filter: suffixFilter(settings.suffix),
      ...(config.startAfter !== undefined ? { startAfter: config.startAfter } : {}),
      ...listingSourceOptions(plan.listing),
    });
  }

  private manifest(): ManifestWriter {
    const { plan, clients, settings } = this.input;
    return s3ManifestWriter({
      client: clients.client,
      bucket: plan.config.bucket,
      keyPrefix: settings.manifestPrefix,
      presigner: clients.presigner,
      ...manifestSseOptions(plan.config.manifestEncryption),
      ...manifestPartPool(this.input.env),
      ...(this.input.stop !== undefined ? { signal: this.input.stop, cleanupTimeoutMs: STOP_CLEANUP_MS } : {}),
    });
  }

  private presignManifest(key: string, expiresIn: number): Promise<string> {
    return this.input.clients.presigner.presign({ bucket: this.input.plan.config.bucket, key }, { expiresIn });
  }
}

/**
 * A run's result as an idempotency record holds it, with where the next invocation continues when it stopped early.
 * `signingFrom` (epoch ms) is a time before the run signed its first URL: `urls_expire_at` counts from it, so it is
 * when the earliest URL in the manifest dies, however long the run took. @internal
 */
export function storedResultOf(
  result: PipelineResult,
  key: string,
  plan: Pick<JobPlan, 'config' | 'inventory'>,
  signingFrom: number,
): StoredResult {
  return {
    count: result.count,
    errors: result.errors,
    pages: result.pages,
    manifest_key: key,
    manifest_bytes: result.manifest.bytes,
    urls_expire_at: Math.floor(signingFrom / 1000) + result.effectiveExpiresIn,
    complete: result.complete,
    ...(result.complete ? {} : continuationOf(result, plan)),
  };
}

function continuationOf(
  result: PipelineResult,
  { config, inventory }: Pick<JobPlan, 'config' | 'inventory'>,
): { resume_token: string } | { next_start_after: string | undefined } {
  if (inventory !== undefined) return { resume_token: result.nextStartAfter ?? inventory.resumeToken ?? '' };
  return resumeFields(result) ?? { next_start_after: nextStartAfterOf(result, config) };
}

/**
 * The job's identity in the idempotency store: bucket, prefix, expiry and suffix, and what sets a continuation or an
 * inventory run apart (its result covers only the keys after where it starts). @internal
 */
export function jobKeyOf(plan: Pick<JobPlan, 'config' | 'inventory' | 'listing'>, suffix: string): JobKey {
  const { config, inventory } = plan;
  const resumeToken = plan.listing.resumeToken;
  return {
    bucket: config.bucket,
    prefix: config.prefix,
    expiry_seconds: config.expirySeconds,
    suffix,
    ...(config.startAfter !== undefined ? { start_after: config.startAfter } : {}),
    ...inventoryJobFields(inventory),
    ...(resumeToken !== undefined ? { resume_token: resumeToken } : {}),
  };
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

/** Idempotency is on, but the handler was built without a store (the main entry does not carry DynamoDB). */
function idempotencyUnavailable(settings: IdempotencySettings): PresignPipelineError {
  return new PresignPipelineError(
    'IDEMPOTENCY_UNAVAILABLE',
    `IDEMPOTENCY_TABLE (or the idempotency option) names table ${JSON.stringify(settings.tableName)}, but this handler has no idempotencyStore: ` +
      "deploy `handler` from '@presign-pipeline/lambda/idempotency', or pass idempotencyStore: dynamoDbIdempotencyStore(); nothing was listed",
  );
}

/** Where the next invocation starts: the run's cursor, or where this one started when it listed nothing. @internal */
export function nextStartAfterOf(
  result: PipelineResult,
  config: Pick<PresignConfig, 'startAfter'>,
): string | undefined {
  if (result.complete) return undefined;
  return result.nextStartAfter ?? config.startAfter;
}
