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
import { assertChecksum, booleanOf, dataFileError, type DataFileRequest, type InventoryRow, type RowBatch } from './data-file.js';
import type { InventoryColumns } from './manifest.js';

/** Decompressed bytes handed over at a time: about a thousand inventory rows. */
const CHUNK_BYTES = 64 * 1024;

/** Turns a CSV record into a row: keys in CSV inventories are URL-encoded (a space may be `+`). */
function rowMaker(columns: InventoryColumns): (fields: CsvRecord) => InventoryRow {
  const { key, size, isLatest, isDeleteMarker, lastModified } = columns;
  return (fields) => {
    const sizeText = size === undefined ? undefined : fields[size.index];
    const modifiedText = lastModified === undefined ? undefined : fields[lastModified.index];
    return {
      key: decodeUrlValue(fields[key.index] ?? ''),
      size: sizeText === undefined || sizeText === '' ? undefined : Number(sizeText),
      isLatest: isLatest === undefined ? undefined : booleanOf(fields[isLatest.index]),
      isDeleteMarker: isDeleteMarker === undefined ? undefined : booleanOf(fields[isDeleteMarker.index]),
      lastModified: modifiedText === undefined || modifiedText === '' ? undefined : Date.parse(modifiedText),
    };
  };
}

/** The columns a CSV row needs. */
function keptColumns(columns: InventoryColumns): number[] {
  return Object.values(columns).map((column: { index: number }) => column.index);
}

/** Reads one CSV-gzip data file, yielding its rows a decompressed chunk at a time. */
export async function* readCsvGzipFile(request: DataFileRequest): AsyncGenerator<RowBatch> {
  const { client, bucket, file, signal, skipRows } = request;
  const hash = createHash('md5');
  let compressedBytes = 0;
  let body: Readable | undefined;
  let text: Readable | undefined;
  try {
    const output = await client.send(new GetObjectCommand({ Bucket: bucket, Key: file.key }), { abortSignal: signal });
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
    const records = new CsvRecordReader(request.columnCount, keptColumns(request.columns));
    const makeRow = rowMaker(request.columns);
    let rows: InventoryRow[] = [];
    const onRecord = (fields: CsvRecord): void => {
      if (records.records > skipRows) rows.push(makeRow(fields));
    };
    for await (const chunk of text) {
      records.push(decoder.write(chunk as Buffer), onRecord);
      if (rows.length > 0) {
        yield { rows, endRow: records.records };
        rows = [];
      }
    }
    records.push(decoder.end(), onRecord);
    records.end(onRecord);
    assertChecksum(file, bucket, hash.digest('hex'), compressedBytes);
    yield { rows, endRow: records.records };
  } catch (error) {
    throw dataFileError(error, bucket, file);
  } finally {
    text?.destroy();
    body?.destroy();
  }
}
