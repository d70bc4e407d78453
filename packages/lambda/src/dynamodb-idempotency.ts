import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Context } from 'aws-lambda';
import type { IdempotencySettings, IdempotencyStore, JobKey, StoredResult } from './idempotency.js';
import { optionTypeError } from '@presign-pipeline/core/internal';

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
const MAX_WRAPPERS = 64;

/** Thrown inside the idempotent function for a result that must be returned but not stored (item errors, or partial). */
class UncachedResult extends Error {
  constructor(readonly stored: StoredResult) {
    super('result not stored');
    this.name = 'UncachedResult';
  }
}

interface Call {
  ran: boolean;
  readonly job: () => Promise<StoredResult>;
}

type Wrapped = (key: JobKey, call: Call) => Promise<StoredResult>;

interface WrapperEntry {
  readonly fn: Wrapped;
  readonly config: IdempotencyConfig;
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

function idempotentWrapper(
  tableName: string,
  client: DynamoDBClient,
  keyPrefix: string,
  lifetime: number,
): WrapperEntry {
  const config = new IdempotencyConfig({ expiresAfterSeconds: lifetime });
  const persistenceStore = new DynamoDBPersistenceLayer({ tableName, awsSdkV3Client: client });
  const fn = makeIdempotent(
    async (_key: JobKey, call: Call): Promise<StoredResult> => {
      call.ran = true;
      const stored = await call.job();
      if (stored.errors > 0 || stored.complete === false) throw new UncachedResult(stored);
      return stored;
    },
    { persistenceStore, config, keyPrefix },
  ) as Wrapped;
  return { fn, config };
}

/**
 * The built-in {@link IdempotencyStore}: Powertools idempotency with its DynamoDB persistence layer, one layer per
 * (table, endpoint, key prefix, lifetime), kept across warm invocations. Import it from
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
  const wrappers = new Map<string, WrapperEntry>();

  const clientFor = (settings: IdempotencySettings, region: string): DynamoDBClient => {
    if (options.client !== undefined) return options.client;
    const endpoint = settings.endpoint;
    return lruGet(
      clients,
      `${region}|${endpoint ?? ''}`,
      () => new DynamoDBClient({ region, ...(endpoint !== undefined ? { endpoint } : {}) }),
      MAX_WRAPPERS,
    );
  };

  return {
    async run({ settings, key, keyPrefix, lifetimeSeconds, context, region, job }) {
      const cacheKey = JSON.stringify([
        settings.tableName,
        settings.endpoint ?? '',
        region,
        keyPrefix,
        lifetimeSeconds,
      ]);
      const { fn, config } = lruGet(
        wrappers,
        cacheKey,
        () => idempotentWrapper(settings.tableName, clientFor(settings, region), keyPrefix, lifetimeSeconds),
        MAX_WRAPPERS,
      );
      // The in-progress lock expires when this invocation would time out.
      config.registerLambdaContext(
        typeof context?.getRemainingTimeInMillis === 'function'
          ? context
          : ({ getRemainingTimeInMillis: () => FALLBACK_REMAINING_MS } as unknown as Context),
      );
      const call: Call = { ran: false, job };
      try {
        const stored = await fn(key, call);
        return { stored, replay: !call.ran };
      } catch (error) {
        if (error instanceof UncachedResult) return { stored: error.stored, replay: false };
        throw error;
      }
    },
  };
}
