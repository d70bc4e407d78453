// What both state machine tests need to play a deployed definition against the real handlers.
import type { S3Endpoint } from '@presign-pipeline/minio-testing';
import { expect } from 'vitest';
import { handler as batchHandler } from '../src/batch.js';
import { handler as indexHandler } from '../src/index-manifest.js';
import { lambdaContext, setEnv } from './invoke.js';
import { type DriverOptions, loadDefinition } from './step-functions.js';

export const BATCH_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:dmap-presign-batch';
export const INDEX_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:dmap-presign-index';

/** The definition in `file` with the template's substitutions for `bucket` and the two functions. */
export function deployedDefinition(file: string, bucket: string) {
  return loadDefinition(file, { ReportsBucketName: bucket, BatchFunctionArn: BATCH_ARN, IndexFunctionArn: INDEX_ARN });
}

/** Driver options that invoke the real batch and index handlers for the two function ARNs. */
export function handlersDriver(s3: S3Endpoint, executionName: string): DriverOptions {
  let n = 0;
  return {
    s3: s3.client,
    executionName,
    lambdas: {
      [BATCH_ARN]: (payload) => batchHandler(payload, lambdaContext(`batch-${++n}`)),
      [INDEX_ARN]: (payload) => indexHandler(payload, lambdaContext('index')),
    },
  };
}

/**
 * Points the handlers at the endpoint as template.yaml configures them (one bucket, one prefix allowed); with
 * `proxyEndpoint` they reach S3 through it and sign URLs for the endpoint itself. Returns the restore function.
 */
export function setHandlerEnv(s3: S3Endpoint, bucket: string, prefix: string, proxyEndpoint?: string): () => void {
  return setEnv({
    S3_ENDPOINT_URL: proxyEndpoint ?? s3.endpoint,
    ...(proxyEndpoint !== undefined ? { S3_PUBLIC_ENDPOINT_URL: s3.endpoint } : {}),
    AWS_REGION: s3.region,
    AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    AWS_SESSION_TOKEN: undefined,
    URL_EXPIRY_SECONDS: undefined,
    ALLOWED_BUCKETS: bucket,
    ALLOWED_PREFIXES: prefix,
  });
}

/** The body behind `url`, which must answer 200. */
export async function text(url: string): Promise<string> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return response.text();
}

/** The JSON Lines document behind `url`, parsed line by line. */
export async function jsonLines<T>(url: string): Promise<T[]> {
  return (await text(url))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as T);
}
