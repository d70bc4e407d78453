import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { dynamoDbIdempotencyStore } from '../../src/dynamodb-idempotency.js';
import type { IdempotentJob, StoredResult } from '../../src/idempotency.js';

type Sent = { name: string; input: Record<string, unknown> };

/** A DynamoDB client that answers in memory: PutItem and DeleteItem succeed, UpdateItem too, unless `fail` says. */
function fakeDynamo(fail?: (name: string) => Error | undefined): { client: DynamoDBClient; sent: Sent[] } {
  const client = new DynamoDBClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  const sent: Sent[] = [];
  client.send = (async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
    const name = command.constructor.name.replace(/Command$/, '');
    sent.push({ name, input: command.input });
    const error = fail?.(name);
    if (error !== undefined) throw error;
    return {};
  }) as unknown as DynamoDBClient['send'];
  return { client, sent };
}

const result = (fields: Partial<StoredResult> = {}): StoredResult => ({
  count: 2,
  errors: 0,
  pages: 1,
  manifest_key: 'manifests/m.jsonl',
  manifest_bytes: 10,
  urls_expire_at: Math.floor(Date.now() / 1000) + 900,
  complete: true,
  ...fields,
});

function jobOf(run: () => Promise<StoredResult>, fields: Partial<IdempotentJob> = {}): IdempotentJob {
  return {
    settings: { tableName: 'jobs', ttlSeconds: 3600, marginSeconds: 60 },
    key: { bucket: 'reports', prefix: 'a/', expiry_seconds: 900, suffix: '.pdf' },
    keyPrefix: 'fn',
    lifetimeSeconds: 840,
    context: undefined,
    region: 'eu-west-1',
    job: run,
    ...fields,
  };
}

/** The `expiration` the completed record was saved with, in epoch seconds. */
function savedExpiration(sent: Sent[]): number | undefined {
  const update = sent.find((s) => s.name === 'UpdateItem');
  const values = update?.input.ExpressionAttributeValues as Record<string, { N?: string }> | undefined;
  return values === undefined ? undefined : Number(values[':expiry']?.N);
}

/** The error `outcome` rejects with; fails the test when it resolves. */
function failureOf(outcome: Promise<unknown>): Promise<Error> {
  return outcome.then(
    () => {
      throw new Error('the run did not fail');
    },
    (error: unknown) => error as Error,
  );
}

afterEach(() => {
  vi.useRealTimers();
});

describe('dynamoDbIdempotencyStore: the record dies before the URLs it points to', () => {
  it('counts the record lifetime from when the run started, not from when it was saved', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { client, sent } = fakeDynamo();
    const startedAt = Math.floor(Date.now() / 1000);
    const stored = result({ urls_expire_at: startedAt + 900 });
    // The run takes 300 s of the record's 840.
    const outcome = await dynamoDbIdempotencyStore({ client }).run(
      jobOf(async () => {
        vi.setSystemTime(Date.now() + 300_000);
        return stored;
      }),
    );
    expect(outcome).toEqual({ stored, replay: false });
    const expiration = savedExpiration(sent);
    expect(expiration).toBeLessThanOrEqual(startedAt + 840);
    expect(expiration).toBeGreaterThanOrEqual(startedAt + 839);
  });

  it('keeps the record marginSeconds before urls_expire_at when the URLs die sooner than the lifetime says', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { client, sent } = fakeDynamo();
    const now = Math.floor(Date.now() / 1000);
    await dynamoDbIdempotencyStore({ client }).run(jobOf(async () => result({ urls_expire_at: now + 500 })));
    expect(savedExpiration(sent)).toBe(now + 440);
  });

  it('stores nothing when the run took the whole lifetime, and answers the result', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { client, sent } = fakeDynamo();
    const stored = result();
    const outcome = await dynamoDbIdempotencyStore({ client }).run(
      jobOf(async () => {
        vi.setSystemTime(Date.now() + 841_000);
        return stored;
      }),
    );
    expect(outcome).toEqual({ stored, replay: false });
    expect(sent.map((s) => s.name)).toEqual(['PutItem', 'DeleteItem']);
  });
});

describe('dynamoDbIdempotencyStore: a failed DynamoDB call', () => {
  const notFound = (): Error =>
    Object.assign(new Error('Requested resource not found'), {
      name: 'ResourceNotFoundException',
      $metadata: { httpStatusCode: 400 },
    });

  it('fails with a message that carries the cause, the table and the setting that names it', async () => {
    const { client } = fakeDynamo((name) => (name === 'PutItem' ? notFound() : undefined));
    let ran = false;
    const failure = await failureOf(
      dynamoDbIdempotencyStore({ client }).run(
        jobOf(async () => {
          ran = true;
          return result();
        }),
      ),
    );
    expect(ran).toBe(false);
    expect(failure).toBeInstanceOf(Error);
    expect(failure.name).toBe('IdempotencyPersistenceLayerError');
    expect(failure.message).toContain('Failed to save in progress record to idempotency store');
    expect(failure.message).toContain('ResourceNotFoundException: Requested resource not found');
    expect(failure.message).toContain('"jobs"');
    expect(failure.message).toContain('IDEMPOTENCY_TABLE');
    expect((failure.cause as Error).name).toBe('ResourceNotFoundException');
  });

  it('masks secrets the cause carries, and names the endpoint setting', async () => {
    const leaky = new Error('refused https://x.example/?X-Amz-Signature=abc123 for AKIAABCDEFGHIJKLMNOP');
    const { client } = fakeDynamo((name) => (name === 'PutItem' ? leaky : undefined));
    const failure = await failureOf(
      dynamoDbIdempotencyStore({ client }).run(
        jobOf(async () => result(), {
          settings: { tableName: 'jobs', ttlSeconds: 3600, marginSeconds: 60, endpoint: 'http://127.0.0.1:8000' },
        }),
      ),
    );
    expect(failure.message).not.toContain('abc123');
    expect(failure.message).not.toContain('AKIAABCDEFGHIJKLMNOP');
    expect(failure.message).toContain('DYNAMODB_ENDPOINT_URL');
  });

  it("lets the job's own error through unchanged", async () => {
    const { client } = fakeDynamo();
    const slowDown = Object.assign(new Error('slow down'), { name: 'SlowDown' });
    await expect(
      dynamoDbIdempotencyStore({ client }).run(
        jobOf(async () => {
          throw slowDown;
        }),
      ),
    ).rejects.toBe(slowDown);
  });
});
