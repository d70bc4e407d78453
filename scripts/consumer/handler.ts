// The handler a consumer deploys: its own S3Client (from its own client-s3) passed to the documented handler.
import { S3Client } from '@aws-sdk/client-s3';
import { createPresignHandler } from '@presign-pipeline/lambda';

const s3Client = new S3Client({ endpoint: process.env.S3_ENDPOINT_URL || undefined, forcePathStyle: true });

export const handler = createPresignHandler({ s3Client });
