import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { ListObjectsV2CommandInput, S3Client } from '@aws-sdk/client-s3';
import { abortError } from '../errors.js';
import type { KeyFilter } from '../sources/filters.js';
import type { KeyPage, KeySource, KeySourceContext } from '../types.js';
import { assertSendingClient, describe } from './validate.js';

/** Options of {@link s3ListSource}. */
export interface S3ListSourceOptions {
  /** The S3 client that lists (anything with the S3 client's `send`). */
  client: S3Client;
  /** The bucket to list. */
  bucket: string;
  /** The prefix to list. Default: the whole bucket. */
  prefix?: string;
  /** Keys per ListObjectsV2 page, 1..1000. Default 1000 (the most S3 returns). */
  pageSize?: number;
  /** Keeps only the keys it returns true for. */
  filter?: KeyFilter;
  /** List keys after this one (ListObjectsV2 `StartAfter`), to continue an earlier run. */
  startAfter?: string;
  /**
   * Keep "directory markers": zero-byte objects whose key ends in `/`, which consoles create for empty folders.
   * Default false: they have no content worth a URL, so they are skipped (before `filter`). A non-empty object
   * whose key ends in `/` is an ordinary object and is always kept.
   */
  includeDirectoryMarkers?: boolean;
}

/** The most keys one ListObjectsV2 page can return. */
const MAX_PAGE_SIZE = 1000;

/**
 * Lists a prefix with ListObjectsV2, one request per page, only as fast as the pipeline pulls.
 *
 * - Keys come back exactly as stored: the listing is requested without `EncodingType=url`, so nothing needs
 *   decoding (and S3-compatible stores that ignore that parameter behave the same).
 * - Each page's `cursor` is the last key *listed* on it, before filtering, so `startAfter: cursor` resumes after it.
 * - Every ListObjectsV2 response is a page, also one whose keys were all filtered out, and the single empty
 *   response of an empty prefix: pages count requests.
 * - Zero-byte keys ending in `/` (directory markers) are skipped unless `includeDirectoryMarkers` is set.
 * - The run's abort signal cancels the in-flight request. S3 errors (`NoSuchBucket`, `AccessDenied`, …) are thrown
 *   unchanged, their `name` being the S3 error code.
 *
 * Options are checked when the source is created: a TypeError or RangeError names the bad option.
 *
 * @example
 * ```ts
 * const source = s3ListSource({
 *   client: new S3Client({}),
 *   bucket: 'my-company-reports-bucket',
 *   prefix: '2026/04/',
 *   filter: suffixFilter('.pdf'),
 * });
 * ```
 */
export function s3ListSource(options: S3ListSourceOptions): KeySource {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`s3ListSource: options must be an object, got ${describe(options)}`);
  }
  const { client, bucket, prefix = '', pageSize = MAX_PAGE_SIZE, filter, startAfter, includeDirectoryMarkers = false } =
    options;
  assertSendingClient('s3ListSource', client);
  if (typeof bucket !== 'string' || bucket.length === 0) {
    throw new TypeError(`s3ListSource: bucket must be a non-empty string, got ${describe(bucket)}`);
  }
  if (typeof prefix !== 'string') {
    throw new TypeError(`s3ListSource: prefix must be a string, got ${describe(prefix)}`);
  }
  if (typeof pageSize !== 'number') {
    throw new TypeError(`s3ListSource: pageSize must be a number, got ${describe(pageSize)}`);
  }
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
    throw new RangeError(`s3ListSource: pageSize must be an integer in 1..${MAX_PAGE_SIZE}, got ${pageSize}`);
  }
  if (filter !== undefined && typeof filter !== 'function') {
    throw new TypeError(`s3ListSource: filter must be a function, got ${describe(filter)}`);
  }
  if (startAfter !== undefined && typeof startAfter !== 'string') {
    throw new TypeError(`s3ListSource: startAfter must be a string, got ${describe(startAfter)}`);
  }
  if (typeof includeDirectoryMarkers !== 'boolean') {
    throw new TypeError(
      `s3ListSource: includeDirectoryMarkers must be a boolean, got ${describe(includeDirectoryMarkers)}`,
    );
  }

  async function* pages(context: KeySourceContext): AsyncGenerator<KeyPage> {
    const signal = context?.signal;
    let continuationToken: string | undefined;
    let first = true;
    do {
      if (signal?.aborted) throw abortError(signal.reason);
      const input: ListObjectsV2CommandInput = { Bucket: bucket, Prefix: prefix, MaxKeys: pageSize };
      if (first && startAfter !== undefined && startAfter !== '') input.StartAfter = startAfter;
      if (continuationToken !== undefined) input.ContinuationToken = continuationToken;
      first = false;

      const output = await client.send(new ListObjectsV2Command(input), signal ? { abortSignal: signal } : {});
      // A response that raced the abort is dropped: the run is over.
      if (signal?.aborted) throw abortError(signal.reason);

      const keys: string[] = [];
      let cursor: string | undefined;
      for (const object of output.Contents ?? []) {
        const key = object.Key;
        if (key === undefined) continue;
        cursor = key;
        if (!includeDirectoryMarkers && key.endsWith('/') && (object.Size ?? 0) === 0) continue;
        if (filter && !filter(key)) continue;
        keys.push(key);
      }
      // Every response is a page, even an empty one (an empty prefix still costs one request).
      yield cursor === undefined ? { bucket, keys } : { bucket, keys, cursor };

      continuationToken = output.IsTruncated ? output.NextContinuationToken : undefined;
      if (output.IsTruncated && !continuationToken) {
        throw new Error(`ListObjectsV2 on bucket ${bucket} was truncated but returned no continuation token`);
      }
    } while (continuationToken !== undefined);
  }

  return {
    bucket,
    pages: (context: KeySourceContext) => pages(context),
  };
}
