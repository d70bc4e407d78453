import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client, type S3EndpointInfo } from '@presign-pipeline/minio-testing';

/** A client of the endpoint as users create one: the SDK's default (WHEN_SUPPORTED) checksum settings. */
export function userClient(endpoint: S3EndpointInfo): S3Client {
  return createS3Client(endpoint, {
    requestChecksumCalculation: 'WHEN_SUPPORTED',
    responseChecksumValidation: 'WHEN_SUPPORTED',
  });
}
