/**
 * Test-side helpers for vitest: read the endpoint the globalSetup started.
 * @module
 */
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { inject } from 'vitest';
import { connectS3Endpoint, type ProvidedS3Endpoint, type S3Endpoint } from './endpoint.js';
import { PROVIDED_S3_ENDPOINT_KEY } from './provided-context.js';

/**
 * A handle (client, `createBucket`, `seed`) on the endpoint that
 * `@presign-pipeline/minio-testing/global-setup` started for this run. Its `stop()`
 * destroys only the client.
 * @param clientOverrides settings merged into the client, e.g. `{ maxAttempts: 1 }`.
 * @throws TypeError when the globalSetup is not configured.
 */
export function useS3Endpoint(clientOverrides?: Partial<S3ClientConfig>): S3Endpoint {
  const provided = inject(PROVIDED_S3_ENDPOINT_KEY) as ProvidedS3Endpoint | undefined;
  if (!provided) {
    throw new TypeError(
      "useS3Endpoint: no S3 endpoint was provided; add globalSetup: ['@presign-pipeline/minio-testing/global-setup'] to the vitest config",
    );
  }
  return connectS3Endpoint(provided, clientOverrides);
}

export type { ProvidedS3Endpoint, S3Endpoint };
