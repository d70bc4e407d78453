/**
 * Reads a Parquet inventory data file with hyparquet through ranged GETs: the footer, then the chunks of the columns
 * used, each fetched forward in ranged GETs of at most {@link CHUNK_READ_BYTES} (a larger page whole) and decoded a
 * page at a time, so neither a file nor a row group's column chunk is ever held whole. A Parquet reader jumps around
 * the file, so the MD5 is checked first, in one streaming pass over the file, before any of its rows is yielded.
 *
 * hyparquet decodes every page (its page reader: dictionary, RLE and delta encodings, Snappy, the converted and
 * logical types); this file only walks the page headers of the column chunks it reads. It calls the page reader
 * directly rather than `parquetReadObjects`, whose query planner (row filters, bloom filters, page indexes, GeoParquet
 * and variant reassembly of nested columns) an inventory's flat columns never use and which is a third of
 * hyparquet's size in a Lambda bundle. @internal
 */

import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  type AsyncBuffer,
  type ColumnMetaData,
  type DecodedArray,
  type PageHeader,
  parquetMetadataAsync,
  parquetSchema,
  type RowGroup,
  type SchemaTree,
} from 'hyparquet';
import { parquetHeader, readPage } from 'hyparquet/src/column.js';
import { convert, DEFAULT_PARSERS } from 'hyparquet/src/convert.js';
import { isFlatColumn } from 'hyparquet/src/schema.js';
import type { ColumnDecoder, DataReader } from 'hyparquet/src/types.js';
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

/**
 * Rows handed over at a time at most (a row group larger than this is read in slices). Each file being read holds a
 * few such batches ahead of the consumer: at 16,384 rows those keys outlived a young-generation collection and nearly
 * every key was promoted to the old generation (10M keys: about 800 MB promoted, peak RSS 270–325 MB); at 4,096 rows
 * about 540 MB and 195–240 MB.
 */
const ROWS_PER_READ = 4096;

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
      // Several ranged GETs run at once (columns, read-ahead): each has a signal of its own until its body is read.
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
 * Bytes one ranged GET of a column chunk asks for: a column chunk (all of a row group's values of one column, many
 * MiB for a large row group) is fetched this much at a time, and only a page larger than this is fetched whole.
 */
export const CHUNK_READ_BYTES = 1 << 20;

/** Ranged GETs of a column chunk in flight ahead of its decoding, to hide S3's latency. */
const READS_AHEAD = 2;

/** A ranged GET of `[from, to)` under way; a failure is left to whoever awaits it. */
interface PendingRead {
  readonly to: number;
  readonly bytes: Promise<ArrayBuffer>;
}

/**
 * The bytes of one column chunk, `[position, end)` of the file, fetched forward in ranged GETs of
 * {@link CHUNK_READ_BYTES} ({@link READS_AHEAD} of them ahead): only the unread part of the GETs done is held.
 */
class ChunkBytes {
  /** Bytes held: `window[0]` is byte `at` of the file (its own ArrayBuffer, so nothing reads past its end). */
  private window = new Uint8Array(0);
  private at = 0;
  /** Ranged GETs under way, in order, and where the last one ends. */
  private readonly pending: PendingRead[] = [];
  private requestedTo: number;

  constructor(
    private readonly buffer: AsyncBuffer,
    /** The file offset of the next byte not yet consumed. */
    public position: number,
    private readonly end: number,
  ) {
    this.at = position;
    this.requestedTo = position;
  }

  /** True once every byte of the chunk is consumed. */
  get done(): boolean {
    return this.position >= this.end;
  }

  /** True when every byte of the chunk from `position` on is held. */
  get holdsRest(): boolean {
    return this.at + this.window.length >= this.end;
  }

  /** Starts a ranged GET of the chunk's next bytes, at least up to `to`. */
  private request(to: number): void {
    const from = this.requestedTo;
    const end = Math.min(this.end, Math.max(to, from + CHUNK_READ_BYTES));
    const bytes = Promise.resolve(this.buffer.slice(from, end));
    bytes.catch(() => {});
    this.pending.push({ to: end, bytes });
    this.requestedTo = end;
  }

  /** Starts the chunk's first ranged GET, if none is under way, so that its bytes are there when reading gets here. */
  prefetch(): void {
    if (this.pending.length === 0 && this.requestedTo < this.end) this.request(this.requestedTo);
  }

  /** Appends the next ranged GET's bytes to those held, dropping those before `position`. */
  private async append(want: number): Promise<void> {
    if (this.pending.length === 0) this.request(want);
    const read = this.pending.shift() as PendingRead;
    const fetched = new Uint8Array(await read.bytes);
    const from = read.to - fetched.length;
    if (from !== this.at + this.window.length)
      throw new Error(
        `parquet file answered ${fetched.length} bytes for a range of ${read.to - this.at - this.window.length}`,
      );
    const kept = this.window.subarray(Math.max(0, this.position - this.at));
    const window = kept.length === 0 ? fetched : new Uint8Array(kept.length + fetched.length);
    if (kept.length > 0) {
      window.set(kept);
      window.set(fetched, kept.length);
    }
    this.window = window;
    this.at = from - kept.length;
  }

  /** A reader over the held bytes from `position` on, after fetching until at least `count` of them are held. */
  async reader(count: number): Promise<DataReader> {
    const want = Math.min(this.position + count, this.end);
    while (this.at + this.window.length < want) await this.append(want);
    while (this.pending.length < READS_AHEAD && this.requestedTo < this.end) this.request(this.requestedTo);
    const offset = this.position - this.at;
    return { view: new DataView(this.window.buffer, offset, this.window.length - offset), offset: 0 };
  }

  /** The header of the page at `position`, fetching more bytes while it runs past those held. */
  async header(): Promise<PageHeader> {
    for (let count = 4096; ; count *= 4) {
      const reader = await this.reader(count);
      try {
        const header = parquetHeader(reader);
        this.position += reader.offset;
        return header;
      } catch (error) {
        if (this.holdsRest) throw error;
      }
    }
  }
}

/** Rows of a data page of a flat column. */
function pageRows(header: PageHeader): number {
  const rows = header.data_page_header_v2?.num_rows ?? header.data_page_header?.num_values;
  if (rows === undefined) throw new Error(`parquet unsupported page type: ${header.type}`);
  return rows;
}

/**
 * One column of a row group, read forward a page at a time as rows are asked for in increasing order: its chunk is
 * fetched in bounded ranged reads ({@link ChunkBytes}), each page is decoded once however many reads its rows span,
 * pages wholly before the rows asked for are skipped undecoded, and pages whose rows were all read are dropped.
 */
class ColumnPages {
  /** Decoded pages, in order: `values[i]` is row `start + i` of the row group. */
  private runs: { readonly start: number; readonly values: ArrayLike<unknown> }[] = [];
  /** Rows before this one have been decoded (or skipped). */
  private decodedTo = 0;
  private run = 0;
  private dictionary: DecodedArray | undefined;
  private readonly decoder: ColumnDecoder;

  constructor(
    private readonly bytes: ChunkBytes,
    meta: ColumnMetaData,
    schema: SchemaTree,
    column: SchemaTree,
  ) {
    if (!isFlatColumn([schema, column])) throw new Error(`parquet column ${column.element.name} is not a flat column`);
    const { path_in_schema: pathInSchema, type, codec } = meta;
    const schemaPath = [schema, column];
    this.decoder = {
      pathInSchema,
      type,
      element: column.element,
      schemaPath,
      codec,
      parsers: DEFAULT_PARSERS,
      compressors,
    };
  }

  /** Starts fetching the chunk's first bytes. */
  prefetch(): void {
    this.bytes.prefetch();
  }

  /** Makes rows `[from, to)` of the row group available to {@link value}. */
  async load(from: number, to: number): Promise<void> {
    this.runs = this.runs.filter((run) => run.start + run.values.length > from);
    this.run = 0;
    while (this.decodedTo < to && !this.bytes.done) {
      const header = await this.bytes.header();
      const size = header.compressed_page_size;
      if (header.type === 'DICTIONARY_PAGE') {
        const { data } = readPage(await this.bytes.reader(size), header, this.decoder, undefined, undefined, 0);
        this.dictionary = data && convert(data, this.decoder);
      } else if (this.decodedTo + pageRows(header) <= from) {
        this.decodedTo += pageRows(header);
      } else {
        const reader = await this.bytes.reader(size);
        const { data } = readPage(reader, header, this.decoder, this.dictionary, undefined, 0);
        if (data === undefined || data.length !== pageRows(header))
          throw new Error(`parquet page of ${pageRows(header)} rows decoded to ${data?.length ?? 0}`);
        this.runs.push({ start: this.decodedTo, values: data });
        this.decodedTo += data.length;
      }
      this.bytes.position += size;
    }
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

/** One row group, with the columns read in role order. */
interface FetchedGroup {
  readonly start: number;
  readonly rows: number;
  readonly columns: (ColumnPages | undefined)[];
}

/** The columns `read` of a row group, none of their bytes fetched yet. */
function openGroup(
  buffer: AsyncBuffer,
  group: RowGroup,
  start: number,
  schema: SchemaTree,
  read: readonly (SchemaTree | undefined)[],
): FetchedGroup {
  const columns = read.map((column) => {
    if (column === undefined) return undefined;
    const chunk = group.columns.find((c) => c.meta_data?.path_in_schema[0] === column.element.name);
    const meta = chunk?.meta_data;
    if (meta === undefined || chunk?.file_path)
      throw new Error(`parquet column ${column.element.name} has no chunk in this file to read`);
    const offset = Number(meta.dictionary_page_offset || meta.data_page_offset);
    const bytes = new ChunkBytes(buffer, offset, offset + Number(meta.total_compressed_size));
    return new ColumnPages(bytes, meta, schema, column);
  });
  return { start, rows: Number(group.num_rows), columns };
}

/**
 * The row group after the one being read, if any, its chunks' first bytes requested (the `size` column's only when
 * a read needs it), so that moving on to it does not wait a whole S3 round trip.
 */
function openNext(
  buffer: AsyncBuffer,
  group: RowGroup | undefined,
  start: number,
  schema: SchemaTree,
  read: readonly (SchemaTree | undefined)[],
): FetchedGroup | undefined {
  if (group === undefined) return undefined;
  const opened = openGroup(buffer, group, start, schema, read);
  opened.columns.forEach((column, role) => {
    if (ROLES[role] !== 'size') column?.prefetch();
  });
  return opened;
}

/**
 * Adds the keys of the selected rows among rows `[from, to)` of a row group to `keys`, in file order. Sizes are
 * decoded only for reads with a key ending in `/` (a possible directory marker), as the CSV reader parses them.
 */
async function selectRows(
  group: FetchedGroup,
  from: number,
  to: number,
  selector: RowSelector,
  keys: string[],
): Promise<void> {
  const [key, size, isLatest, isDeleteMarker, lastModified] = group.columns;
  await Promise.all([key, isLatest, isDeleteMarker, lastModified].map((column) => column?.load(from, to)));
  let sizes: ColumnPages | undefined;
  for (let row = from; row < to && size !== undefined; row += 1) {
    const name = key?.value(row);
    if (typeof name === 'string' && name.endsWith('/')) {
      await size.load(from, to);
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
    let upcoming: FetchedGroup | undefined;
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
          if (nextStart + rows > row) {
            group = upcoming?.start === nextStart ? upcoming : openGroup(buffer, rowGroup, nextStart, schema, read);
            upcoming = openNext(buffer, metadata.row_groups[next + 1], nextStart + rows, schema, read);
          }
          next += 1;
          nextStart += rows;
        }
        const to = Math.min(rowEnd, group.start + group.rows);
        await selectRows(group, row - group.start, to - group.start, request.selector, keys);
        row = to;
      }
      yield { keys, endRow: rowEnd };
    }
    if (total <= skipRows) yield { keys: [], endRow: total };
  } catch (error) {
    throw dataFileError(error, bucket, file);
  }
}
