import { randomBytes } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient, ScanCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { DeleteObjectsCommand as S3DeleteObjectsCommand } from '@aws-sdk/client-s3';
import { startFaultProxy, startMotoServer, type MotoServer } from '@presign-pipeline/minio-testing';
import { useS3Endpoint } from '@presign-pipeline/minio-testing/vitest';
import { inject } from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoDbIdempotencyStore } from '../../src/dynamodb-idempotency.js';
import { createPresignHandler, type PresignResponse } from '../../src/handler.js';
import { lineSink, readCaptured } from '../helpers/capture.js';
import {
  handlerThrough,
  lambdaContext,
  listKeys,
  observedClient,
  readText,
  seedReports,
  uniqueBucket,
} from '../helpers/integration.js';

const endpoint = useS3Endpoint();
const bucket = uniqueBucket('idem');
const prefix = 'jobs/';
let dynamo: DynamoDBClient;
let ownMoto: MotoServer | undefined;

/** A DynamoDB API: moto_server serves it on the S3 endpoint's port; with MinIO, a moto_server of our own. */
async function dynamoEndpoint(): Promise<string> {
  if (inject('s3Endpoint').kind === 'moto') return endpoint.endpoint;
  ownMoto = await startMotoServer();
  return ownMoto.endpoint;
}

async function createTable(): Promise<string> {
  const tableName = `idempotency-${randomBytes(4).toString('hex')}`;
  await dynamo.send(
    new CreateTableCommand({
      TableName: tableName,
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await waitUntilTableExists({ client: dynamo, maxWaitTime: 30, minDelay: 1 }, { TableName: tableName });
  return tableName;
}

/** When a SigV4 query-presigned URL dies, in epoch seconds: X-Amz-Date plus X-Amz-Expires. */
function urlExpiresAt(url: string): number {
  const query = new URL(url).searchParams;
  const date = String(query.get('X-Amz-Date'));
  const signedAt = Date.parse(
    `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`,
  );
  return signedAt / 1000 + Number(query.get('X-Amz-Expires'));
}

async function records(tableName: string): Promise<Array<Record<string, { S?: string; N?: string; M?: unknown }>>> {
  const scan = await dynamo.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }));
  return (scan.Items ?? []) as Array<Record<string, { S?: string; N?: string; M?: unknown }>>;
}

function parse(response: PresignResponse): Record<string, unknown> {
  return JSON.parse(response.body) as Record<string, unknown>;
}

beforeAll(async () => {
  await seedReports(endpoint, bucket, prefix, 12, 1);
  const url = await dynamoEndpoint();
  dynamo = new DynamoDBClient({ endpoint: url, region: endpoint.region, credentials: endpoint.credentials });
}, 60_000);

afterAll(async () => {
  dynamo?.destroy();
  await ownMoto?.stop();
  await endpoint.stop();
});

function dedupHandler(
  tableName: string,
  extra: Parameters<typeof createPresignHandler>[0] = {},
  observed = observedClient(endpoint),
) {
  const sink = lineSink();
  const handler = createPresignHandler({
    s3Client: observed.client,
    write: sink.write,
    env: {},
    idempotency: { tableName },
    idempotencyStore: dynamoDbIdempotencyStore({ client: dynamo }),
    ...extra,
  });
  return { handler, sink, observed };
}

describe('idempotency on a real DynamoDB API (Powertools persistence layer)', () => {
  it('returns the stored result for the same (bucket, prefix, expiry) without listing, with a freshly presigned manifest URL', async () => {
    const tableName = await createTable();
    const { handler, sink, observed } = dedupHandler(tableName);

    const first = await handler({ bucket, prefix, expiry_seconds: 900 }, lambdaContext('first'));
    expect(first.statusCode).toBe(200);
    const firstBody = parse(first);
    expect(firstBody.count).toBe(12);
    const listsAfterFirst = observed.count('ListObjectsV2');
    expect(listsAfterFirst).toBeGreaterThan(0);

    // Make a re-run observable: remove the PDFs. A replay still reports 12 and lists nothing.
    const kept = (await listKeys(endpoint.client, bucket, prefix)).filter(
      (key) => key.endsWith('.pdf') || key.endsWith('.PDF'),
    );
    const snapshot = await Promise.all(
      kept.map(async (key) => ({ key, body: await readText(endpoint.client, bucket, key) })),
    );
    await endpoint.client.send(
      new S3DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: kept.map((Key) => ({ Key })) } }),
    );
    try {
      // A different page_size or concurrency is the same job.
      const second = await handler({ bucket, prefix, expiry_seconds: '900', page_size: 3 }, lambdaContext('second'));
      expect(second.statusCode).toBe(200);
      const secondBody = parse(second);
      expect(Object.keys(secondBody)).toEqual(['count', 'errors', 'manifest_key', 'manifest_url', 'complete']);
      expect(secondBody.count).toBe(12);
      expect(secondBody.errors).toBe(0);
      expect(secondBody.manifest_key).toBe(firstBody.manifest_key);
      expect(observed.count('ListObjectsV2')).toBe(listsAfterFirst);

      // The manifest URL is signed again, never older than the URLs inside, and serves the stored manifest.
      const url = new URL(String(secondBody.manifest_url));
      expect(Number(url.searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(900);
      expect(Number(url.searchParams.get('X-Amz-Expires'))).toBeGreaterThan(800);
      const manifest = await (await fetch(url)).text();
      expect(manifest.split('\n').filter(Boolean)).toHaveLength(12);

      const { logs, metrics } = readCaptured(sink.lines);
      expect(logs.filter((line) => line.event === 'complete')).toHaveLength(1);
      expect(logs.find((line) => line.event === 'idempotent_replay')).toMatchObject({
        request_id: 'second',
        count: 12,
        manifest_key: firstBody.manifest_key,
      });
      // Two EMF documents: the run's, then the replay's (no work, one replay).
      const replayMetrics = Object.fromEntries(metrics.slice(5).map((m) => [m.name, m.value]));
      expect(replayMetrics).toEqual({
        PDFsProcessed: 0,
        S3ListPages: 0,
        PresignCount: 0,
        ManifestBytes: 0,
        IdempotentReplays: 1,
        ResponseBytes: Buffer.byteLength(second.body),
      });

      // The stored record holds no URL, and lives no longer than the URLs: min(3600, 900 - 60) = 840 s.
      const [record] = await records(tableName);
      expect(record?.status?.S).toBe('COMPLETED');
      expect(JSON.stringify(record?.data)).toContain(String(firstBody.manifest_key));
      expect(JSON.stringify(record)).not.toContain('X-Amz');
      const lifetime = Number(record?.expiration?.N) - Date.now() / 1000;
      expect(lifetime).toBeGreaterThan(820);
      expect(lifetime).toBeLessThanOrEqual(841);

      // A different expiry is a different job: it lists again (and now finds no PDFs).
      const other = await handler({ bucket, prefix, expiry_seconds: 600 }, lambdaContext('third'));
      expect(parse(other).count).toBe(0);
      expect(observed.count('ListObjectsV2')).toBeGreaterThan(listsAfterFirst);
    } finally {
      await endpoint.seed(bucket, snapshot);
    }
  });

  it('answers 409 to a duplicate that arrives while the first run is in progress', async () => {
    const tableName = await createTable();
    let duplicate: Promise<PresignResponse> | undefined;
    let inProgressRecord: Promise<Array<Record<string, { S?: string; N?: string; M?: unknown }>>> | undefined;
    const sink = lineSink();
    const handler = createPresignHandler({
      s3Client: observedClient(endpoint).client,
      write: sink.write,
      env: {},
      idempotency: { tableName },
      idempotencyStore: dynamoDbIdempotencyStore({ client: dynamo }),
      reporters: [
        {
          // Fires once the first run holds the lock and has started listing.
          subscribe(events) {
            events.once('pipeline-started', () => {
              if (duplicate !== undefined) return;
              inProgressRecord = records(tableName);
              duplicate = handler({ bucket, prefix }, lambdaContext('duplicate', 30_000));
            });
          },
        },
      ],
    });
    const started = Date.now();
    const first = await handler({ bucket, prefix }, lambdaContext('original', 60_000));
    expect(first.statusCode).toBe(200);
    expect(duplicate).toBeDefined();
    const second = await duplicate!;
    expect(second.statusCode).toBe(409);
    expect(parse(second)).toEqual({
      error: 'in progress: a run for the same bucket, prefix and expiry_seconds has not finished yet; retry later',
      field: null,
    });
    expect(readCaptured(sink.lines).logs.find((line) => line.event === 'in_progress')).toMatchObject({
      request_id: 'duplicate',
    });

    // The lock expires when the first invocation would have timed out (registerLambdaContext: 60 s remaining).
    const [lock] = await inProgressRecord!;
    expect(lock?.status?.S).toBe('INPROGRESS');
    const lockExpiry = Number(lock?.in_progress_expiration?.N);
    expect(lockExpiry).toBeGreaterThanOrEqual(started + 59_000);
    expect(lockExpiry).toBeLessThanOrEqual(Date.now() + 60_000);

    // After the first run completes, the same request gets the stored result.
    const third = await handler({ bucket, prefix }, lambdaContext('after'));
    expect(third.statusCode).toBe(200);
    expect(parse(third).manifest_key).toBe(parse(first).manifest_key);
  });

  it('does not store a failed run: the retry lists again and succeeds', async () => {
    const tableName = await createTable();
    const { handler, observed } = dedupHandler(
      tableName,
      {},
      observedClient(endpoint, { ListObjectsV2: { call: 1, name: 'SlowDown' } }),
    );
    await expect(handler({ bucket, prefix }, lambdaContext('fails'))).rejects.toMatchObject({ name: 'SlowDown' });
    expect(await records(tableName)).toEqual([]);
    const retry = await handler({ bucket, prefix }, lambdaContext('retry'));
    expect(retry.statusCode).toBe(200);
    expect(parse(retry).count).toBe(12);
    expect(observed.count('ListObjectsV2')).toBe(2);
    expect((await records(tableName)).map((r) => r.status?.S)).toEqual(['COMPLETED']);
  });

  it('skips deduplication when the URLs are too short-lived to reuse (expiry_seconds <= margin)', async () => {
    const tableName = await createTable();
    const { handler, observed } = dedupHandler(tableName);
    const first = await handler({ bucket, prefix, expiry_seconds: 60 }, lambdaContext('a'));
    const second = await handler({ bucket, prefix, expiry_seconds: 60 }, lambdaContext('b'));
    expect(parse(first).manifest_key).not.toBe(parse(second).manifest_key);
    expect(observed.count('ListObjectsV2')).toBe(2);
    expect(await records(tableName)).toEqual([]);
  });

  it('is configured by IDEMPOTENCY_TABLE, IDEMPOTENCY_TTL_SECONDS and DYNAMODB_ENDPOINT_URL', async () => {
    const tableName = await createTable();
    const observed = observedClient(endpoint);
    const handler = createPresignHandler({
      s3Client: observed.client,
      write: () => undefined,
      env: {
        IDEMPOTENCY_TABLE: tableName,
        IDEMPOTENCY_TTL_SECONDS: '120',
        DYNAMODB_ENDPOINT_URL: String(
          await dynamo.config.endpoint?.().then((e) => `${e.protocol}//${e.hostname}:${e.port}`),
        ),
        AWS_REGION: endpoint.region,
      },
      clientConfig: { credentials: endpoint.credentials },
      idempotencyStore: dynamoDbIdempotencyStore(),
    });
    // The env-built DynamoDB client takes credentials from the default chain, which reads process.env.
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = endpoint.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = endpoint.credentials.secretAccessKey;
    try {
      await handler({ bucket, prefix }, lambdaContext('env-1'));
      await handler({ bucket, prefix }, lambdaContext('env-2'));
    } finally {
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      else process.env.AWS_ACCESS_KEY_ID = saved.id;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    }
    expect(observed.count('ListObjectsV2')).toBe(1);
    const [record] = await records(tableName);
    const lifetime = Number(record?.expiration?.N) - Date.now() / 1000;
    expect(lifetime).toBeGreaterThan(100);
    expect(lifetime).toBeLessThanOrEqual(121);
    expect(record?.id?.S).toMatch(/^sign_pdfs_optimized#/);
  });

  it('does not store a run with item errors, so a retry tries again', async () => {
    const tableName = await createTable();
    let calls = 0;
    const { handler, observed } = dedupHandler(tableName, {
      presigner: () => ({
        presign: async (object) => {
          calls++;
          if (calls === 1) throw new Error('signing failed once');
          return `https://signed.invalid/${object.bucket}/${encodeURIComponent(object.key)}`;
        },
      }),
    });
    const first = parse(await handler({ bucket, prefix }, lambdaContext('partial')));
    expect(first).toMatchObject({ count: 11, errors: 1 });
    expect(await records(tableName)).toEqual([]);
    const second = parse(await handler({ bucket, prefix }, lambdaContext('again')));
    expect(second).toMatchObject({ count: 12, errors: 0 });
    expect(observed.count('ListObjectsV2')).toBe(2);
  });
});

describe('idempotency of a run slower than the margin', () => {
  it('keeps the record and the replayed manifest URL within the life of the first URL the run signed', async () => {
    // Prepare: every ListObjectsV2 is held back 1.5 s, so a run over 13 objects in pages of 5 (3 pages) takes about
    // 4.5 s, longer than the 2 s margin; its first URL is signed about 3 s before it ends.
    const tableName = await createTable();
    const proxy = await startFaultProxy({
      target: endpoint,
      rules: [{ fault: 'delay', operation: 'ListObjectsV2', delayMs: 1500 }],
    });
    try {
      const { handler } = handlerThrough(endpoint, proxy, {
        write: () => undefined,
        env: {},
        idempotency: { tableName, marginSeconds: 2 },
        idempotencyStore: dynamoDbIdempotencyStore({ client: dynamo }),
      });
      const event = { bucket, prefix, expiry_seconds: 10, page_size: 5 };

      // Act: the run, then its replay.
      const first = parse(await handler(event, lambdaContext('slow-1')));
      const replay = parse(await handler(event, lambdaContext('slow-2')));

      // Assess: the earliest URL in the manifest bounds the stored urls_expire_at, the record (by the margin) and the
      // replayed manifest URL.
      expect(first).toMatchObject({ count: 12, complete: true });
      expect(replay.manifest_key).toBe(first.manifest_key);
      const lines = (await readText(endpoint.client, bucket, String(first.manifest_key))).split('\n').filter(Boolean);
      const urls = lines
        .map((line) => Object.values(JSON.parse(line) as Record<string, unknown>))
        .map((values) => String(values.find((v) => typeof v === 'string' && v.startsWith('http'))));
      const firstUrlDies = Math.min(...urls.map(urlExpiresAt));
      const [record] = await records(tableName);
      const data = (record?.data?.M ?? {}) as Record<string, { N?: string }>;
      const storedUrlsExpireAt = Number(data.urls_expire_at?.N);
      expect(storedUrlsExpireAt).toBeLessThanOrEqual(firstUrlDies);
      expect(Number(record?.expiration?.N)).toBeLessThanOrEqual(firstUrlDies - 2);
      expect(urlExpiresAt(String(replay.manifest_url))).toBeLessThanOrEqual(firstUrlDies);
    } finally {
      await proxy.stop();
    }
  });
});

describe('idempotency misconfigured', () => {
  async function failureOf(handler: ReturnType<typeof dedupHandler>['handler']): Promise<Error> {
    return handler({ bucket, prefix }, lambdaContext('misconfigured')).then(
      () => {
        throw new Error('the invocation did not fail');
      },
      (error: unknown) => error as Error,
    );
  }

  it('says which DynamoDB error a missing table or a table keyed on another attribute gave, and names the setting', async () => {
    const wrongKey = `idempotency-pk-${randomBytes(4).toString('hex')}`;
    await dynamo.send(
      new CreateTableCommand({
        TableName: wrongKey,
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await waitUntilTableExists({ client: dynamo, maxWaitTime: 30, minDelay: 1 }, { TableName: wrongKey });

    const missing = dedupHandler('no-such-table');
    const missingFailure = await failureOf(missing.handler);
    expect(missingFailure.name).toBe('IdempotencyPersistenceLayerError');
    expect(missingFailure.message).toContain('ResourceNotFoundException');
    expect(missingFailure.message).toContain('"no-such-table"');
    expect(missingFailure.message).toContain('IDEMPOTENCY_TABLE');
    const errorLine = readCaptured(missing.sink.lines).logs.find((line) => line.event === 'error');
    expect(errorLine?.error).toBe(missingFailure.message);
    expect(missing.observed.count('ListObjectsV2')).toBe(0);

    const keyedOnPk = await failureOf(dedupHandler(wrongKey).handler);
    expect(keyedOnPk.message).toContain('ValidationException');
    expect(keyedOnPk.message).toContain('hash key "id"');
  });

  it('answers 400 naming IDEMPOTENCY_TABLE or DYNAMODB_ENDPOINT_URL when they cannot be used, before listing', async () => {
    const observed = observedClient(endpoint);
    const handlerWith = (env: Record<string, string>) =>
      createPresignHandler({
        s3Client: observed.client,
        write: () => undefined,
        env,
        idempotencyStore: dynamoDbIdempotencyStore({ client: dynamo }),
      });
    const badName = await handlerWith({ IDEMPOTENCY_TABLE: 'bad name!' })({ bucket, prefix }, lambdaContext('n'));
    expect(badName.statusCode).toBe(400);
    expect(parse(badName).field).toBe('IDEMPOTENCY_TABLE');
    const noScheme = await handlerWith({ IDEMPOTENCY_TABLE: 'jobs', DYNAMODB_ENDPOINT_URL: '127.0.0.1:5611' })(
      { bucket, prefix },
      lambdaContext('e'),
    );
    expect(noScheme.statusCode).toBe(400);
    expect(parse(noScheme).field).toBe('DYNAMODB_ENDPOINT_URL');
    expect(observed.count('ListObjectsV2')).toBe(0);
  });

  it('trims IDEMPOTENCY_TABLE, so a name with stray spaces still finds its table', async () => {
    const tableName = await createTable();
    const observed = observedClient(endpoint);
    const handler = createPresignHandler({
      s3Client: observed.client,
      write: () => undefined,
      env: { IDEMPOTENCY_TABLE: ` ${tableName} ` },
      idempotencyStore: dynamoDbIdempotencyStore({ client: dynamo }),
    });
    expect((await handler({ bucket, prefix }, lambdaContext('t1'))).statusCode).toBe(200);
    expect((await handler({ bucket, prefix }, lambdaContext('t2'))).statusCode).toBe(200);
    expect(observed.count('ListObjectsV2')).toBe(1);
  });
});

describe('idempotency with deadline continuation', () => {
  it('never stores a partial run, and keeps each start_after its own job', async () => {
    // Prepare: every ListObjectsV2 is held back 150 ms and each invocation may list for 300 ms, so a run over the
    // 13 objects in pages of 2 (7 pages) is always cut short.
    const tableName = await createTable();
    const proxy = await startFaultProxy({
      target: endpoint,
      rules: [{ fault: 'delay', operation: 'ListObjectsV2', delayMs: 150 }],
    });
    try {
      const { handler, observed } = handlerThrough(endpoint, proxy, {
        write: () => undefined,
        env: {},
        idempotency: { tableName },
        idempotencyStore: dynamoDbIdempotencyStore({ client: dynamo }),
        // The 1000 ms margin is capped at half of each 600 ms budget: 300 ms of listing.
        deadlineMarginMs: 1000,
      });
      const event = { bucket, prefix, page_size: 2 };

      // Act + Assess: a cut run is answered, not stored, so its repetition lists again.
      const first = parse(await handler(event, lambdaContext('cut-1', 600)));
      expect(first).toMatchObject({ complete: false });
      const listsAfterFirst = observed.count('ListObjectsV2');
      expect((await records(tableName)).filter((r) => r.status?.S === 'COMPLETED')).toEqual([]);
      const second = parse(await handler(event, lambdaContext('cut-2', 600)));
      expect(second).toMatchObject({ complete: false });
      expect(second.manifest_key).not.toBe(first.manifest_key);
      expect(observed.count('ListObjectsV2')).toBeGreaterThan(listsAfterFirst);
      expect((await records(tableName)).filter((r) => r.status?.S === 'COMPLETED')).toEqual([]);

      // The continuation completes and is stored under its own key: repeating it replays without listing.
      const continuation = { ...event, start_after: String(second.next_start_after) };
      const third = parse(await handler(continuation, lambdaContext('rest-1', 120_000)));
      expect(third).toMatchObject({ complete: true, errors: 0 });
      const listsAfterThird = observed.count('ListObjectsV2');
      const fourth = parse(await handler(continuation, lambdaContext('rest-2', 120_000)));
      expect(fourth).toMatchObject({ complete: true, count: third.count, manifest_key: third.manifest_key });
      expect(observed.count('ListObjectsV2')).toBe(listsAfterThird);

      // A run from the start is another job: it does not get the continuation's (shorter) result.
      const full = parse(await handler(event, lambdaContext('full', 120_000)));
      expect(full).toMatchObject({ complete: true, count: 12 });
      expect(full.manifest_key).not.toBe(third.manifest_key);
      expect(Number(third.count)).toBeLessThan(12);
      expect(Number(second.count) + Number(third.count)).toBe(12);
    } finally {
      await proxy.stop();
    }
  });
});
