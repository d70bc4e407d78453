// The same packages from a CommonJS module (node16 resolution picks the .d.cts types of each dual entry point).
import { S3Client } from '@aws-sdk/client-s3';
import { fastPresigner, type PipelineResult } from '@presign-pipeline/core';
import { emfReporter } from '@presign-pipeline/emf';
import { createSqsHandler } from '@presign-pipeline/lambda';
import { dynamoDbIdempotencyStore } from '@presign-pipeline/lambda/idempotency';
import { startS3Endpoint } from '@presign-pipeline/minio-testing';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

type IsAny<T> = 0 extends 1 & T ? true : false;

const presigner = fastPresigner({ client: new S3Client({ region: 'eu-west-1' }) });
const jobs = createSqsHandler({ reporters: [emfReporter({ namespace: 'Reports' })] });
const store = dynamoDbIdempotencyStore();

async function run(event: SQSEvent): Promise<SQSBatchResponse> {
  return jobs(event);
}

const checks: [IsAny<Parameters<typeof jobs>[0]>, IsAny<PipelineResult['manifest']>] = [false, false];
module.exports = { presigner, run, store, checks, startS3Endpoint };
