import type { S3Client } from '@aws-sdk/client-s3';
import { abortError, optionRangeError, optionTypeError, PresignPipelineError } from '../errors.js';
import { RequestSignals } from '../s3/request-signals.js';
import { assertSendingClient } from '../s3/validate.js';
import { describeWithoutContent } from '../validate.js';
import type { KeyFilter } from '../sources/filters.js';
import type { KeyPage, KeySource, KeySourceContext } from '../types.js';
import { readCsvGzipFile } from './csv-file.js';
import { type DataFileReader, isLiveVersion, type RowSelector } from './data-file.js';
import { type InventoryManifest, type InventoryManifestLocation, readInventoryManifest } from './manifest.js';
import { orderedFileBatches } from './ordered-files.js';
import { readParquetFile } from './parquet-file.js';
import { encodeInventoryToken, type InventoryPosition, resumePosition } from './resume-token.js';

/** Options of {@link s3InventorySource}. */
export interface S3InventorySourceOptions {
  /** The S3 client that reads the manifest and its data files (anything with the S3 client's `send`). */
  client: S3Client;
  /** Where the inventory's `manifest.json` is: its bucket (the inventory's destination bucket) and key. */
  manifest: InventoryManifestLocation;
  /**
   * The bucket the inventory must list (its `sourceBucket`). When given, a manifest of another bucket fails with
   * `INVALID_INVENTORY_MANIFEST` before any key is yielded. Default: whatever bucket the manifest lists.
   */
  bucket?: string;
  /** Keep only keys starting with this. Default: every key. */
  prefix?: string;
  /** Keeps only the keys it returns true for (after the prefix, version and date checks). */
  filter?: KeyFilter;
  /** Data files read at once, 1..64. Default 4. Pages still come in file order. */
  concurrency?: number;
  /**
   * Keep only objects last modified at or after this time (the `LastModifiedDate` column, which the inventory
   * must include, else the first read fails with `INVALID_INVENTORY_MANIFEST`).
   */
  modifiedAfter?: Date;
  /** Keep only objects last modified before this time (the `LastModifiedDate` column; see `modifiedAfter`). */
  modifiedBefore?: Date;
  /** Keep zero-byte keys ending in `/` (directory markers). Default false, like {@link s3ListSource}. */
  includeDirectoryMarkers?: boolean;
  /**
   * Continue an earlier run: the `nextStartAfter` it returned (a token starting with `inv1.`). A token of another
   * inventory fails with `INVALID_RESUME_TOKEN`.
   */
  resumeToken?: string;
}

const DEFAULT_CONCURRENCY = 4;
const MAX_CONCURRENCY = 64;
const READERS: Readonly<Record<InventoryManifest['fileFormat'], DataFileReader>> = {
  CSV: readCsvGzipFile,
  Parquet: readParquetFile,
};

interface Selection {
  readonly prefix: string;
  readonly filter: KeyFilter | undefined;
  readonly after: number | undefined;
  readonly before: number | undefined;
  readonly includeDirectoryMarkers: boolean;
}

/** Selects the latest version of live objects under the prefix, within the date range, that the filter keeps. */
function rowSelector(s: Selection): RowSelector {
  return {
    needsLastModified: s.after !== undefined || s.before !== undefined,
    accept(key, size, isLatest, isDeleteMarker, lastModified): boolean {
      if (!isLiveVersion(isLatest, isDeleteMarker)) return false;
      if (!key.startsWith(s.prefix)) return false;
      if (!s.includeDirectoryMarkers && key.endsWith('/') && (size === 0 || size === undefined)) return false;
      if (s.after !== undefined && !(lastModified !== undefined && lastModified >= s.after)) return false;
      if (s.before !== undefined && !(lastModified !== undefined && lastModified < s.before)) return false;
      return s.filter === undefined || s.filter(key);
    },
  };
}

function checkDate(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw optionTypeError(`s3InventorySource: ${name} must be a valid Date, got ${describeWithoutContent(value)}`);
  }
  return value.getTime();
}

function checkOptions(options: S3InventorySourceOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw optionTypeError(`s3InventorySource: options must be an object, got ${describeWithoutContent(options)}`);
  }
  assertSendingClient('s3InventorySource', options.client);
  const m = options.manifest as unknown as Record<string, unknown> | undefined;
  if (typeof m !== 'object' || m === null)
    throw optionTypeError(`s3InventorySource: manifest must be { bucket, key }, got ${describeWithoutContent(m)}`);
  for (const field of ['bucket', 'key'] as const) {
    if (typeof m[field] !== 'string' || m[field] === '') {
      throw optionTypeError(
        `s3InventorySource: manifest.${field} must be a non-empty string, got ${describeWithoutContent(m[field])}`,
      );
    }
  }
  for (const field of ['bucket', 'prefix', 'resumeToken'] as const) {
    if (options[field] !== undefined && typeof options[field] !== 'string') {
      throw optionTypeError(
        `s3InventorySource: ${field} must be a string, got ${describeWithoutContent(options[field])}`,
      );
    }
  }
  if (options.bucket === '')
    throw optionTypeError('s3InventorySource: bucket must be a non-empty string, got an empty string');
  if (options.filter !== undefined && typeof options.filter !== 'function') {
    throw optionTypeError(
      `s3InventorySource: filter must be a function, got ${describeWithoutContent(options.filter)}`,
    );
  }
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (
    typeof concurrency !== 'number' ||
    !Number.isInteger(concurrency) ||
    concurrency < 1 ||
    concurrency > MAX_CONCURRENCY
  ) {
    throw optionRangeError(
      `s3InventorySource: concurrency must be an integer in 1..${MAX_CONCURRENCY}, got ${describeWithoutContent(concurrency)}`,
    );
  }
  if (options.includeDirectoryMarkers !== undefined && typeof options.includeDirectoryMarkers !== 'boolean') {
    throw optionTypeError(
      `s3InventorySource: includeDirectoryMarkers must be a boolean, got ${describeWithoutContent(options.includeDirectoryMarkers)}`,
    );
  }
}

/** Fails a date cut-off on an inventory without the column it needs. */
function assertDateColumn(manifest: InventoryManifest, selection: Selection, location: string): void {
  if (
    (selection.after !== undefined || selection.before !== undefined) &&
    manifest.columns.lastModified === undefined
  ) {
    throw new PresignPipelineError(
      'INVALID_INVENTORY_MANIFEST',
      `S3 Inventory manifest ${location}: modifiedAfter/modifiedBefore need the LastModifiedDate column, which this inventory does not include`,
    );
  }
}

/**
 * The pages of the data files from `start` on, read `concurrency` files ahead in file order; each page's cursor is
 * the resume token of its last row. Reads ahead are cancelled with the run, and when the run stops pulling.
 */
async function* filePages(
  client: S3Client,
  manifest: InventoryManifest,
  start: InventoryPosition,
  concurrency: number,
  selection: Selection,
  signal: AbortSignal | undefined,
): AsyncGenerator<KeyPage> {
  // Reads of files ahead are cancelled with the run, and when the run stops pulling (its deadline).
  const reads = new RequestSignals();
  const cancel = (): void => reads.abort(signal?.reason);
  signal?.addEventListener('abort', cancel, { once: true });
  const read = READERS[manifest.fileFormat];
  const selector = rowSelector(selection);
  const open = (file: number) =>
    read({
      client,
      bucket: manifest.dataBucket,
      file: manifest.files[file] as (typeof manifest.files)[number],
      columns: manifest.columns,
      columnCount: manifest.columnCount,
      skipRows: file === start.file ? start.row : 0,
      selector,
      requests: reads,
    });
  try {
    for await (const { file, batch, first } of orderedFileBatches(
      start.file,
      manifest.files.length,
      concurrency,
      open,
    )) {
      if (signal?.aborted) throw abortError(signal.reason);
      const md5 = (manifest.files[file] as { md5: string }).md5;
      const page: KeyPage = {
        bucket: manifest.sourceBucket,
        keys: batch.keys,
        cursor: encodeInventoryToken({ file, row: batch.endRow }, md5),
        ...(first ? {} : { continues: true }),
      };
      yield page;
    }
  } finally {
    signal?.removeEventListener('abort', cancel);
    reads.abort();
  }
}

/**
 * Reads the keys to presign from an S3 Inventory report instead of listing the bucket: for buckets of hundreds of
 * millions of objects, where listing costs one request per 1,000 keys.
 *
 * - **The manifest is checked first**, before any key is yielded: its `sourceBucket` (against `bucket`), that its data
 *   files are in the manifest's bucket, its `fileFormat` (CSV or Parquet; ORC fails with
 *   `UNSUPPORTED_INVENTORY_FORMAT`) and its `fileSchema` (which must have a `Key` column). A problem fails with
 *   `INVALID_INVENTORY_MANIFEST` naming it.
 * - **Data files** are read `concurrency` at a time, their pages handed over in file order. CSV files (gzipped, no
 *   header, columns in `fileSchema` order, keys URL-encoded) are streamed and parsed as they arrive; a row with more
 *   or fewer fields than `fileSchema` has columns fails with `INVALID_INVENTORY_MANIFEST` naming the file and the
 *   record, as a corrupt file does (below). Parquet files are
 *   read a slice of a row group at a time through ranged GETs. Memory stays flat.
 * - **Checksums**: each data file's MD5 is compared with the manifest's `MD5checksum` (`INVENTORY_CHECKSUM_MISMATCH`).
 *   A CSV file is hashed while it streams, so its mismatch is found after its keys went into the run; the run then
 *   fails, and the pipeline aborts the manifest writer, which leaves no manifest behind: no URL of a corrupt
 *   inventory is ever published. A Parquet file is hashed in a first pass, before its rows are read. A missing data
 *   file fails the same way, when it is reached.
 * - **Versions**: with `IsLatest`/`IsDeleteMarker` columns (versioned inventories), only the latest version of each
 *   object that is not a delete marker is yielded: a presigned GET without a version id fetches exactly that.
 * - **Freshness**: an inventory describes the bucket as it was when the report was made (up to a day or a week ago):
 *   objects deleted since get URLs that answer 404, objects created since are missing. `modifiedAfter` and
 *   `modifiedBefore` narrow the keys by `LastModifiedDate`.
 * - **Pages** hold the rows of one data file that arrived together (about a thousand); every page but the first of a
 *   file sets `continues`, so a run's `pages` counts the data files read. Each page's `cursor` is a resume token
 *   (`inv1.…`, under 100 bytes) that `resumeToken` takes to continue after it.
 *
 * @example
 * ```ts
 * const source = s3InventorySource({
 *   client: new S3Client({}),
 *   manifest: { bucket: 'my-inventory-bucket', key: 'reports/my-bucket/daily/2026-04-01T01-00Z/manifest.json' },
 *   bucket: 'my-bucket',
 *   prefix: '2026/04/',
 *   filter: suffixFilter('.pdf'),
 * });
 * ```
 */
export function s3InventorySource(options: S3InventorySourceOptions): KeySource {
  checkOptions(options);
  const { client, bucket: expectedBucket, resumeToken } = options;
  const where: InventoryManifestLocation = { bucket: options.manifest.bucket, key: options.manifest.key };
  const location = `s3://${where.bucket}/${where.key}`;
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const selection: Selection = {
    prefix: options.prefix ?? '',
    filter: options.filter,
    after: checkDate('modifiedAfter', options.modifiedAfter),
    before: checkDate('modifiedBefore', options.modifiedBefore),
    includeDirectoryMarkers: options.includeDirectoryMarkers ?? false,
  };
  let sourceBucket: string | undefined;

  async function* pages(context: KeySourceContext): AsyncGenerator<KeyPage> {
    const signal = context?.signal;
    const manifest = await readInventoryManifest(client, where, expectedBucket, signal);
    sourceBucket = manifest.sourceBucket;
    assertDateColumn(manifest, selection, location);
    const start: InventoryPosition = resumeToken ? resumePosition(resumeToken, manifest) : { file: 0, row: 0 };
    if (manifest.files.length === 0 || start.file >= manifest.files.length) {
      yield { bucket: manifest.sourceBucket, keys: [], last: true };
      return;
    }
    yield* filePages(client, manifest, start, concurrency, selection, signal);
  }

  return {
    get bucket(): string {
      return sourceBucket ?? expectedBucket ?? where.bucket;
    },
    pages,
  };
}
