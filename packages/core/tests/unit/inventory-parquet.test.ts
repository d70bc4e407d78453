import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { parquetMetadata } from 'hyparquet';
import { describe, expect, it, vi } from 'vitest';
import type { RowSelector } from '../../src/inventory/data-file.js';
import { RequestSignals } from '../../src/s3/request-signals.js';
import { type FixtureRow, parquetFile } from '../inventory-fixtures.js';

// Counts the rows hyparquet decodes per column (the page reader itself is the real one).
const decodedRows = vi.hoisted(() => new Map<string, number>());
vi.mock('hyparquet/src/column.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('hyparquet/src/column.js')>();
  return {
    ...original,
    readPage: (...args: Parameters<typeof original.readPage>) => {
      const result = original.readPage(...args);
      const name = args[2].pathInSchema.join('.');
      if (args[1].type !== 'DICTIONARY_PAGE')
        decodedRows.set(name, (decodedRows.get(name) ?? 0) + (result.data?.length ?? 0));
      return result;
    },
  };
});

const { CHUNK_READ_BYTES, readParquetFile } = await import('../../src/inventory/parquet-file.js');

/** A client that answers GetObject (whole or ranged) from one object in memory, noting each range's length. */
function oneObjectClient(body: Buffer, rangeLengths: number[] = []): S3Client {
  return {
    async send(command: { input: { Range?: string } }) {
      const range = /^bytes=(\d+)-(\d+)$/.exec(command.input.Range ?? '');
      if (range) rangeLengths.push(Number(range[2]) + 1 - Number(range[1]));
      const bytes = range ? body.subarray(Number(range[1]), Number(range[2]) + 1) : body;
      const stream = Readable.from([bytes]) as Readable & { transformToByteArray(): Promise<Uint8Array> };
      stream.transformToByteArray = async () => new Uint8Array(bytes);
      return { Body: stream };
    },
  } as unknown as S3Client;
}

const keepAll: RowSelector = { needsLastModified: false, accept: () => true };

describe('readParquetFile', () => {
  // Pages of up to 1 MiB: a row group's `size` column is one page of up to 25,000 rows, which reads of 4,096 rows
  // cross; each page must be decoded once, not once per read. Every 5,000th key ends in `/` (a possible directory
  // marker), so every read needs sizes.
  const rows: FixtureRow[] = Array.from({ length: 40_000 }, (_, i) => ({
    key: i % 5000 === 7 ? `big/dir-${i}/` : `big/${String(i).padStart(6, '0')}.pdf`,
    size: i % 10_000 === 7 ? 0 : 100 + i,
  }));
  const fileOf = (fileRows: readonly FixtureRow[]) => {
    const body = parquetFile('source', fileRows, { rowGroupSize: [10_000, 25_000, 5_000], pageSize: 1 << 20 });
    return { body, key: 'data/0.parquet', size: body.length, md5: createHash('md5').update(body).digest('hex') };
  };
  const read = (file: ReturnType<typeof fileOf>, skipRows: number, selector: RowSelector = keepAll) =>
    readParquetFile({
      client: oneObjectClient(file.body),
      bucket: 'inventory',
      file,
      columns: { key: { index: 1, name: 'key' }, size: { index: 5, name: 'size' } },
      columnCount: 7,
      skipRows,
      selector,
      requests: new RequestSignals(),
    });

  it('decodes each page of a column once when its rows span several reads', async () => {
    decodedRows.clear();
    const keys: string[] = [];
    const ends: number[] = [];
    for await (const batch of read(fileOf(rows), 0)) {
      keys.push(...batch.keys);
      ends.push(batch.endRow);
    }
    expect(keys).toEqual(rows.map((row) => row.key));
    expect(ends).toEqual([...Array.from({ length: 9 }, (_, i) => (i + 1) * 4096), 40_000]);
    expect(decodedRows.get('key')).toBe(40_000);
    expect(decodedRows.get('size')).toBe(40_000);
  });

  it('decodes no size when no key ends in /, as the CSV reader parses none', async () => {
    decodedRows.clear();
    const plain = rows.filter((row) => !row.key.endsWith('/'));
    const keys: string[] = [];
    for await (const batch of read(fileOf(plain), 0)) keys.push(...batch.keys);
    expect(keys).toEqual(plain.map((row) => row.key));
    expect(decodedRows.get('key')).toBe(plain.length);
    expect(decodedRows.has('size')).toBe(false);
  });

  it('hands the selector the size of each key ending in /, resumed mid-page included', async () => {
    const seen: [string, number | undefined][] = [];
    const selector: RowSelector = {
      needsLastModified: false,
      accept: (key, size) => {
        seen.push([key, size]);
        return !key.endsWith('/') || size !== 0;
      },
    };
    const keys: string[] = [];
    for await (const batch of read(fileOf(rows), 12_345, selector)) keys.push(...batch.keys);
    const rest = rows.slice(12_345);
    expect(seen).toEqual(rest.map((row) => [row.key, row.key.endsWith('/') ? row.size : undefined]));
    expect(keys).toEqual(rest.filter((row) => !row.key.endsWith('/') || row.size !== 0).map((row) => row.key));
    expect(keys.length).toBe(rest.length - 2);
  });

  describe('a row group whose key column chunk is many times one ranged read', () => {
    // Hex digests barely compress: 150,000 of them make a key column chunk of several MiB in one row group.
    const bigRows: FixtureRow[] = Array.from({ length: 150_000 }, (_, i) => ({
      key: `h/${createHash('sha1').update(String(i)).digest('hex')}`,
    }));
    const body = parquetFile('source', bigRows, { rowGroupSize: 150_000, pageSize: 64 * 1024 });
    const file = {
      body,
      key: 'data/big.parquet',
      size: body.length,
      md5: createHash('md5').update(body).digest('hex'),
    };
    const readBig = (skipRows: number, rangeLengths: number[]) =>
      readParquetFile({
        client: oneObjectClient(body, rangeLengths),
        bucket: 'inventory',
        file,
        columns: { key: { index: 1, name: 'key' } },
        columnCount: 7,
        skipRows,
        selector: keepAll,
        requests: new RequestSignals(),
      });
    const keyChunkBytes = () => {
      const group = parquetMetadata(Uint8Array.from(body).buffer).row_groups[0];
      const key = group?.columns.find((c) => c.meta_data?.path_in_schema[0] === 'key');
      return Number(key?.meta_data?.total_compressed_size);
    };

    it('fetches the chunk in ranged reads of at most CHUNK_READ_BYTES, every key once and in order', async () => {
      expect(keyChunkBytes()).toBeGreaterThan(4 * CHUNK_READ_BYTES);
      const rangeLengths: number[] = [];
      const keys: string[] = [];
      for await (const batch of readBig(0, rangeLengths)) keys.push(...batch.keys);
      expect(keys).toEqual(bigRows.map((row) => row.key));
      expect(Math.max(...rangeLengths)).toBeLessThanOrEqual(CHUNK_READ_BYTES);
      expect(rangeLengths.reduce((sum, n) => sum + n, 0)).toBeGreaterThan(keyChunkBytes());
    });

    it('resumes mid-chunk, past several ranged reads, with the same bound', async () => {
      const rangeLengths: number[] = [];
      const keys: string[] = [];
      for await (const batch of readBig(123_457, rangeLengths)) keys.push(...batch.keys);
      expect(keys).toEqual(bigRows.slice(123_457).map((row) => row.key));
      expect(Math.max(...rangeLengths)).toBeLessThanOrEqual(CHUNK_READ_BYTES);
    });
  });
});
