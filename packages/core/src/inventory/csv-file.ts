/**
 * Reads a gzipped CSV inventory data file in one streaming GET: the compressed bytes are hashed (MD5) as they arrive,
 * gunzipped and split into records, so memory stays flat whatever the file's size. The checksum is compared when the
 * last byte has arrived; a mismatch then fails the run (see the source's documentation for what that leaves behind).
 * @internal
 */

import { createHash } from 'node:crypto';
import { Transform, pipeline, type Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { decodeUrlValue } from '../s3/list-objects.js';
import { CsvRecordReader, type CsvRecord } from './csv-records.js';
import {
  assertChecksum,
  booleanOf,
  dataFileError,
  type DataFileRequest,
  type RowBatch,
  type RowSelector,
} from './data-file.js';
import type { InventoryColumns } from './manifest.js';

/** Decompressed bytes handed over at a time: about a thousand inventory rows. */
const CHUNK_BYTES = 64 * 1024;

/**
 * Turns each CSV record into a decision and keeps the key if selected. Keys in CSV inventories are URL-encoded (a
 * space may be `+`); sizes are parsed only for keys ending in `/`, dates only when the selector needs them.
 */
function recordSelector(
  columns: InventoryColumns,
  selector: RowSelector,
  keys: () => string[],
): (fields: CsvRecord) => void {
  const { key: keyColumn, size, isLatest, isDeleteMarker, lastModified } = columns;
  const dates = selector.needsLastModified && lastModified !== undefined ? lastModified.index : -1;
  return (fields) => {
    const key = decodeUrlValue(fields[keyColumn.index] ?? '');
    const sizeText = size !== undefined && key.endsWith('/') ? fields[size.index] : undefined;
    const modifiedText = dates === -1 ? undefined : fields[dates];
    const keep = selector.accept(
      key,
      sizeText === undefined || sizeText === '' ? undefined : Number(sizeText),
      isLatest === undefined ? undefined : booleanOf(fields[isLatest.index]),
      isDeleteMarker === undefined ? undefined : booleanOf(fields[isDeleteMarker.index]),
      modifiedText === undefined || modifiedText === '' ? undefined : Date.parse(modifiedText),
    );
    if (keep) keys().push(key);
  };
}

/** The columns a CSV record is read for. */
function keptColumns(columns: InventoryColumns, selector: RowSelector): number[] {
  return Object.entries(columns)
    .filter(([name]) => name !== 'lastModified' || selector.needsLastModified)
    .map(([, column]: [string, { index: number }]) => column.index);
}

/** Reads one CSV-gzip data file, yielding its rows a decompressed chunk at a time. */
export async function* readCsvGzipFile(request: DataFileRequest): AsyncGenerator<RowBatch> {
  const { client, bucket, file, skipRows } = request;
  const hash = createHash('md5');
  let compressedBytes = 0;
  let body: Readable | undefined;
  let text: Readable | undefined;
  // The body streams after `send` resolves, and the SDK cancels it through the signal: held until the file is read.
  const held = request.requests.hold();
  try {
    const output = await client.send(new GetObjectCommand({ Bucket: bucket, Key: file.key }), {
      abortSignal: held.signal,
    });
    body = output.Body as Readable;
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        compressedBytes += chunk.length;
        done(null, chunk);
      },
    });
    text = pipeline(body, tap, createGunzip({ chunkSize: CHUNK_BYTES }), () => {});
    const decoder = new StringDecoder('utf8');
    const records = new CsvRecordReader(request.columnCount, keptColumns(request.columns, request.selector));
    let keys: string[] = [];
    const select = recordSelector(request.columns, request.selector, () => keys);
    const onRecord = (fields: CsvRecord): void => {
      if (records.records > skipRows) select(fields);
    };
    let reported = 0;
    for await (const chunk of text) {
      records.push(decoder.write(chunk as Buffer), onRecord);
      if (records.records > reported) {
        reported = records.records;
        yield { keys, endRow: reported };
        keys = [];
      }
    }
    records.push(decoder.end(), onRecord);
    records.end(onRecord);
    assertChecksum(file, bucket, hash.digest('hex'), compressedBytes);
    yield { keys, endRow: records.records };
  } catch (error) {
    throw dataFileError(error, bucket, file);
  } finally {
    text?.destroy();
    body?.destroy();
    held.release();
  }
}
