/**
 * Reads a Parquet inventory data file with hyparquet through ranged GETs (only the footer and the chunks of the
 * columns used are fetched), one row group at a time, so a large file is never held whole. A Parquet reader jumps
 * around the file, so the MD5 is checked first, in one streaming pass over the file, before any of its rows is
 * yielded. @internal
 */

import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parquetMetadataAsync, parquetReadObjects, type AsyncBuffer, type ParquetRow } from 'hyparquet';
import {
  assertChecksum,
  booleanOf,
  dataFileError,
  type DataFileRequest,
  type RowBatch,
  type RowSelector,
} from './data-file.js';
import type { InventoryColumns, InventoryDataFile } from './manifest.js';

/** Rows materialised at a time at most (a row group larger than this is read in slices). */
const ROWS_PER_READ = 16_384;

/** Codecs beyond hyparquet's built-in Snappy: S3 Inventory may write GZIP-compressed Parquet. */
const compressors = {
  GZIP: (input: Uint8Array): Uint8Array => new Uint8Array(gunzipSync(input)),
};

/** A hyparquet AsyncBuffer over an S3 object: each slice is one ranged GET. */
function s3AsyncBuffer(
  client: S3Client,
  bucket: string,
  key: string,
  byteLength: number,
  signal: AbortSignal,
): AsyncBuffer {
  return {
    byteLength,
    async slice(start: number, end: number = byteLength): Promise<ArrayBuffer> {
      if (end <= start) return new ArrayBuffer(0);
      const output = await client.send(
        new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end - 1}` }),
        { abortSignal: signal },
      );
      const bytes = (await output.Body?.transformToByteArray()) ?? new Uint8Array(0);
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
  };
}

/** Streams the whole file once through MD5 and compares with the manifest. */
async function verifyFile(
  client: S3Client,
  bucket: string,
  file: InventoryDataFile,
  signal: AbortSignal,
): Promise<void> {
  const output = await client.send(new GetObjectCommand({ Bucket: bucket, Key: file.key }), { abortSignal: signal });
  const hash = createHash('md5');
  let bytes = 0;
  for await (const chunk of output.Body as Readable) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  assertChecksum(file, bucket, hash.digest('hex'), bytes);
}

function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return value.getTime();
  return undefined;
}

/** Whether a Parquet row is selected: Parquet keys are stored as they are, not URL-encoded. */
function selects(row: ParquetRow, columns: InventoryColumns, selector: RowSelector): string | undefined {
  const key = row[columns.key.name] as unknown;
  if (typeof key !== 'string') return undefined;
  const keep = selector.accept(
    key,
    columns.size === undefined ? undefined : numberOf(row[columns.size.name]),
    columns.isLatest === undefined ? undefined : booleanOf(row[columns.isLatest.name]),
    columns.isDeleteMarker === undefined ? undefined : booleanOf(row[columns.isDeleteMarker.name]),
    columns.lastModified === undefined ? undefined : numberOf(row[columns.lastModified.name]),
  );
  return keep ? key : undefined;
}

/** Reads one Parquet data file, yielding its rows a slice of a row group at a time. */
export async function* readParquetFile(request: DataFileRequest): AsyncGenerator<RowBatch> {
  const { client, bucket, file, columns, signal, skipRows } = request;
  try {
    await verifyFile(client, bucket, file, signal);
    const buffer = s3AsyncBuffer(client, bucket, file.key, file.size, signal);
    const metadata = await parquetMetadataAsync(buffer);
    const names = Object.values(columns).map((column: { name: string }) => column.name);
    const total = Number(metadata.num_rows);
    let row = skipRows;
    while (row < total) {
      const rowEnd = Math.min(total, row + ROWS_PER_READ);
      const read = await parquetReadObjects({
        file: buffer,
        metadata,
        columns: names,
        rowStart: row,
        rowEnd,
        compressors,
      });
      const keys: string[] = [];
      for (const r of read) {
        const key = selects(r, columns, request.selector);
        if (key !== undefined) keys.push(key);
      }
      yield { keys, endRow: rowEnd };
      row = rowEnd;
    }
    if (total <= skipRows) yield { keys: [], endRow: total };
  } catch (error) {
    throw dataFileError(error, bucket, file);
  }
}
