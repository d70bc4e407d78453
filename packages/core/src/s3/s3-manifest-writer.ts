import type { S3Client } from '@aws-sdk/client-s3';
import type { ManifestWriter } from '../types.js';

/** Options of {@link s3ManifestWriter}. */
export interface S3ManifestWriterOptions {
  /** The S3 client that uploads. */
  client: S3Client;
  /** The bucket the manifest goes to. */
  bucket: string;
  /** Prefix of the manifest key. Default `manifests/`. */
  keyPrefix?: string;
}

/** Streams the JSONL manifest to S3 with a multipart upload. (Stub.) */
export function s3ManifestWriter(options: S3ManifestWriterOptions): ManifestWriter {
  void options;
  throw new Error('not implemented');
}
