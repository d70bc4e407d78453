import { randomBytes } from 'node:crypto';
import { GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';

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
