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
  type ColumnMetaData,
  parquetMetadataAsync,
  parquetSchema,
  type RowGroup,
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

/** The inventory columns a row selector takes, in its arguments' order. */
const ROLES = ['key', 'size', 'isLatest', 'isDeleteMarker', 'lastModified'] as const;

/** The schema column of each role a read decodes (the last modified date only for a date cut-off), else undefined. */
function columnsToRead(
  columns: InventoryColumns,
  selector: RowSelector,
  schema: SchemaTree,
): (SchemaTree | undefined)[] {
  return ROLES.map((role) => {
    const name = columns[role]?.name;
    if (name === undefined || (role === 'lastModified' && !selector.needsLastModified)) return undefined;
    const column = schema.children.find((child) => child.element.name === name);
    if (column === undefined) throw new Error(`parquet column not found: ${name}`);
    return column;
  });
}

/** One row group, with the chunks of the columns read (one ranged GET each) in role order. */
interface FetchedGroup {
  readonly start: number;
  readonly rows: number;
  readonly chunks: ({ readonly meta: ColumnMetaData; readonly bytes: ArrayBuffer } | undefined)[];
}

async function fetchGroup(
  buffer: AsyncBuffer,
  group: RowGroup,
  start: number,
  read: readonly (SchemaTree | undefined)[],
): Promise<FetchedGroup> {
  const chunks = await Promise.all(
    read.map(async (column) => {
      if (column === undefined) return undefined;
      const chunk = group.columns.find((c) => c.meta_data?.path_in_schema[0] === column.element.name);
      const meta = chunk?.meta_data;
      if (meta === undefined || chunk?.file_path)
        throw new Error(`parquet column ${column.element.name} has no chunk in this file to read`);
      const offset = Number(meta.dictionary_page_offset || meta.data_page_offset);
      return { meta, bytes: await buffer.slice(offset, offset + Number(meta.total_compressed_size)) };
    }),
  );
  return { start, rows: Number(group.num_rows), chunks };
}

/**
 * Rows `[from, to)` of a row group (counted from its start) of one column, decoded by hyparquet: row `from + r` is
 * `values[offset + r]`.
 */
function decode(
  group: FetchedGroup,
  index: number,
  schema: SchemaTree,
  column: SchemaTree | undefined,
  from: number,
  to: number,
): { values: ArrayLike<unknown>; offset: number } | undefined {
  const chunk = group.chunks[index];
  if (column === undefined || chunk === undefined) return undefined;
  const { meta, bytes } = chunk;
  const { data, skipped } = readColumn(
    { view: new DataView(bytes), offset: 0 },
    { groupStart: group.start, selectStart: from, selectEnd: to, groupRows: group.rows },
    {
      pathInSchema: meta.path_in_schema,
      type: meta.type,
      element: column.element,
      schemaPath: [schema, column],
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

/** Adds the keys of the selected rows among rows `[from, to)` of a row group to `keys`, in file order. */
function selectRows(
  group: FetchedGroup,
  schema: SchemaTree,
  read: readonly (SchemaTree | undefined)[],
  from: number,
  to: number,
  selector: RowSelector,
  keys: string[],
): void {
  const [key, size, isLatest, isDeleteMarker, lastModified] = read.map((column, index) =>
    decode(group, index, schema, column, from, to),
  );
  const at = (decoded: typeof key, row: number): unknown => decoded?.values[decoded.offset + row];
  for (let row = 0; row < to - from; row += 1) {
    // Parquet keys are stored as they are, not URL-encoded.
    const name = at(key, row);
    if (typeof name !== 'string') continue;
    const keep = selector.accept(
      name,
      numberOf(at(size, row)),
      booleanOf(at(isLatest, row)),
      booleanOf(at(isDeleteMarker, row)),
      numberOf(at(lastModified, row)),
    );
    if (keep) keys.push(name);
  }
}

/** Reads one Parquet data file, yielding its rows a slice of a row group at a time. */
export async function* readParquetFile(request: DataFileRequest): AsyncGenerator<RowBatch> {
  const { client, bucket, file, columns, signal, skipRows } = request;
  try {
    await verifyFile(client, bucket, file, signal);
    const buffer = s3AsyncBuffer(client, bucket, file.key, file.size, signal);
    const metadata = await parquetMetadataAsync(buffer);
    const schema = parquetSchema(metadata);
    const read = columnsToRead(columns, request.selector, schema);
    const total = Number(metadata.num_rows);
    // The row group holding the current row, fetched once however many reads it takes.
    let group: FetchedGroup | undefined;
    let next = 0;
    let nextStart = 0;
    let row = skipRows;
    while (row < total) {
      const rowEnd = Math.min(total, row + ROWS_PER_READ);
      const keys: string[] = [];
      while (row < rowEnd) {
        while (group === undefined || row >= group.start + group.rows) {
          const rowGroup = metadata.row_groups[next];
          if (rowGroup === undefined) throw new Error(`parquet file has no row ${row}`);
          const rows = Number(rowGroup.num_rows);
          if (nextStart + rows > row) group = await fetchGroup(buffer, rowGroup, nextStart, read);
          next += 1;
          nextStart += rows;
        }
        const to = Math.min(rowEnd, group.start + group.rows);
        selectRows(group, schema, read, row - group.start, to - group.start, request.selector, keys);
        row = to;
      }
      yield { keys, endRow: rowEnd };
    }
    if (total <= skipRows) yield { keys: [], endRow: total };
  } catch (error) {
    throw dataFileError(error, bucket, file);
  }
}
