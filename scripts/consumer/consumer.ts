// A consumer's code using the public API of every package, type-checked with skipLibCheck: false under node16 and
// bundler resolution. `IsAny` assertions fail the check if a type silently became `any` (a missing types package).
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  fastPresigner,
  type PipelineResult,
  PresignPipelineError,
  presignPipeline,
  s3ListSource,
  s3ManifestWriter,
  suffixFilter,
} from '@presign-pipeline/core';
import { emfReporter } from '@presign-pipeline/emf';
import {
  createBatchHandler,
  createPresignHandler,
  createSqsHandler,
  handler,
  type PresignHandler,
  type PresignResponse,
} from '@presign-pipeline/lambda';
import { dynamoDbIdempotencyStore, handler as idempotentHandler } from '@presign-pipeline/lambda/idempotency';
import { type S3Endpoint, startS3Endpoint } from '@presign-pipeline/minio-testing';
import { useS3Endpoint } from '@presign-pipeline/minio-testing/vitest';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';

type IsAny<T> = 0 extends 1 & T ? true : false;

// The consumer's own S3Client (its own, newer client-s3) is the one the packages accept.
const client = new S3Client({ region: 'eu-west-1' });
const presigner = fastPresigner({ client });

export async function presignReports(): Promise<PipelineResult> {
  return presignPipeline({
    source: s3ListSource({ client, bucket: 'reports', prefix: '2026/04/', filter: suffixFilter('.pdf') }),
    presigner,
    manifest: s3ManifestWriter({ client, bucket: 'reports', keyPrefix: 'manifests/', presigner }),
    reporters: [emfReporter({ namespace: 'Reports' })],
    expiresIn: 900,
  });
}

export const presign: PresignHandler = createPresignHandler({ s3Client: client, presigner: 'fast' });
export const jobs = createSqsHandler({ recordConcurrency: 2 });
export const batch = createBatchHandler({ presigner: 'fast' });
export const deduplicated = createPresignHandler({ idempotencyStore: dynamoDbIdempotencyStore() });

export async function invoke(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  const response: PresignResponse = await handler({ bucket: 'reports' }, context);
  const again: PresignResponse = await idempotentHandler({ bucket: 'reports' }, context);
  if (response.statusCode !== again.statusCode) throw new PresignPipelineError('INVALID_OPTION', 'differs');
  return jobs(event, context);
}

export const checks: [
  IsAny<Parameters<typeof jobs>[0]>,
  IsAny<Parameters<typeof handler>[1]>,
  IsAny<ReturnType<typeof jobs>>,
  IsAny<S3Endpoint['client']>,
] = [false, false, false, false];

export async function withEndpoint(): Promise<string> {
  const endpoint: S3Endpoint = await startS3Endpoint({ prefer: ['moto'] });
  const object = await endpoint.client.send(new GetObjectCommand({ Bucket: 'b', Key: 'k' }));
  await endpoint.stop();
  return String(object.ContentLength);
}

export const inTests: () => S3Endpoint = () => useS3Endpoint();
