import { randomBytes } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import {
  type FaultProxy,
  type S3Endpoint,
  type S3EndpointInfo,
  startFaultProxy,
} from '@presign-pipeline/minio-testing';
import type { Context } from 'aws-lambda';
import { expect } from 'vitest';
import { createPresignHandler, type PresignHandler, type PresignHandlerOptions } from '../../src/handler.js';
import { lineSink } from './capture.js';
import { type InjectedFailures, countCall } from './s3-clients.js';

/** A bucket name no other test file uses. */
export function uniqueBucket(label: string): string {
  return `lambda-${label}-${randomBytes(4).toString('hex')}`;
}

/** A Lambda-like context with a fixed request id. */
export function lambdaContext(requestId: string, remainingMs = 120_000): Context {
  return {
    awsRequestId: requestId,
    functionName: 'sign_pdfs_optimized',
    getRemainingTimeInMillis: () => remainingMs,
  } as unknown as Context;
}

/** The body every seeded object gets, so a URL's download can be checked against its key. */
export function bodyOf(key: string): string {
  return `%PDF-1.4 body of ${key}\n`;
}

/**
 * Seeds `prefix` with `pdfs` PDF objects (some with an upper-case `.PDF` suffix and awkward characters), `others`
 * objects with other suffixes, and two PDFs outside the prefix. Returns the keys the handler must keep.
 */
export async function seedReports(
  endpoint: S3Endpoint,
  bucket: string,
  prefix: string,
  pdfs: number,
  others = 3,
): Promise<string[]> {
  await endpoint.createBucket(bucket);
  const kept: string[] = [];
  const entries: Array<{ key: string; body: string }> = [];
  for (let i = 0; i < pdfs; i++) {
    const name =
      i % 7 === 3
        ? `Quarterly report ${i} (final).PDF`
        : i % 11 === 5
          ? `déjà vu+${i}#%.pdf`
          : `report-${String(i).padStart(4, '0')}.pdf`;
    const key = `${prefix}${name}`;
    kept.push(key);
    entries.push({ key, body: bodyOf(key) });
  }
  for (let i = 0; i < others; i++) entries.push({ key: `${prefix}notes-${i}.txt`, body: 'not a pdf' });
  entries.push(
    { key: `elsewhere/outside-1.pdf`, body: 'outside' },
    { key: `${prefix.slice(0, -1)}-sibling/outside-2.pdf`, body: 'outside' },
  );
  await endpoint.seed(bucket, entries);
  return kept.sort();
}

/** Options that point a handler at the test endpoint and collect its output. */
export function handlerOn(
  endpoint: S3Endpoint,
  options: PresignHandlerOptions & { env?: Record<string, string | undefined> } = {},
) {
  const sink = lineSink();
  const clientConfig: S3ClientConfig = { region: endpoint.region, credentials: endpoint.credentials, maxAttempts: 2 };
  const handler = createPresignHandler({
    write: sink.write,
    clientConfig,
    ...options,
    env: { S3_ENDPOINT_URL: endpoint.endpoint, AWS_REGION: endpoint.region, ...options.env },
  });
  return { handler, sink };
}

/** Reads an object as text. */
export async function readText(client: S3Client, bucket: string, key: string): Promise<string> {
  const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await response.Body?.transformToString('utf8')) ?? '';
}

/** Every key under a prefix. */
export async function listKeys(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return keys;
}

/**
 * A real S3 client for the endpoint whose commands are counted by name (a pass-through middleware), and which can be
 * told to fail the n-th call of an operation with a named S3 error, the way S3 itself would answer.
 */
export function observedClient(endpoint: S3EndpointInfo, failures: InjectedFailures = {}) {
  const counts: Record<string, number> = {};
  const client = new S3Client({
    endpoint: endpoint.endpoint,
    region: endpoint.region,
    credentials: endpoint.credentials,
    forcePathStyle: true,
    maxAttempts: 1,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String(context.commandName).replace(/Command$/, '');
      countCall(counts, name, failures);
      return next(args);
    },
    { step: 'initialize', name: 'observeCommands' },
  );
  return { client, counts, count: (name: string) => counts[name] ?? 0 };
}

/**
 * A handler whose S3 calls go through `proxy` (each command counted by `observed`) while its URLs are signed for the
 * endpoint itself, as when a proxy stands between a function and S3; `options` add the rest (output, env, …).
 */
export function handlerThrough(endpoint: S3EndpointInfo, proxy: { endpoint: string }, options: PresignHandlerOptions) {
  const observed = observedClient({
    endpoint: proxy.endpoint,
    region: endpoint.region,
    credentials: endpoint.credentials,
  });
  const handler = createPresignHandler({ s3Client: observed.client, publicEndpoint: endpoint.endpoint, ...options });
  return { handler, observed };
}

/**
 * Creates `bucket` with an object per key (`concurrency` at a time) and starts a proxy in front of the endpoint that
 * holds every ListObjectsV2 back `delayMs`, as real S3 pages take their time.
 */
export async function seedBehindSlowListing(
  endpoint: S3Endpoint,
  bucket: string,
  keys: readonly string[],
  { concurrency, delayMs }: { concurrency: number; delayMs: number },
): Promise<FaultProxy> {
  await endpoint.createBucket(bucket);
  await endpoint.seed(
    bucket,
    keys.map((key) => ({ key, body: 'x' })),
    { concurrency },
  );
  return startFaultProxy({ target: endpoint, rules: [{ fault: 'delay', operation: 'ListObjectsV2', delayMs }] });
}

/** The keys of a JSON Lines manifest, in the order of its lines. */
export async function manifestKeys(client: S3Client, bucket: string, manifestKey: string): Promise<string[]> {
  const text = await readText(client, bucket, manifestKey);
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => (JSON.parse(line) as { key: string }).key);
}

/**
 * The keys of the manifests a chain of invocations wrote, in order, after checking that each manifest holds as many
 * keys as its answer counted.
 */
export async function chainManifestKeys(
  client: S3Client,
  bucket: string,
  bodies: readonly Record<string, unknown>[],
): Promise<string[]> {
  const union: string[] = [];
  for (const body of bodies) {
    const keys = await manifestKeys(client, bucket, String(body.manifest_key));
    expect(keys).toHaveLength(Number(body.count));
    union.push(...keys);
  }
  return union;
}

/** How a chain of invocations hands its cursor on, and what it checks on the way. */
export interface ChainOptions {
  /** The body field a cut run answers its cursor in, and the event field the next run is given it in. */
  readonly cursor: { readonly from: string; readonly to: string };
  /** The context of the n-th run (from 1). */
  readonly context: (run: number) => Context;
  /** Runs after which the chain fails as not completing. */
  readonly maxRuns: number;
  /** Checks of each answer that is not complete, given the cursor its run started from. */
  readonly onCut?: (body: Record<string, unknown>, given: string | undefined) => void;
}

/**
 * Invokes `handler` with `event`, then again with each cursor a cut run hands back, until a run answers complete;
 * every answer must be a 200. Returns the bodies in order.
 */
export async function invokeChain(
  handler: PresignHandler,
  event: Record<string, unknown>,
  options: ChainOptions,
): Promise<Array<Record<string, unknown>>> {
  const bodies: Array<Record<string, unknown>> = [];
  let cursor: string | undefined;
  for (let run = 1; ; run++) {
    const response = await handler(
      { ...event, ...(cursor !== undefined ? { [options.cursor.to]: cursor } : {}) },
      options.context(run),
    );
    expect(response.statusCode).toBe(200);
    const body = JSON.parse(response.body) as Record<string, unknown>;
    bodies.push(body);
    if (body.complete === true) return bodies;
    options.onCut?.(body, cursor);
    cursor = String(body[options.cursor.from]);
    if (run > options.maxRuns) throw new Error(`the chain did not complete within ${options.maxRuns} invocations`);
  }
}
