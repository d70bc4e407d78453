/**
 * What reading one inventory data file yields, and the checks every format shares. @internal
 */

import type { S3Client } from '@aws-sdk/client-s3';
import { PresignPipelineError } from '../errors.js';
import type { RequestSignals } from '../s3/request-signals.js';
import type { InventoryColumns, InventoryDataFile } from './manifest.js';

/**
 * Decides which rows become keys. Readers hand it the columns of each row as primitives (no object per row), and
 * compute the costly ones only when it asks for them.
 */
export interface RowSelector {
  /** Whether `lastModified` is needed (a date cut-off is set); when false, readers pass undefined. */
  readonly needsLastModified: boolean;
  /**
   * True to keep the row's key. `size` is given for keys ending in `/` (to tell directory markers), else may be
   * undefined; absent columns are undefined.
   */
  accept(
    key: string,
    size: number | undefined,
    isLatest: boolean | undefined,
    isDeleteMarker: boolean | undefined,
    lastModified: number | undefined,
  ): boolean;
}

/** Keys kept from rows read from a data file, in file order; `endRow` is the number of rows of the file read so far. */
export interface RowBatch {
  readonly keys: string[];
  readonly endRow: number;
}

/** What a format's reader gets. */
export interface DataFileRequest {
  readonly client: S3Client;
  /** The bucket holding the data files. */
  readonly bucket: string;
  readonly file: InventoryDataFile;
  readonly columns: InventoryColumns;
  readonly columnCount: number;
  /** Rows at the start of the file already presigned by an earlier run: read (and checksummed) but not yielded. */
  readonly skipRows: number;
  readonly selector: RowSelector;
  /**
   * Cancels the reader's requests with the run. Each request takes a signal of its own from it: the SDK adds an
   * `abort` listener per request in flight, so many requests on one signal would pile listeners onto it.
   */
  readonly requests: RequestSignals;
}

/** Reads one data file of a format. */
export type DataFileReader = (request: DataFileRequest) => AsyncGenerator<RowBatch>;

/** Fails a file whose bytes do not hash to the manifest's MD5checksum (or whose size differs). */
export function assertChecksum(file: InventoryDataFile, bucket: string, md5: string, bytes: number): void {
  if (bytes !== file.size) {
    throw new PresignPipelineError(
      'INVENTORY_CHECKSUM_MISMATCH',
      `S3 Inventory data file s3://${bucket}/${file.key} is ${bytes} bytes, the manifest says ${file.size}`,
    );
  }
  if (md5 !== file.md5) {
    throw new PresignPipelineError(
      'INVENTORY_CHECKSUM_MISMATCH',
      `S3 Inventory data file s3://${bucket}/${file.key} has MD5 ${md5}, the manifest says ${file.md5}`,
    );
  }
}

/** True for an S3 answer that the object (or its bucket) does not exist. */
function isMissing(error: unknown): boolean {
  return (
    error instanceof Error && (error.name === 'NoSuchKey' || error.name === 'NoSuchBucket' || error.name === 'NotFound')
  );
}

/** True for an error S3 (or the network on the way) answered: passed on unchanged, to be retried like any S3 error. */
function isServiceError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && ('$metadata' in error || '$fault' in error);
}

/**
 * Wraps a failure to parse a data file, or a data file the manifest lists but S3 does not have, naming the file.
 * Checksum and abort errors, and other S3 errors (throttling, access denied), pass unchanged.
 */
export function dataFileError(error: unknown, bucket: string, file: InventoryDataFile): unknown {
  if (error instanceof PresignPipelineError) return error;
  if (error instanceof Error && error.name === 'AbortError') return error;
  if (isServiceError(error) && !isMissing(error)) return error;
  const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new PresignPipelineError(
    'INVALID_INVENTORY_MANIFEST',
    `S3 Inventory data file s3://${bucket}/${file.key} could not be read (${what})`,
    { cause: error },
  );
}

/**
 * Whether an inventory row is one to presign: the latest version of an object, not a delete marker. `isLatest` and
 * `isDeleteMarker` are the row's `IsLatest`/`IsDeleteMarker` columns as a report holds them (booleans in Parquet,
 * `"true"`/`"false"` in CSV and in the items of a Distributed Map's inventory reader); an absent column (a report
 * without versions) or an empty field says nothing, and keeps the row. The one rule every reader of inventory rows
 * applies.
 */
export function isLiveVersion(isLatest: unknown, isDeleteMarker: unknown): boolean {
  return booleanOf(isDeleteMarker) !== true && booleanOf(isLatest) !== false;
}

/** `true`/`false` of an inventory boolean column; anything else (an empty field) is undefined. */
export function booleanOf(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return undefined;
}
