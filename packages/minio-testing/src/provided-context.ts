// Loads vitest's types so the augmentation below has a module to merge into (erased at runtime).
import type {} from 'vitest';
import type { ProvidedS3Endpoint } from './endpoint.js';

declare module 'vitest' {
  /** Values the globalSetup of this package hands to test workers. */
  export interface ProvidedContext {
    /** The shared S3 endpoint of the test run; read it with `inject('s3Endpoint')` or `useS3Endpoint()`. */
    s3Endpoint: ProvidedS3Endpoint;
  }
}

/** The key under which the globalSetup provides the endpoint. */
export const PROVIDED_S3_ENDPOINT_KEY = 's3Endpoint';
