import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

/** Static credentials for a test endpoint. They are test values, never real AWS keys. */
export interface S3Credentials {
  /** Access key id. */
  readonly accessKeyId: string;
  /** Secret access key. */
  readonly secretAccessKey: string;
}

/** The serialisable facts about an endpoint: enough to build a client in any process. */
export interface S3EndpointInfo {
  /** Base URL, e.g. `http://127.0.0.1:45123`. */
  readonly endpoint: string;
  /** Region the client signs for. */
  readonly region: string;
  /** Credentials the client signs with. */
  readonly credentials: S3Credentials;
}

/**
 * Builds an S3 client for a test endpoint: path-style addressing (local servers have no
 * bucket subdomains) and checksums only where S3 requires them (MinIO and moto differ
 * from AWS on the flexible-checksum headers newer SDKs send by default).
 * @param info where the endpoint is and how to sign for it.
 * @param overrides any client setting to change, e.g. `maxAttempts` or `requestHandler`.
 */
export function createS3Client(info: S3EndpointInfo, overrides: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client({
    endpoint: info.endpoint,
    region: info.region,
    credentials: { accessKeyId: info.credentials.accessKeyId, secretAccessKey: info.credentials.secretAccessKey },
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...overrides,
  });
}
