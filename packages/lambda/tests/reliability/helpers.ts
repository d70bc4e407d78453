import { randomBytes } from 'node:crypto';
import { GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { type FaultProxy, type FaultRule, type S3Endpoint, startFaultProxy } from '@presign-pipeline/minio-testing';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll } from 'vitest';
import { createPresignHandler, type PresignHandlerOptions } from '../../src/handler.js';
import { lineSink } from '../helpers/capture.js';

/** A bucket name no other test file uses. */
export function uniqueBucket(label: string): string {
  return `rel-${label}-${randomBytes(4).toString('hex')}`;
}

/** A Lambda-like context: a request id and plenty of time left. */
export function lambdaContext(requestId: string): Context {
  return {
    awsRequestId: requestId,
    functionName: 'sign_pdfs_optimized',
    getRemainingTimeInMillis: () => 600_000,
  } as unknown as Context;
}

/** `count` PDF keys under `prefix`. */
export function pdfKeys(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}doc-${String(i).padStart(4, '0')}.pdf`);
}

/** Reads an object as text. */
export async function readText(client: S3Client, bucket: string, key: string): Promise<string> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await out.Body?.transformToString('utf8')) ?? '';
}

/** Object keys under a prefix (one page). */
export async function objectsUnder(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const out = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key ?? '');
}

/** Multipart uploads in progress in a bucket. */
export async function uploadsIn(client: S3Client, bucket: string): Promise<number> {
  const out = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  return out.Uploads?.length ?? 0;
}

/** What a promise rejected with (fails if it resolved), within `ms`. */
export async function rejection(promise: Promise<unknown>, ms = 60_000): Promise<Error & Record<string, unknown>> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        () => {
          throw new Error('expected a rejection');
        },
        (error: unknown) => error as Error & Record<string, unknown>,
      ),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Settles `promise` within `ms` or fails. */
export async function within<T>(promise: Promise<T>, ms = 60_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Temporary session credentials that expire `inMs` from now, as STS or a role would hand out. */
export function sessionCredentials(inMs: number) {
  return {
    accessKeyId: 'ASIAQRELIABILITY0001',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYRELIABILITY',
    sessionToken: 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQRELIABILITYSESSIONTOKEN',
    expiration: new Date(Date.now() + inMs),
  };
}

/**
 * Seeds `keys` into `bucket` and starts a fault proxy (no rules) in front of the endpoint before the file's tests;
 * stops both after them. Call it at the top of a test file; `proxy` is there once the tests run.
 */
export function useSeededProxy(
  endpoint: S3Endpoint,
  bucket: string,
  keys: readonly string[],
): { readonly proxy: FaultProxy } {
  let proxy: FaultProxy | undefined;
  beforeAll(async () => {
    await endpoint.createBucket(bucket);
    await endpoint.seed(bucket, [...keys]);
    proxy = await startFaultProxy({ target: endpoint });
  }, 60_000);
  afterAll(async () => {
    await proxy?.stop();
    await endpoint.stop();
  });
  return {
    get proxy(): FaultProxy {
      if (proxy === undefined) throw new Error('the fault proxy starts in beforeAll: use it inside a test');
      return proxy;
    },
  };
}

/**
 * A handler (no idempotency, the fast presigner unless `options` say otherwise) whose clients reach S3 through
 * `proxy`, with `rules` in force and the proxy's hit counts reset from now on; its output goes to `sink`.
 */
export function proxiedHandler(
  endpoint: S3Endpoint,
  proxy: FaultProxy,
  rules: readonly FaultRule[],
  options: PresignHandlerOptions = {},
) {
  proxy.setRules(rules);
  proxy.resetHits();
  const sink = lineSink();
  const handler = createPresignHandler({
    write: sink.write,
    idempotency: false,
    presigner: 'fast',
    ...options,
    clientConfig: { region: endpoint.region, credentials: endpoint.credentials, ...options.clientConfig },
    env: { S3_ENDPOINT_URL: proxy.endpoint, AWS_REGION: endpoint.region },
  });
  return { handler, sink };
}
