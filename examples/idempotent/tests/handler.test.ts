import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  CreateTableCommand,
  DynamoDBClient,
  ScanCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  type AttributeDefinition,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { startMotoServer, type MotoServer } from '@presign-pipeline/minio-testing';
import { useS3Endpoint } from '@presign-pipeline/minio-testing/vitest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { captureStdout, lambdaContext, setEnv } from './invoke.js';
import { loadTemplate } from './template.js';

type Handler = typeof import('../src/handler.js').handler;

const s3 = useS3Endpoint();
const bucket = `idempotent-${randomBytes(4).toString('hex')}`;
const table = `idempotency-${randomBytes(4).toString('hex')}`;
const prefix = 'jobs/';
const pdfs = Array.from({ length: 6 }, (_, i) => `${prefix}report-${i}.pdf`);
let dynamo: DynamoDBClient;
let ownMoto: MotoServer | undefined;
let restoreEnv: () => void = () => undefined;
let handler: Handler;

/** A DynamoDB API: DYNAMODB_ENDPOINT_URL, else moto_server (which serves DynamoDB on its S3 port), else a moto of our own. */
async function dynamoEndpoint(): Promise<string> {
  if (process.env.DYNAMODB_ENDPOINT_URL) return process.env.DYNAMODB_ENDPOINT_URL;
  if (inject('s3Endpoint').kind === 'moto') return s3.endpoint;
  ownMoto = await startMotoServer();
  return ownMoto.endpoint;
}

/** Creates the table exactly as template.yaml declares it: key schema, attributes and TTL attribute. */
async function createTableFromTemplate(): Promise<void> {
  const { Resources } = loadTemplate(fileURLToPath(new URL('../template.yaml', import.meta.url)));
  const props = Resources.IdempotencyTable!.Properties as {
    KeySchema: KeySchemaElement[];
    AttributeDefinitions: AttributeDefinition[];
    TimeToLiveSpecification: { AttributeName: string; Enabled: boolean };
  };
  await dynamo.send(
    new CreateTableCommand({
      TableName: table,
      KeySchema: props.KeySchema,
      AttributeDefinitions: props.AttributeDefinitions,
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await waitUntilTableExists({ client: dynamo, maxWaitTime: 30, minDelay: 1 }, { TableName: table });
  await dynamo.send(
    new UpdateTimeToLiveCommand({ TableName: table, TimeToLiveSpecification: props.TimeToLiveSpecification }),
  );
}

async function records(): Promise<Array<Record<string, { S?: string; N?: string }>>> {
  const scan = await dynamo.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
  return (scan.Items ?? []) as Array<Record<string, { S?: string; N?: string }>>;
}

async function deleteObjects(keys: string[]): Promise<void> {
  await s3.client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }));
  const left = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  expect(left.KeyCount ?? 0).toBe(0);
}

async function manifestLines(url: string): Promise<number> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return (await response.text()).split('\n').filter((line) => line !== '').length;
}

/** When a presigned URL was signed (its X-Amz-Date), in epoch seconds. */
function signedAt(url: string): number {
  const stamp = new URL(url).searchParams.get('X-Amz-Date')!;
  const iso = stamp.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z');
  return Date.parse(iso) / 1000;
}

interface Body {
  count: number;
  errors: number;
  manifest_key: string;
  manifest_url: string;
}

beforeAll(async () => {
  await s3.createBucket(bucket);
  await s3.seed(bucket, pdfs);
  const endpoint = await dynamoEndpoint();
  dynamo = new DynamoDBClient({ endpoint, region: s3.region, credentials: s3.credentials });
  await createTableFromTemplate();
  restoreEnv = setEnv({
    S3_ENDPOINT_URL: s3.endpoint,
    DYNAMODB_ENDPOINT_URL: endpoint,
    AWS_REGION: s3.region,
    AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    AWS_SESSION_TOKEN: undefined,
    BUCKET_NAME: bucket,
    PREFIX: prefix,
    ALLOWED_BUCKETS: undefined,
    ALLOWED_PREFIXES: undefined,
    IDEMPOTENCY_TABLE: table,
  });
  // The handler reads IDEMPOTENCY_TABLE when it is created, as in Lambda at cold start.
  ({ handler } = await import('../src/handler.js'));
});

afterAll(async () => {
  restoreEnv();
  dynamo?.destroy();
  await ownMoto?.stop();
  await s3.stop();
});

describe('idempotent handler (DynamoDB records through Powertools idempotency)', () => {
  it('answers a repeated job from its record: same count without listing, a manifest URL presigned afresh', async () => {
    // Prepare: the first run lists and writes a manifest.
    const event = { prefix, expiry_seconds: 600 };
    const first = await captureStdout(() => handler(event, lambdaContext('req-first')));
    expect(first.result?.statusCode).toBe(200);
    const one = JSON.parse(first.result!.body) as Body;
    expect(one).toMatchObject({ count: pdfs.length, errors: 0 });
    const startedAt = Math.floor(Date.now() / 1000);

    // Delete every object: a run that listed again would now count 0.
    await deleteObjects(pdfs);
    // Let the clock move on, so a URL signed now differs from the first one.
    await new Promise((resolve) => setTimeout(resolve, 1100));

    // Act: the same job again (a Lambda retry, or a caller submitting it twice).
    const second = await captureStdout(() => handler(event, lambdaContext('req-second')));

    // Assess: the stored result, not a new listing.
    expect(second.result?.statusCode).toBe(200);
    const two = JSON.parse(second.result!.body) as Body;
    expect(Object.keys(two).slice(0, 4)).toEqual(['count', 'errors', 'manifest_key', 'manifest_url']);
    expect(two.count).toBe(pdfs.length);
    expect(two.manifest_key).toBe(one.manifest_key);
    const logs = second.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logs.some((line) => line.event === 'complete')).toBe(false);
    expect(logs).toContainEqual(
      expect.objectContaining({ event: 'idempotent_replay', request_id: 'req-second', count: pdfs.length }),
    );

    // The manifest URL is signed again, for no longer than the URLs inside the manifest still live.
    expect(two.manifest_url).not.toBe(one.manifest_url);
    const expires = Number(new URL(two.manifest_url).searchParams.get('X-Amz-Expires'));
    expect(expires).toBeLessThan(600);
    expect(expires).toBeGreaterThan(600 - 60);
    expect(await manifestLines(two.manifest_url)).toBe(pdfs.length);

    // One record, completed, that DynamoDB deletes before the first run's URLs die (600 s, less a 60 s margin).
    const stored = await records();
    expect(stored).toHaveLength(1);
    expect(stored[0]!.status?.S).toBe('COMPLETED');
    const expiration = Number(stored[0]!.expiration?.N);
    const urlsDieAt = signedAt(one.manifest_url) + 600;
    expect(expiration).toBeLessThan(urlsDieAt);
    expect(expiration).toBeGreaterThan(startedAt + 600 - 60 - 10);
  });

  it('treats another expiry_seconds as another job', async () => {
    // The objects are gone since the first test: a fresh run finds nothing.
    const run = await captureStdout(() => handler({ prefix, expiry_seconds: 300 }, lambdaContext()));
    expect(run.result?.statusCode).toBe(200);
    expect(JSON.parse(run.result!.body)).toMatchObject({ count: 0, errors: 0 });
  });

  it('does not store a failed run: the retry runs again and succeeds', async () => {
    // Prepare: a bucket that does not exist yet.
    const late = `idempotent-late-${randomBytes(4).toString('hex')}`;
    const event = { bucket: late, prefix, expiry_seconds: 900 };

    // Act 1: the run fails on S3.
    const failed = await captureStdout(() => handler(event, lambdaContext()));
    expect(failed.error?.name).toBe('NoSuchBucket');

    // Act 2: the bucket appears; the retry of the same job runs instead of replaying a failure.
    await s3.createBucket(late);
    await s3.seed(late, [`${prefix}a.pdf`, `${prefix}b.pdf`]);
    const retried = await captureStdout(() => handler(event, lambdaContext()));

    // Assess
    expect(retried.result?.statusCode).toBe(200);
    expect(JSON.parse(retried.result!.body)).toMatchObject({ count: 2, errors: 0 });
  });
});
