import type { S3Client } from '@aws-sdk/client-s3';
import type { KeyFilter } from '../sources/filters.js';
import type { KeySource } from '../types.js';

/** Options of {@link s3ListSource}. */
export interface S3ListSourceOptions {
  /** The S3 client that lists. */
  client: S3Client;
  /** The bucket to list. */
  bucket: string;
  /** The prefix to list. Default: the whole bucket. */
  prefix?: string;
  /** Keys per ListObjectsV2 page, 1..1000. Default 1000. */
  pageSize?: number;
  /** Keeps only the keys it returns true for. */
  filter?: KeyFilter;
  /** List keys after this one (ListObjectsV2 `StartAfter`), to continue an earlier run. */
  startAfter?: string;
}

/** Lists a prefix with ListObjectsV2, a page at a time. (Stub.) */
export function s3ListSource(options: S3ListSourceOptions): KeySource {
  void options;
  throw new Error('not implemented');
}
