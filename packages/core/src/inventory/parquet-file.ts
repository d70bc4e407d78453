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
import type { RequestSignals } from '../s3/request-signals.js';
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
  requests: RequestSignals,
): AsyncBuffer {
  return {
    byteLength,
    async slice(start: number, end: number = byteLength): Promise<ArrayBuffer> {
      if (end <= start) return new ArrayBuffer(0);
      // A row group's column chunks are fetched at once: each GET has a signal of its own until its body is read.
      const bytes = await requests.run(async (abortSignal) => {
        const output = await client.send(
          new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end - 1}` }),
          { abortSignal },
        );
        return (await output.Body?.transformToByteArray()) ?? new Uint8Array(0);
      });
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
  };
}

/** Streams the whole file once through MD5 and compares with the manifest. */
async function verifyFile(
  client: S3Client,
  bucket: string,
  file: InventoryDataFile,
  requests: RequestSignals,
): Promise<void> {
  const hash = createHash('md5');
  let bytes = 0;
  await requests.run(async (abortSignal) => {
    const output = await client.send(new GetObjectCommand({ Bucket: bucket, Key: file.key }), { abortSignal });
    for await (const chunk of output.Body as Readable) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
  });
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

/**
 * One column of a row group, decoded forward a page at a time as rows are asked for in increasing order: each page is
 * decoded once, however many reads its rows span (a page of a numeric column can hold 100,000 rows and more, many
 * times {@link ROWS_PER_READ}), and pages whose rows were all read are dropped.
 */
class ColumnPages {
  /** Decoded runs of rows, in order: `values[i]` is row `start + i` of the row group. */
  private runs: { readonly start: number; readonly values: ArrayLike<unknown> }[] = [];
  /** Rows before this one have been decoded (or skipped). */
  private decodedTo = 0;
  private run = 0;

  constructor(
    private readonly group: { readonly start: number; readonly rows: number },
    private readonly chunk: { readonly meta: ColumnMetaData; readonly bytes: ArrayBuffer },
    private readonly schema: SchemaTree,
    private readonly column: SchemaTree,
  ) {}

  /** Makes rows `[from, to)` of the row group available to {@link value}. */
  load(from: number, to: number): void {
    this.runs = this.runs.filter((run) => run.start + run.values.length > from);
    this.run = 0;
    if (to <= this.decodedTo) return;
    // hyparquet skips a page only when the first row asked for lies beyond it, not when the page ends right there:
    // asking from one row past the decoded ones leaves the last decoded page alone.
    const selectStart = from > this.decodedTo ? from : this.decodedTo + 1;
    const { meta, bytes } = this.chunk;
    const { data, skipped } = readColumn(
      { view: new DataView(bytes), offset: 0 },
      { groupStart: this.group.start, selectStart, selectEnd: to, groupRows: this.group.rows },
      {
        pathInSchema: meta.path_in_schema,
        type: meta.type,
        element: this.column.element,
        schemaPath: [this.schema, this.column],
        codec: meta.codec,
        parsers: DEFAULT_PARSERS,
        compressors,
      },
    );
    // Pages wholly before `selectStart` are skipped undecoded; `skipped` counts their rows.
    let start = skipped;
    for (const values of data) {
      this.runs.push({ start, values });
      start += values.length;
    }
    this.decodedTo = start;
  }

  /** Row `row` of the row group, among those last loaded (fastest when asked for in increasing order). */
  value(row: number): unknown {
    const hint = this.runs[this.run];
    for (let i = hint !== undefined && row >= hint.start ? this.run : 0; i < this.runs.length; i += 1) {
      const run = this.runs[i] as (typeof this.runs)[number];
      if (row < run.start) return undefined;
      if (row < run.start + run.values.length) {
        this.run = i;
        return run.values[row - run.start];
      }
    }
    return undefined;
  }
}

/** One row group, with the chunks of the columns read (one ranged GET each) in role order. */
interface FetchedGroup {
  readonly start: number;
  readonly rows: number;
  readonly columns: (ColumnPages | undefined)[];
}

async function fetchGroup(
  buffer: AsyncBuffer,
  group: RowGroup,
  start: number,
  schema: SchemaTree,
  read: readonly (SchemaTree | undefined)[],
): Promise<FetchedGroup> {
  const rows = Number(group.num_rows);
  const columns = await Promise.all(
    read.map(async (column) => {
      if (column === undefined) return undefined;
      const chunk = group.columns.find((c) => c.meta_data?.path_in_schema[0] === column.element.name);
      const meta = chunk?.meta_data;
      if (meta === undefined || chunk?.file_path)
        throw new Error(`parquet column ${column.element.name} has no chunk in this file to read`);
      const offset = Number(meta.dictionary_page_offset || meta.data_page_offset);
      const bytes = await buffer.slice(offset, offset + Number(meta.total_compressed_size));
      return new ColumnPages({ start, rows }, { meta, bytes }, schema, column);
    }),
  );
  return { start, rows, columns };
}

/**
 * Adds the keys of the selected rows among rows `[from, to)` of a row group to `keys`, in file order. Sizes are
 * decoded only for reads with a key ending in `/` (a possible directory marker), as the CSV reader parses them.
 */
function selectRows(group: FetchedGroup, from: number, to: number, selector: RowSelector, keys: string[]): void {
  const [key, size, isLatest, isDeleteMarker, lastModified] = group.columns;
  for (const column of [key, isLatest, isDeleteMarker, lastModified]) column?.load(from, to);
  let sizes: ColumnPages | undefined;
  for (let row = from; row < to && size !== undefined; row += 1) {
    const name = key?.value(row);
    if (typeof name === 'string' && name.endsWith('/')) {
      size.load(from, to);
      sizes = size;
      break;
    }
  }
  for (let row = from; row < to; row += 1) {
    // Parquet keys are stored as they are, not URL-encoded.
    const name = key?.value(row);
    if (typeof name !== 'string') continue;
    const keep = selector.accept(
      name,
      name.endsWith('/') ? numberOf(sizes?.value(row)) : undefined,
      booleanOf(isLatest?.value(row)),
      booleanOf(isDeleteMarker?.value(row)),
      numberOf(lastModified?.value(row)),
    );
    if (keep) keys.push(name);
  }
}

/** Reads one Parquet data file, yielding its rows a slice of a row group at a time. */
export async function* readParquetFile(request: DataFileRequest): AsyncGenerator<RowBatch> {
  const { client, bucket, file, columns, requests, skipRows } = request;
  try {
    await verifyFile(client, bucket, file, requests);
    const buffer = s3AsyncBuffer(client, bucket, file.key, file.size, requests);
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
          if (nextStart + rows > row) group = await fetchGroup(buffer, rowGroup, nextStart, schema, read);
          next += 1;
          nextStart += rows;
        }
        const to = Math.min(rowEnd, group.start + group.rows);
        selectRows(group, row - group.start, to - group.start, request.selector, keys);
        row = to;
      }
      yield { keys, endRow: rowEnd };
    }
    if (total <= skipRows) yield { keys: [], endRow: total };
  } catch (error) {
    throw dataFileError(error, bucket, file);
  }
}
