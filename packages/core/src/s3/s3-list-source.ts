import type { S3Client } from '@aws-sdk/client-s3';
import { abortError, optionRangeError, optionTypeError } from '../errors.js';
import type { KeyFilter } from '../sources/filters.js';
import type { KeyPage, KeySource, KeySourceContext } from '../types.js';
import { autoListSource } from './auto-partitioned-listing.js';
import { listPageCommand, readListAnswer } from './list-objects.js';
import type { ListingSettings, PartitionPlan } from './partitioned-listing.js';
import { compareKeys, partitionedPages, rangePartitions, selectKeys } from './partitioned-listing.js';
import type { KeyRange } from './resume-token.js';
import { decodeResumeToken } from './resume-token.js';
import { assertSendingClient } from './validate.js';
import { checkInteger, checkNonEmptyString, describeWithoutContent } from '../validate.js';

/**
 * Splits the prefix at its common prefixes: one ListObjectsV2 with `Delimiter` lists the keys directly under the
 * prefix and discovers the common prefixes (`2026/04/01/`, `2026/04/02/`, …); each common prefix is then listed in
 * full, without a delimiter, as its own partition. Pays off when the prefix holds many sub-prefixes of similar
 * size; one huge sub-prefix is still listed one page at a time.
 */
export interface S3ListDelimiterPartitions {
  /** Split at common prefixes. */
  by: 'delimiter';
  /** The character (or string) that ends a common prefix. Default `'/'`. */
  delimiter?: string;
  /** Partitions listed at once, and the most requests in flight and pages buffered, 1..256. Default 8. */
  concurrency?: number;
}

/**
 * Splits the prefix into key ranges at `boundaries`. n boundaries give n + 1 ranges: keys up to and including
 * `boundaries[0]`, keys after `boundaries[0]` up to and including `boundaries[1]`, …, keys after the last boundary.
 * A boundary is a `startAfter` point: the range above it starts *after* it (ListObjectsV2 `StartAfter` is
 * exclusive), and the range below it ends *with* it, so a key equal to a boundary is listed exactly once, by the
 * range below. Boundaries need not be existing keys. Pays off when the keys spread evenly between the boundaries.
 */
export interface S3ListRangePartitions {
  /** Split into key ranges. */
  by: 'range';
  /**
   * The split points: non-empty, each starting with `prefix`, strictly increasing in S3's order (UTF-8 bytes,
   * which is code point order).
   */
  boundaries: readonly string[];
  /** Partitions listed at once, and the most requests in flight and pages buffered, 1..256. Default 8. */
  concurrency?: number;
}

/**
 * Lists the prefix concurrently with no hint about its keys: the listing starts with one cursor, and cuts the key
 * space left into ranges at `StartAfter` points estimated from the keys it has seen (in S3's UTF-8 byte order),
 * cutting again whenever a range runs out early, so `concurrency` requests stay in flight on skewed layouts too.
 * A cut costs about one request; cuts are made only where they pay, which keeps the requests within a few percent
 * of a sequential listing's. A run cut short by its `deadline` reports a `resumeToken` to continue from.
 */
export interface S3ListAutoPartitions {
  /** Split adaptively. */
  by: 'auto';
  /** Requests in flight at most (and pages buffered), 1..256. Default 8. */
  concurrency?: number;
}

/** How {@link s3ListSource} splits the prefix to list it concurrently: by common prefixes, key ranges, or adaptively. */
export type S3ListPartitions = S3ListDelimiterPartitions | S3ListRangePartitions | S3ListAutoPartitions;

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
  /**
   * List the prefix as concurrent partitions instead of one page after another, for prefixes with many pages: each
   * ListObjectsV2 round trip (tens of milliseconds on S3) then overlaps with others. Every key is still listed
   * exactly once and each partition's keys keep their order, but pages of different partitions interleave, so the
   * whole listing is not in key order. Pages carry no `cursor`, so a run cut short by its `deadline` reports no
   * `nextStartAfter`; with `by: 'auto'` it reports a `resumeToken` instead (see {@link S3ListSourceOptions.resumeToken}).
   * `startAfter` combines only with `by: 'auto'` (the listing starts after it).
   */
  partitions?: S3ListPartitions;
  /**
   * Continue an auto-partitioned listing cut short: the `resumeToken` of the earlier run's result (same bucket and
   * prefix). The listing is then auto-partitioned (`partitions`, if given, must be `by: 'auto'`; its concurrency
   * need not match the earlier run's). A token that is malformed, of another format version, or issued for another
   * bucket or prefix throws a `PresignPipelineError` with code `INVALID_RESUME_TOKEN` when the source is created.
   * Tokens are at most 4,096 characters: the listing opens only as many ranges as a token has room for, and a cut
   * whose token would still be longer fails with `RESUME_TOKEN_TOO_LONG`.
   */
  resumeToken?: string;
}

/** The most keys one ListObjectsV2 page can return. */
const MAX_PAGE_SIZE = 1000;
/** Default partitions listed at once. */
const DEFAULT_PARTITION_CONCURRENCY = 8;
/** The most partitions listed at once (the SDK's default HTTP agent opens 50 sockets; a custom one can open more). */
const MAX_PARTITION_CONCURRENCY = 256;
const PARTITION_OPTIONS = {
  delimiter: ['by', 'delimiter', 'concurrency'],
  range: ['by', 'boundaries', 'concurrency'],
  auto: ['by', 'concurrency'],
} as const;

const OWNER = 's3ListSource';

/** Checks `partitions` (field names in errors start with `partitions.`) and turns it into a plan. */
function partitionPlan(
  partitions: unknown,
  prefix: string,
): { plan: PartitionPlan | { by: 'auto' }; concurrency: number } {
  const at = 's3ListSource: partitions';
  if (typeof partitions !== 'object' || partitions === null || Array.isArray(partitions)) {
    throw optionTypeError(
      `${at} must be an object ({ by: 'auto' }, { by: 'delimiter' } or { by: 'range', boundaries }), got ${describeWithoutContent(partitions)}`,
    );
  }
  const p = partitions as Record<string, unknown>;
  if (p.by !== 'delimiter' && p.by !== 'range' && p.by !== 'auto') {
    throw optionTypeError(`${at}.by must be 'auto', 'delimiter' or 'range', got ${describeWithoutContent(p.by)}`);
  }
  const allowed: readonly string[] = PARTITION_OPTIONS[p.by];
  for (const name of Object.keys(p)) {
    if (!allowed.includes(name)) {
      throw optionTypeError(
        `${at}.${name} is not an option of by: '${p.by}' partitions (expected ${allowed.join(', ')})`,
      );
    }
  }
  const concurrency = checkInteger(
    OWNER,
    'partitions.concurrency',
    p.concurrency ?? DEFAULT_PARTITION_CONCURRENCY,
    1,
    MAX_PARTITION_CONCURRENCY,
  );

  if (p.by === 'auto') return { plan: { by: 'auto' }, concurrency };
  if (p.by === 'delimiter') {
    const delimiter = p.delimiter ?? '/';
    if (typeof delimiter !== 'string' || delimiter.length === 0) {
      throw optionTypeError(`${at}.delimiter must be a non-empty string, got ${describeWithoutContent(delimiter)}`);
    }
    return { plan: { by: 'delimiter', prefix, delimiter }, concurrency };
  }

  const boundaries = p.boundaries;
  if (!Array.isArray(boundaries) || boundaries.length === 0) {
    throw optionTypeError(
      `${at}.boundaries must be a non-empty array of keys, got ${describeWithoutContent(boundaries)}`,
    );
  }
  boundaries.forEach((boundary: unknown, i) => {
    if (typeof boundary !== 'string' || boundary.length === 0) {
      throw optionTypeError(
        `${at}.boundaries[${i}] must be a non-empty string, got ${describeWithoutContent(boundary)}`,
      );
    }
    if (!boundary.startsWith(prefix)) {
      throw optionRangeError(`${at}.boundaries[${i}] must start with the prefix being listed`);
    }
    const previous = boundaries[i - 1] as string | undefined;
    if (previous !== undefined && compareKeys(previous, boundary) >= 0) {
      throw optionRangeError(
        `${at}.boundaries[${i}] must come after boundaries[${i - 1}] in S3's key order (strictly increasing, no duplicates)`,
      );
    }
  });
  return { plan: { by: 'range', partitions: rangePartitions(prefix, boundaries as string[]) }, concurrency };
}

/**
 * Lists a prefix with ListObjectsV2, one request per page, only as fast as the pipeline pulls.
 *
 * - Keys come back exactly as stored, carriage returns and other control characters included: every request asks
 *   for `EncodingType=url` (a plain XML listing cannot carry those characters, or changes them) and the keys are
 *   decoded when the response says they were encoded; from S3-compatible stores that ignore the parameter, keys
 *   are taken as they are. A malformed escape in an encoded listing fails it (`SOURCE_FAILED`) rather than
 *   yielding a wrong key.
 * - Each page's `cursor` is the last key *listed* on it, before filtering, so `startAfter: cursor` resumes after it.
 * - Every ListObjectsV2 response is a page, also one whose keys were all filtered out, and the single empty
 *   response of an empty prefix: pages count requests.
 * - Zero-byte keys ending in `/` (directory markers) are skipped unless `includeDirectoryMarkers` is set.
 * - The run's abort signal cancels the in-flight request. S3 errors (`NoSuchBucket`, `AccessDenied`, …) are thrown
 *   unchanged, their `name` being the S3 error code.
 *
 * - With `partitions`, the prefix is listed as concurrent partitions (see {@link S3ListPartitions}): pages arrive
 *   as partitions produce them, each from one partition with its keys in order, without a `cursor`. At most
 *   `partitions.concurrency` requests run at once and as many pages wait for the pipeline to pull them. The first
 *   failing request fails the listing at once and cancels the others; an abort cancels them all.
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
 *
 * @example Partitioned listing: one partition per day folder, eight listed at a time
 * ```ts
 * const source = s3ListSource({
 *   client: new S3Client({}),
 *   bucket: 'my-company-reports-bucket',
 *   prefix: '2026/04/',
 *   partitions: { by: 'delimiter', delimiter: '/', concurrency: 8 },
 * });
 * // or, by key ranges: (…, '2026/04/10'], ('2026/04/10', '2026/04/20'], ('2026/04/20', …)
 * const ranges = s3ListSource({
 *   client: new S3Client({}),
 *   bucket: 'my-company-reports-bucket',
 *   prefix: '2026/04/',
 *   partitions: { by: 'range', boundaries: ['2026/04/10', '2026/04/20'] },
 * });
 * ```
 */
export function s3ListSource(options: S3ListSourceOptions): KeySource {
  if (typeof options !== 'object' || options === null) {
    throw optionTypeError(`s3ListSource: options must be an object, got ${describeWithoutContent(options)}`);
  }
  const {
    client,
    bucket,
    prefix = '',
    pageSize = MAX_PAGE_SIZE,
    filter,
    startAfter,
    includeDirectoryMarkers = false,
    partitions,
  } = options;
  assertSendingClient('s3ListSource', client);
  checkNonEmptyString(OWNER, 'bucket', bucket);
  if (typeof prefix !== 'string') {
    throw optionTypeError(`s3ListSource: prefix must be a string, got ${describeWithoutContent(prefix)}`);
  }
  checkInteger(OWNER, 'pageSize', pageSize, 1, MAX_PAGE_SIZE);
  if (filter !== undefined && typeof filter !== 'function') {
    throw optionTypeError(`s3ListSource: filter must be a function, got ${describeWithoutContent(filter)}`);
  }
  if (startAfter !== undefined && typeof startAfter !== 'string') {
    throw optionTypeError(`s3ListSource: startAfter must be a string, got ${describeWithoutContent(startAfter)}`);
  }
  if (typeof includeDirectoryMarkers !== 'boolean') {
    throw optionTypeError(
      `s3ListSource: includeDirectoryMarkers must be a boolean, got ${describeWithoutContent(includeDirectoryMarkers)}`,
    );
  }
  const partitioned = partitions === undefined ? undefined : partitionPlan(partitions, prefix);
  const auto = autoPlan(partitioned, options.resumeToken, startAfter, bucket, prefix);
  if (auto !== undefined) {
    return autoListSource(
      { client, bucket, prefix, pageSize, filter, includeDirectoryMarkers },
      auto.ranges,
      auto.concurrency,
    );
  }
  if (partitioned !== undefined && startAfter !== undefined && startAfter !== '') {
    throw optionRangeError(
      's3ListSource: startAfter cannot be combined with partitions (continuing an earlier run needs sequential listing)',
    );
  }
  const settings: ListingSettings = { client, bucket, pageSize, filter, includeDirectoryMarkers };

  return {
    bucket,
    pages: (context: KeySourceContext) =>
      partitioned === undefined
        ? sequentialPages(settings, prefix, startAfter, context)
        : partitionedPages(settings, partitioned.plan as PartitionPlan, partitioned.concurrency, context?.signal),
  };
}

/** One listing from the start (or `startAfter`) to the end, page by page: every response is a page. */
async function* sequentialPages(
  settings: ListingSettings,
  prefix: string,
  startAfter: string | undefined,
  context: KeySourceContext,
): AsyncGenerator<KeyPage> {
  const signal = context?.signal;
  let continuationToken: string | undefined;
  let pageNumber = 0;
  do {
    // Each page is fetched in a call of its own: this generator's frame, suspended while the next request runs,
    // would otherwise keep the whole previous answer (every parsed object) alive through it, and V8 would move each
    // answer to its old generation.
    pageNumber++;
    const step = await sequentialPage(settings, prefix, startAfter, signal, continuationToken, pageNumber);
    continuationToken = step.continuationToken;
    yield step.page;
  } while (continuationToken !== undefined);
}

/** A page of a sequential listing and the token of the next one. */
interface SequentialStep {
  readonly page: KeyPage;
  readonly continuationToken: string | undefined;
}

/** Requests and reads page `pageNumber` of a sequential listing. */
async function sequentialPage(
  settings: ListingSettings,
  prefix: string,
  startAfter: string | undefined,
  signal: AbortSignal | undefined,
  continuationToken: string | undefined,
  pageNumber: number,
): Promise<SequentialStep> {
  const { client, bucket, pageSize } = settings;
  if (signal?.aborted) throw abortError(signal.reason);
  const { command, request } = listPageCommand({
    bucket,
    prefix,
    pageSize,
    page: pageNumber,
    continuationToken,
    startAfter: startAfter === '' ? undefined : startAfter,
  });
  const answer = await client.send(command, signal ? { abortSignal: signal } : {});
  // A response that raced the abort is dropped: the run is over.
  if (signal?.aborted) throw abortError(signal.reason);
  const output = readListAnswer(answer, request);
  const { keys, cursor } = selectKeys(output.Contents, settings);
  const next = output.IsTruncated ? output.NextContinuationToken : undefined;
  // Every response is a page, even an empty one (an empty prefix still costs one request).
  const page: KeyPage = cursor === undefined ? { bucket, keys } : { bucket, keys, cursor };
  return { page: next === undefined ? { ...page, last: true } : page, continuationToken: next };
}

/**
 * The ranges and concurrency of an auto-partitioned listing (`partitions: { by: 'auto' }` or a `resumeToken`), or
 * undefined for the other kinds. The token is read here, so a bad one fails when the source is created.
 */
function autoPlan(
  partitioned: { plan: { by: string }; concurrency: number } | undefined,
  resumeToken: unknown,
  startAfter: string | undefined,
  bucket: string,
  prefix: string,
): { ranges: KeyRange[]; concurrency: number } | undefined {
  if (resumeToken === undefined) {
    if (partitioned?.plan.by !== 'auto') return undefined;
    const after = startAfter === undefined || startAfter === '' ? undefined : startAfter;
    return { ranges: [{ after, last: undefined }], concurrency: partitioned.concurrency };
  }
  if (partitioned !== undefined && partitioned.plan.by !== 'auto') {
    throw optionRangeError(
      "s3ListSource: resumeToken continues an auto-partitioned listing: partitions must be { by: 'auto' }",
    );
  }
  if (startAfter !== undefined && startAfter !== '') {
    throw optionRangeError(
      's3ListSource: startAfter cannot be combined with resumeToken (the token says where to continue)',
    );
  }
  const ranges = decodeResumeToken(resumeToken, bucket, prefix);
  return { ranges, concurrency: partitioned?.concurrency ?? DEFAULT_PARTITION_CONCURRENCY };
}

/**
 * Checks a resume token for `s3ListSource({ bucket, prefix, resumeToken })` without listing anything, so a caller
 * can refuse a bad one before any side effect. Throws a `PresignPipelineError` with code `INVALID_RESUME_TOKEN`
 * saying what is wrong: malformed, another format version, issued for another bucket or for another prefix.
 *
 * @example
 * ```ts
 * checkS3ListResumeToken(event.resume_token, { bucket: 'reports', prefix: '2026/04/' });
 * ```
 */
export function checkS3ListResumeToken(
  token: unknown,
  where: { readonly bucket: string; readonly prefix?: string },
): void {
  decodeResumeToken(token, where.bucket, where.prefix ?? '');
}
