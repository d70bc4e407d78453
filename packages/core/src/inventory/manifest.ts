/**
 * Reads and checks an S3 Inventory `manifest.json`: which bucket it lists, the format and columns of its data files,
 * and the files themselves. Everything is checked before a single data file is opened. @internal
 */

import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { PresignPipelineError } from '../errors.js';

/** The data file formats S3 Inventory writes. */
export type InventoryFileFormat = 'CSV' | 'Parquet' | 'ORC';

/** One data file named by the manifest. @internal */
export interface InventoryDataFile {
  /** Its key in the manifest's (destination) bucket. */
  readonly key: string;
  /** Its size in bytes, as the manifest says. */
  readonly size: number;
  /** The hex MD5 of its bytes, as the manifest says. */
  readonly md5: string;
}

/** The columns the inventory source reads, by their position (CSV) or name (Parquet); absent ones are undefined. */
export interface InventoryColumns {
  readonly key: InventoryColumn;
  readonly size?: InventoryColumn;
  readonly isLatest?: InventoryColumn;
  readonly isDeleteMarker?: InventoryColumn;
  readonly lastModified?: InventoryColumn;
}

/** A column: its position in a CSV record and its name in a Parquet file. */
export interface InventoryColumn {
  readonly index: number;
  readonly name: string;
}

/** A checked manifest. @internal */
export interface InventoryManifest {
  /** The bucket whose objects the inventory lists (the keys' bucket). */
  readonly sourceBucket: string;
  /** The bucket holding the data files (the manifest's own bucket). */
  readonly dataBucket: string;
  readonly fileFormat: 'CSV' | 'Parquet';
  readonly columns: InventoryColumns;
  readonly columnCount: number;
  readonly files: readonly InventoryDataFile[];
}

/** Where a manifest is. */
export interface InventoryManifestLocation {
  /** The bucket the manifest (and its data files) are in: the inventory's destination bucket. */
  readonly bucket: string;
  /** The key of `manifest.json`. */
  readonly key: string;
}

/** The largest manifest read (a manifest lists data files of up to a few GB each; 64 MiB is tens of thousands). */
const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

/** CSV column names (`fileSchema` of a CSV inventory) and their Parquet/ORC spellings. */
const COLUMN_NAMES = {
  key: ['Key', 'key'],
  size: ['Size', 'size'],
  isLatest: ['IsLatest', 'is_latest'],
  isDeleteMarker: ['IsDeleteMarker', 'is_delete_marker'],
  lastModified: ['LastModifiedDate', 'last_modified_date'],
} as const;

function invalid(location: string, problem: string): PresignPipelineError {
  return new PresignPipelineError('INVALID_INVENTORY_MANIFEST', `S3 Inventory manifest ${location}: ${problem}`);
}

/**
 * The column names of a `fileSchema`: a comma-separated list for CSV (`Bucket, Key, Size, …`), a Parquet message
 * (`message s3.inventory { required binary bucket (UTF8); required binary key (UTF8); … }`).
 */
export function schemaColumns(fileFormat: 'CSV' | 'Parquet', fileSchema: string): string[] {
  if (fileFormat === 'CSV') return fileSchema.split(',').map((name) => name.trim());
  const body = fileSchema.slice(fileSchema.indexOf('{') + 1, fileSchema.lastIndexOf('}'));
  return body
    .split(';')
    .map((field) => field.trim())
    .filter((field) => field.length > 0)
    .map(
      (field) =>
        field
          .replace(/\s*\(.*\)\s*$/, '')
          .split(/\s+/)
          .pop() ?? '',
    );
}

function columnsOf(names: readonly string[], location: string): InventoryColumns {
  const find = (spellings: readonly string[]): InventoryColumn | undefined => {
    const index = names.findIndex((name) => spellings.includes(name));
    return index === -1 ? undefined : { index, name: names[index] as string };
  };
  const key = find(COLUMN_NAMES.key);
  if (key === undefined) throw invalid(location, `fileSchema has no Key column (columns: ${names.join(', ')})`);
  const columns: { -readonly [K in keyof InventoryColumns]: InventoryColumns[K] } = { key };
  for (const name of ['size', 'isLatest', 'isDeleteMarker', 'lastModified'] as const) {
    const column = find(COLUMN_NAMES[name]);
    if (column !== undefined) columns[name] = column;
  }
  return columns;
}

function checkFiles(files: unknown, location: string): InventoryDataFile[] {
  if (!Array.isArray(files)) throw invalid(location, 'files must be an array of {key, size, MD5checksum}');
  return files.map((file: unknown, i) => {
    const f = (typeof file === 'object' && file !== null ? file : {}) as Record<string, unknown>;
    if (typeof f.key !== 'string' || f.key === '')
      throw invalid(location, `files[${i}].key must be a non-empty string`);
    if (typeof f.size !== 'number' || !Number.isSafeInteger(f.size) || f.size < 0) {
      throw invalid(location, `files[${i}].size must be a byte count`);
    }
    if (typeof f.MD5checksum !== 'string' || !/^[0-9a-fA-F]{32}$/.test(f.MD5checksum)) {
      throw invalid(location, `files[${i}].MD5checksum must be 32 hex digits`);
    }
    return { key: f.key, size: f.size, md5: f.MD5checksum.toLowerCase() };
  });
}

/** `arn:aws:s3:::bucket` (as S3 writes `destinationBucket`) or a plain name: the bucket name. */
function bucketName(value: string): string {
  return value.startsWith('arn:') ? value.slice(value.lastIndexOf(':') + 1) : value;
}

/**
 * Checks a parsed `manifest.json`. `expectedBucket`, when given, must be its `sourceBucket`; the data files must live
 * in the manifest's own bucket (its `destinationBucket`).
 */
export function checkInventoryManifest(
  json: unknown,
  where: InventoryManifestLocation,
  expectedBucket?: string,
): InventoryManifest {
  const location = `s3://${where.bucket}/${where.key}`;
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw invalid(location, 'is not a JSON object');
  const m = json as Record<string, unknown>;
  for (const field of ['sourceBucket', 'destinationBucket', 'fileFormat', 'fileSchema'] as const) {
    if (typeof m[field] !== 'string' || m[field] === '') throw invalid(location, `${field} must be a non-empty string`);
  }
  const sourceBucket = m.sourceBucket as string;
  if (expectedBucket !== undefined && sourceBucket !== expectedBucket) {
    throw invalid(location, `lists bucket ${sourceBucket}, not ${expectedBucket}`);
  }
  const destination = bucketName(m.destinationBucket as string);
  if (destination !== where.bucket) {
    throw invalid(
      location,
      `its data files are in bucket ${destination}, but the manifest was read from ${where.bucket}`,
    );
  }
  const format = m.fileFormat as string;
  if (format === 'ORC') {
    throw new PresignPipelineError(
      'UNSUPPORTED_INVENTORY_FORMAT',
      `S3 Inventory manifest ${location}: fileFormat ORC is not supported; configure the inventory as CSV or Parquet`,
    );
  }
  if (format !== 'CSV' && format !== 'Parquet') {
    throw new PresignPipelineError(
      'UNSUPPORTED_INVENTORY_FORMAT',
      `S3 Inventory manifest ${location}: fileFormat ${JSON.stringify(format)} is not one of CSV, Parquet`,
    );
  }
  const names = schemaColumns(format, m.fileSchema as string);
  return {
    sourceBucket,
    dataBucket: where.bucket,
    fileFormat: format,
    columns: columnsOf(names, location),
    columnCount: names.length,
    files: checkFiles(m.files, location),
  };
}

/** Fetches and checks a manifest; a missing or unreadable one fails with `INVALID_INVENTORY_MANIFEST`. @internal */
export async function readInventoryManifest(
  client: S3Client,
  where: InventoryManifestLocation,
  expectedBucket: string | undefined,
  signal: AbortSignal | undefined,
): Promise<InventoryManifest> {
  const location = `s3://${where.bucket}/${where.key}`;
  let text: string;
  try {
    const output = await client.send(
      new GetObjectCommand({ Bucket: where.bucket, Key: where.key }),
      signal ? { abortSignal: signal } : {},
    );
    if (typeof output.ContentLength === 'number' && output.ContentLength > MAX_MANIFEST_BYTES) {
      throw invalid(
        location,
        `is ${output.ContentLength} bytes, more than the ${MAX_MANIFEST_BYTES} a manifest may have`,
      );
    }
    text = (await output.Body?.transformToString('utf-8')) ?? '';
  } catch (error) {
    // Only "there is no such manifest" is the caller's mistake; throttling or access errors pass on unchanged.
    if (!(error instanceof Error) || !['NoSuchKey', 'NoSuchBucket', 'NotFound'].includes(error.name)) throw error;
    throw new PresignPipelineError(
      'INVALID_INVENTORY_MANIFEST',
      `S3 Inventory manifest ${location} does not exist (${error.name})`,
      {
        cause: error,
      },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw invalid(location, 'is not valid JSON');
  }
  return checkInventoryManifest(json, where, expectedBucket);
}
