/**
 * Builds S3 Inventory reports the way S3 writes them, for tests: gzipped CSV data files (no header, every field
 * quoted, keys URL-encoded) and Parquet data files (written with hyparquet-writer), and the manifest.json naming
 * them with their sizes and MD5 checksums.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parquetWriteBuffer } from 'hyparquet-writer';

/** One object of an inventory. */
export interface FixtureRow {
  key: string;
  size?: number;
  isLatest?: boolean;
  isDeleteMarker?: boolean;
  lastModified?: Date;
  versionId?: string;
}

/** CSV columns of a versioned inventory with dates. */
export const FULL_CSV_SCHEMA =
  'Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag, StorageClass';
/** CSV columns of a plain inventory. */
export const PLAIN_CSV_SCHEMA = 'Bucket, Key, Size, LastModifiedDate, ETag, StorageClass';

/** How S3 Inventory URL-encodes keys in CSV: like a form field (a space becomes `+`). */
export function inventoryEncode(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+');
}

function quote(value: string): string {
  return `"${value.replace(/"/g, '""')}"`;
}

/** One CSV record in `schema`'s column order. */
function csvRecord(bucket: string, row: FixtureRow, columns: readonly string[]): string {
  const values: Record<string, string> = {
    Bucket: bucket,
    Key: inventoryEncode(row.key),
    VersionId: row.versionId ?? '',
    IsLatest: row.isLatest === undefined ? 'true' : String(row.isLatest),
    IsDeleteMarker: row.isDeleteMarker === undefined ? 'false' : String(row.isDeleteMarker),
    Size: row.isDeleteMarker === true ? '' : String(row.size ?? 100),
    LastModifiedDate: (row.lastModified ?? new Date('2026-04-01T00:00:00.000Z')).toISOString(),
    ETag: 'd41d8cd98f00b204e9800998ecf8427e',
    StorageClass: 'STANDARD',
  };
  return columns.map((column) => quote(values[column] ?? '')).join(',');
}

/** A gzipped CSV data file. */
export function csvGzipFile(bucket: string, rows: readonly FixtureRow[], schema: string = PLAIN_CSV_SCHEMA): Buffer {
  const columns = schema.split(',').map((c) => c.trim());
  return gzipSync(rows.map((row) => `${csvRecord(bucket, row, columns)}\n`).join(''));
}

/** The Parquet `fileSchema` S3 writes for these columns. */
export const PARQUET_SCHEMA =
  'message s3.inventory { required binary bucket (UTF8); required binary key (UTF8); optional binary version_id (UTF8); ' +
  'optional boolean is_latest; optional boolean is_delete_marker; optional int64 size; ' +
  'optional int64 last_modified_date (TIMESTAMP_MILLIS);}';

/** How a Parquet fixture is laid out: row group sizes, GZIP instead of Snappy, a smaller page size. */
export interface ParquetLayout {
  rowGroupSize?: number | readonly number[];
  gzip?: boolean;
  pageSize?: number;
}

/** A Parquet data file with S3's column names; keys are stored as they are. */
export function parquetFile(
  bucket: string,
  rows: readonly FixtureRow[],
  layout: number | ParquetLayout = 1000,
): Buffer {
  const {
    rowGroupSize = 1000,
    gzip = false,
    pageSize,
  } = typeof layout === 'number' ? { rowGroupSize: layout } : layout;
  const buffer = parquetWriteBuffer({
    columnData: [
      { name: 'bucket', data: rows.map(() => bucket), type: 'STRING' },
      { name: 'key', data: rows.map((r) => r.key), type: 'STRING' },
      { name: 'version_id', data: rows.map((r) => r.versionId ?? null), type: 'STRING', nullable: true },
      { name: 'is_latest', data: rows.map((r) => r.isLatest ?? true), type: 'BOOLEAN' },
      { name: 'is_delete_marker', data: rows.map((r) => r.isDeleteMarker ?? false), type: 'BOOLEAN' },
      {
        name: 'size',
        data: rows.map((r) => (r.isDeleteMarker ? null : BigInt(r.size ?? 100))),
        type: 'INT64',
        nullable: true,
      },
      {
        name: 'last_modified_date',
        data: rows.map((r) => r.lastModified ?? new Date('2026-04-01T00:00:00.000Z')),
        type: 'TIMESTAMP',
      },
    ],
    rowGroupSize: typeof rowGroupSize === 'number' ? rowGroupSize : [...rowGroupSize],
    ...(gzip ? { codec: 'GZIP' as const, compressors: { GZIP: (bytes: Uint8Array) => gzipSync(bytes) } } : {}),
    ...(pageSize === undefined ? {} : { pageSize }),
  });
  return Buffer.from(buffer);
}

/** A data file to upload and list in the manifest. */
export interface FixtureFile {
  key: string;
  body: Buffer;
  /** Overrides the manifest's checksum (to simulate a corrupt file). */
  md5?: string;
}

/** A manifest.json for `files`. */
export function manifestJson(options: {
  sourceBucket: string;
  destinationBucket: string;
  fileFormat: string;
  fileSchema: string;
  files: readonly FixtureFile[];
}): string {
  return JSON.stringify({
    sourceBucket: options.sourceBucket,
    destinationBucket: `arn:aws:s3:::${options.destinationBucket}`,
    version: '2016-11-30',
    creationTimestamp: '1775001600000',
    fileFormat: options.fileFormat,
    fileSchema: options.fileSchema,
    files: options.files.map((file) => ({
      key: file.key,
      size: file.body.length,
      MD5checksum: file.md5 ?? createHash('md5').update(file.body).digest('hex'),
    })),
  });
}

/** Uploads the data files and the manifest; returns the manifest's key. */
export async function putInventory(
  client: S3Client,
  options: {
    sourceBucket: string;
    destinationBucket: string;
    fileFormat: string;
    fileSchema: string;
    files: readonly FixtureFile[];
    manifestKey: string;
    /** Data files listed in the manifest but not uploaded. */
    skipUpload?: readonly string[];
  },
): Promise<string> {
  for (const file of options.files) {
    if (options.skipUpload?.includes(file.key)) continue;
    await client.send(new PutObjectCommand({ Bucket: options.destinationBucket, Key: file.key, Body: file.body }));
  }
  await client.send(
    new PutObjectCommand({ Bucket: options.destinationBucket, Key: options.manifestKey, Body: manifestJson(options) }),
  );
  return options.manifestKey;
}
