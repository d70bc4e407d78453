/**
 * Reads a Parquet inventory data file with hyparquet through ranged GETs (only the footer and the chunks of the
 * columns used are fetched), one row group at a time, so a large file is never held whole. A Parquet reader jumps
 * around the file, so the MD5 is checked first, in one streaming pass over the file, before any of its rows is
 * yielded.
 *
 * hyparquet decodes every page (its column reader: dictionary, RLE and delta encodings, Snappy, the converted and
 * logical types); this file only picks the column chunks to fetch. It calls the column reader directly rather than
 * `parquetReadObjects`, whose query planner (row filters, bloom filters, page indexes, GeoParquet and variant
 * reassembly of nested columns) an inventory's flat columns never use and which is a third of hyparquet's size in a
 * Lambda bundle. @internal
 */

import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  type AsyncBuffer,
  type ColumnChunk,
  type FileMetaData,
  parquetMetadataAsync,
  parquetSchema,
  type SchemaTree,
} from 'hyparquet';
import { readColumn } from 'hyparquet/src/column.js';
import { DEFAULT_PARSERS } from 'hyparquet/src/convert.js';
import {
  assertChecksum,
  booleanOf,
  dataFileError,
  type DataFileRequest,
  type RowBatch,
  type RowSelector,
} from './data-file.js';
import type { InventoryColumns, InventoryDataFile } from './manifest.js';

/** Rows decoded at a time at most (a row group larger than this is read in slices). */
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

/** The inventory columns a read decodes, by role; the last modified date only when the selector asks for it. */
type Role = 'key' | 'size' | 'isLatest' | 'isDeleteMarker' | 'lastModified';

function rolesToRead(columns: InventoryColumns, selector: RowSelector): Role[] {
  const roles: Role[] = ['key'];
  for (const role of ['size', 'isLatest', 'isDeleteMarker'] as const) {
    if (columns[role] !== undefined) roles.push(role);
  }
  if (columns.lastModified !== undefined && selector.needsLastModified) roles.push('lastModified');
  return roles;
}

/** One row group's column chunks, fetched (one ranged GET each) for the columns read. */
interface FetchedGroup {
  readonly index: number;
  readonly start: number;
  readonly rows: number;
  readonly chunks: Map<Role, { readonly chunk: ColumnChunk; readonly bytes: ArrayBuffer }>;
}

/** The top-level schema column named `name`, as the schema path the column reader wants. */
function schemaPathOf(schema: SchemaTree, name: string): SchemaTree[] {
  const column = schema.children.find((child) => child.element.name === name);
  if (column === undefined) throw new Error(`parquet column not found: ${name}`);
  return [schema, column];
}

async function fetchGroup(
  buffer: AsyncBuffer,
  metadata: FileMetaData,
  index: number,
  start: number,
  columns: InventoryColumns,
  roles: readonly Role[],
): Promise<FetchedGroup> {
  const group = metadata.row_groups[index];
  if (group === undefined) throw new Error(`parquet row group ${index} is missing`);
  const fetched = await Promise.all(
    roles.map(async (role) => {
      const name = (columns[role] as { name: string }).name;
      const chunk = group.columns.find((c) => c.meta_data?.path_in_schema[0] === name);
      const meta = chunk?.meta_data;
      if (chunk === undefined || meta === undefined) throw new Error(`parquet column not found: ${name}`);
      if (chunk.file_path) throw new Error('parquet file_path not supported');
      const offset = Number(meta.dictionary_page_offset || meta.data_page_offset);
      const bytes = await buffer.slice(offset, offset + Number(meta.total_compressed_size));
      return [role, { chunk, bytes }] as const;
    }),
  );
  return { index, start, rows: Number(group.num_rows), chunks: new Map(fetched) };
}

/** A column's decoded values: row `r` of a read starting at `from` is `values[offset + r]`. */
interface Decoded {
  readonly values: ArrayLike<unknown>;
  readonly offset: number;
}

/** Rows `[from, to)` of a row group (counted from its start) of one column, decoded by hyparquet. */
function decode(group: FetchedGroup, role: Role, schema: SchemaTree, from: number, to: number): Decoded {
  const { chunk, bytes } = group.chunks.get(role) as { chunk: ColumnChunk; bytes: ArrayBuffer };
  const meta = chunk.meta_data as NonNullable<ColumnChunk['meta_data']>;
  const schemaPath = schemaPathOf(schema, meta.path_in_schema[0] as string);
  const { data, skipped } = readColumn(
    { view: new DataView(bytes), offset: 0 },
    { groupStart: group.start, selectStart: from, selectEnd: to, groupRows: group.rows },
    {
      pathInSchema: meta.path_in_schema,
      type: meta.type,
      element: (schemaPath[1] as SchemaTree).element,
      schemaPath,
      codec: meta.codec,
      parsers: DEFAULT_PARSERS,
      compressors,
    },
  );
  // Pages wholly before `from` are skipped undecoded; `skipped` counts their rows.
  let values: ArrayLike<unknown> = data[0] ?? [];
  if (data.length > 1) {
    const joined: unknown[] = [];
    for (const page of data) for (let i = 0; i < page.length; i += 1) joined.push(page[i]);
    values = joined;
  }
  return { values, offset: from - skipped };
}

/** Keys of the selected rows among rows `[from, to)` of a row group, in file order. */
function selectRows(
  group: FetchedGroup,
  roles: readonly Role[],
  schema: SchemaTree,
  from: number,
  to: number,
  selector: RowSelector,
  keys: string[],
): void {
  const read = (role: Role) => (roles.includes(role) ? decode(group, role, schema, from, to) : undefined);
  const key = read('key') as Decoded;
  const size = read('size');
  const isLatest = read('isLatest');
  const isDeleteMarker = read('isDeleteMarker');
  const lastModified = read('lastModified');
  for (let row = 0; row < to - from; row += 1) {
    // Parquet keys are stored as they are, not URL-encoded.
    const name = key.values[key.offset + row];
    if (typeof name !== 'string') continue;
    const keep = selector.accept(
      name,
      size === undefined ? undefined : numberOf(size.values[size.offset + row]),
      isLatest === undefined ? undefined : booleanOf(isLatest.values[isLatest.offset + row]),
      isDeleteMarker === undefined ? undefined : booleanOf(isDeleteMarker.values[isDeleteMarker.offset + row]),
      lastModified === undefined ? undefined : numberOf(lastModified.values[lastModified.offset + row]),
    );
    if (keep) keys.push(name);
  }
}

/** Reads one Parquet data file, yielding its rows a slice of a row group at a time. */
export async function* readParquetFile(request: DataFileRequest): AsyncGenerator<RowBatch> {
  const { client, bucket, file, columns, signal, skipRows, selector } = request;
  try {
    await verifyFile(client, bucket, file, signal);
    const buffer = s3AsyncBuffer(client, bucket, file.key, file.size, signal);
    const metadata = await parquetMetadataAsync(buffer);
    const schema = parquetSchema(metadata);
    const roles = rolesToRead(columns, selector);
    for (const role of roles) schemaPathOf(schema, (columns[role] as { name: string }).name);
    const total = Number(metadata.num_rows);
    // The row group holding the current row, fetched once however many slices it is read in.
    let group: FetchedGroup | undefined;
    let nextGroup = 0;
    let nextStart = 0;
    let row = skipRows;
    while (row < total) {
      const rowEnd = Math.min(total, row + ROWS_PER_READ);
      const keys: string[] = [];
      while (row < rowEnd) {
        while (group === undefined || row >= group.start + group.rows) {
          const rows = Number(metadata.row_groups[nextGroup]?.num_rows ?? 0);
          if (nextStart + rows > row) {
            group = await fetchGroup(buffer, metadata, nextGroup, nextStart, columns, roles);
          }
          nextGroup += 1;
          nextStart += rows;
          if (nextGroup > metadata.row_groups.length) throw new Error(`parquet file has no row ${row}`);
        }
        const to = Math.min(rowEnd, group.start + group.rows);
        selectRows(group, roles, schema, row - group.start, to - group.start, selector, keys);
        row = to;
      }
      yield { keys, endRow: rowEnd };
    }
    if (total <= skipRows) yield { keys: [], endRow: total };
  } catch (error) {
    throw dataFileError(error, bucket, file);
  }
}
