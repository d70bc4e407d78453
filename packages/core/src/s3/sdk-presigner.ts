import type { S3Client } from '@aws-sdk/client-s3';
import type { Presigner } from '../types.js';

/** Options of {@link sdkPresigner}. */
export interface SdkPresignerOptions {
  /** The S3 client whose region, endpoint and credentials sign the URLs. */
  client: S3Client;
  /** Signs as of this time instead of now (reproducible URLs in tests). */
  signingDate?: Date;
}

/** Presigns with the AWS SDK's own presigner. (Stub.) */
export function sdkPresigner(options: SdkPresignerOptions): Presigner {
  void options;
  throw new Error('not implemented');
}
