import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { IdempotencyRecord } from '@aws-lambda-powertools/idempotency/persistence';
import { redactSecrets } from '@presign-pipeline/core';
import { messageOf, nameOf, optionTypeError } from '@presign-pipeline/core/internal';
import type { Context } from 'aws-lambda';
import type {
  DedupOutcome,
  IdempotencySettings,
  IdempotencyStore,
  IdempotentJob,
  JobKey,
  StoredResult,
} from './idempotency.js';

/** Options of {@link dynamoDbIdempotencyStore}. */
export interface DynamoDbIdempotencyStoreOptions {
  /**
   * The DynamoDB client used for every table. Default: one client per endpoint (`IdempotencyOptions.endpoint` or
   * `DYNAMODB_ENDPOINT_URL`, else AWS's), in the function's region, built at first use and kept while the Lambda is warm.
   */
  readonly client?: DynamoDBClient;
}

// Without a Lambda context (local runs) an in-progress lock expires after Lambda's longest run.
const FALLBACK_REMAINING_MS = 15 * 60 * 1000;
const MAX_CLIENTS = 64;
/** Powertools' errors that carry a failed DynamoDB call in their cause. */
const STORE_ERROR_PREFIX = 'Idempotency';

/** Thrown inside the idempotent function for a result that must be returned but not stored (item errors, or partial). */
class UncachedResult extends Error {
  constructor(readonly stored: StoredResult) {
    super('result not stored');
    this.name = 'UncachedResult';
  }
}

/**
 * The DynamoDB persistence layer, with the completed record's expiry held to a deadline set once the job has run.
 * Powertools stamps `expiration` as "now + lifetime" when it saves the result, which would count a slow run's time
 * twice: the record must die by the deadline the run's start and its URLs allow, not later.
 */
class DeadlinePersistenceLayer extends DynamoDBPersistenceLayer {
  /** The latest `expiration` (epoch seconds) the completed record may have; set before the result is saved. */
  deadline: number | undefined;

  protected override async _updateRecord(record: IdempotencyRecord): Promise<void> {
    if (
      this.deadline !== undefined &&
      (record.expiryTimestamp === undefined || record.expiryTimestamp > this.deadline)
    ) {
      record.expiryTimestamp = this.deadline;
    }
    await super._updateRecord(record);
  }
}

/**
 * The latest time, in epoch seconds, a completed record may expire: `lifetimeSeconds` after the run started, and
 * `marginSeconds` before the first URL in its manifest dies.
 */
function recordDeadline(
  startedAt: number,
  lifetimeSeconds: number,
  stored: StoredResult,
  marginSeconds: number,
): number {
  return Math.min(Math.floor(startedAt / 1000) + lifetimeSeconds, stored.urls_expire_at - marginSeconds);
}

/** A map that forgets its least recently used entry past `limit`. */
function lruGet<V>(map: Map<string, V>, key: string, create: () => V, limit: number): V {
  const found = map.get(key);
  if (found !== undefined) {
    // Refresh its position: the map iterates oldest first.
    map.delete(key);
    map.set(key, found);
    return found;
  }
  const value = create();
  if (map.size >= limit) {
    const oldest = map.keys().next();
    if (oldest.done !== true) map.delete(oldest.value);
  }
  map.set(key, value);
  return value;
}

/**
 * One job through Powertools: a persistence layer of its own (its deadline belongs to this run alone), the in-progress
 * lock expiring when the invocation would time out, and the record saved only with life left in it.
 */
async function runIdempotent(job: IdempotentJob, client: DynamoDBClient): Promise<DedupOutcome> {
  const { settings, key, keyPrefix, lifetimeSeconds, context } = job;
  const startedAt = Date.now();
  const config = new IdempotencyConfig({ expiresAfterSeconds: lifetimeSeconds });
  config.registerLambdaContext(
    typeof context?.getRemainingTimeInMillis === 'function'
      ? context
      : ({ getRemainingTimeInMillis: () => FALLBACK_REMAINING_MS } as unknown as Context),
  );
  const persistenceStore = new DeadlinePersistenceLayer({ tableName: settings.tableName, awsSdkV3Client: client });
  let ran = false;
  const fn = makeIdempotent(
    async (_key: JobKey): Promise<StoredResult> => {
      ran = true;
      const stored = await job.job();
      if (stored.errors > 0 || stored.complete === false) throw new UncachedResult(stored);
      const deadline = recordDeadline(startedAt, lifetimeSeconds, stored, settings.marginSeconds);
      // The run took the record's whole life: answer it, store nothing.
      if (deadline <= Math.ceil(Date.now() / 1000)) throw new UncachedResult(stored);
      persistenceStore.deadline = deadline;
      return stored;
    },
    { persistenceStore, config, keyPrefix },
  );
  try {
    const stored = await fn(key);
    return { stored, replay: !ran };
  } catch (error) {
    if (error instanceof UncachedResult) return { stored: error.stored, replay: false };
    throw storeFailure(error, settings);
  }
}

/**
 * A Powertools store failure with its DynamoDB cause and the settings behind it in the message, which is what the
 * log line and the Lambda error show (Powertools' own message is the same for every cause). Other errors (the job's
 * own, a duplicate in progress) pass through unchanged.
 */
function storeFailure(error: unknown, settings: IdempotencySettings): unknown {
  if (!(error instanceof Error) || !error.name.startsWith(STORE_ERROR_PREFIX)) return error;
  if (error.name === 'IdempotencyAlreadyInProgressError' || error.cause === undefined) return error;
  const causeName = nameOf(error.cause);
  const where = [
    `DynamoDB table ${JSON.stringify(settings.tableName)} from IDEMPOTENCY_TABLE or idempotency.tableName`,
  ];
  if (settings.endpoint !== undefined) {
    where.push(`endpoint ${settings.endpoint} from DYNAMODB_ENDPOINT_URL or idempotency.endpoint`);
  }
  // DynamoDB says "Missing the key pk in the item" for a table keyed on another attribute.
  if (causeName === 'ValidationException') where.push('the table needs hash key "id" of type S');
  const message = redactSecrets(`${error.message}: ${causeName}: ${messageOf(error.cause)} (${where.join('; ')})`);
  const detailed = new Error(message, { cause: error.cause });
  detailed.name = error.name;
  return detailed;
}

/**
 * The built-in {@link IdempotencyStore}: Powertools idempotency with its DynamoDB persistence layer, one layer per
 * run (the DynamoDB clients are kept across warm invocations). A failed DynamoDB call fails the invocation with
 * Powertools' error, its message carrying the cause and the table. Import it from
 * `@presign-pipeline/lambda/idempotency`, and install `@aws-lambda-powertools/idempotency`, `@aws-sdk/client-dynamodb`
 * and `@aws-sdk/util-dynamodb` beside the package (optional peer dependencies).
 *
 * @example
 * ```ts
 * import { createPresignHandler } from '@presign-pipeline/lambda';
 * import { dynamoDbIdempotencyStore } from '@presign-pipeline/lambda/idempotency';
 * export const handler = createPresignHandler({ idempotencyStore: dynamoDbIdempotencyStore() });
 * ```
 */
export function dynamoDbIdempotencyStore(options: DynamoDbIdempotencyStoreOptions = {}): IdempotencyStore {
  if (options === null || typeof options !== 'object')
    throw optionTypeError('dynamoDbIdempotencyStore: options must be an object');
  const clients = new Map<string, DynamoDBClient>();

  const clientFor = (settings: IdempotencySettings, region: string): DynamoDBClient => {
    if (options.client !== undefined) return options.client;
    const endpoint = settings.endpoint;
    return lruGet(
      clients,
      `${region}|${endpoint ?? ''}`,
      () => new DynamoDBClient({ region, ...(endpoint !== undefined ? { endpoint } : {}) }),
      MAX_CLIENTS,
    );
  };

  return {
    run: (job) => runIdempotent(job, clientFor(job.settings, job.region)),
  };
}
