import { describe, expect, it } from 'vitest';
import { checkInventoryManifest, schemaColumns } from '../../src/inventory/manifest.js';
import { decodeInventoryToken, encodeInventoryToken, resumePosition } from '../../src/inventory/resume-token.js';
import { s3InventorySource } from '../../src/inventory/s3-inventory-source.js';
import { PARQUET_SCHEMA } from '../inventory-fixtures.js';

const WHERE = { bucket: 'dest', key: 'src/daily/2026-04-01T01-00Z/manifest.json' };
const FILE = { key: 'src/daily/data/a.csv.gz', size: 10, MD5checksum: 'F11166069F1990ABEB9C97ACE9CDFABC' };
const valid = {
  sourceBucket: 'src',
  destinationBucket: 'arn:aws:s3:::dest',
  version: '2016-11-30',
  fileFormat: 'CSV',
  fileSchema: 'Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate',
  files: [FILE],
};

describe('checkInventoryManifest', () => {
  it('finds the columns of a CSV schema by position', () => {
    const manifest = checkInventoryManifest(valid, WHERE, 'src');
    expect(manifest.columns.key).toEqual({ index: 1, name: 'Key' });
    expect(manifest.columns.isLatest?.index).toBe(3);
    expect(manifest.columns.lastModified?.index).toBe(6);
    expect(manifest.columnCount).toBe(7);
    expect(manifest.files).toEqual([{ key: FILE.key, size: 10, md5: FILE.MD5checksum.toLowerCase() }]);
    expect(manifest.dataBucket).toBe('dest');
  });

  it('finds the columns of a Parquet schema by name', () => {
    expect(schemaColumns('Parquet', PARQUET_SCHEMA)).toEqual([
      'bucket',
      'key',
      'version_id',
      'is_latest',
      'is_delete_marker',
      'size',
      'last_modified_date',
    ]);
    const manifest = checkInventoryManifest({ ...valid, fileFormat: 'Parquet', fileSchema: PARQUET_SCHEMA }, WHERE);
    expect(manifest.columns.key.name).toBe('key');
    expect(manifest.columns.isDeleteMarker?.name).toBe('is_delete_marker');
  });

  it.each([
    [{ ...valid, sourceBucket: 'other' }, 'INVALID_INVENTORY_MANIFEST', 'lists bucket other, not src'],
    [{ ...valid, destinationBucket: 'arn:aws:s3:::elsewhere' }, 'INVALID_INVENTORY_MANIFEST', 'elsewhere'],
    [{ ...valid, fileFormat: 'ORC' }, 'UNSUPPORTED_INVENTORY_FORMAT', 'ORC'],
    [{ ...valid, fileFormat: 'Avro' }, 'UNSUPPORTED_INVENTORY_FORMAT', 'Avro'],
    [{ ...valid, fileSchema: 'Bucket, Size' }, 'INVALID_INVENTORY_MANIFEST', 'no Key column'],
    [{ ...valid, fileSchema: undefined }, 'INVALID_INVENTORY_MANIFEST', 'fileSchema'],
    [{ ...valid, files: 'x' }, 'INVALID_INVENTORY_MANIFEST', 'files must be an array'],
    [{ ...valid, files: [{ ...FILE, MD5checksum: 'nothex' }] }, 'INVALID_INVENTORY_MANIFEST', 'files[0].MD5checksum'],
    [{ ...valid, files: [{ ...FILE, size: -1 }] }, 'INVALID_INVENTORY_MANIFEST', 'files[0].size'],
    [{ ...valid, files: [{ ...FILE, key: '' }] }, 'INVALID_INVENTORY_MANIFEST', 'files[0].key'],
    [[1, 2], 'INVALID_INVENTORY_MANIFEST', 'not a JSON object'],
  ])('refuses %j with %s', (json, code, named) => {
    expect(() => checkInventoryManifest(json, WHERE, 'src')).toThrow(
      expect.objectContaining({ code, message: expect.stringContaining(named) }),
    );
  });
});

describe('inventory resume tokens', () => {
  const manifest = checkInventoryManifest(valid, WHERE);

  it('round-trip a position, tagged and short', () => {
    const token = encodeInventoryToken({ file: 0, row: 123_456_789 }, manifest.files[0]?.md5 as string);
    expect(token.startsWith('inv1.')).toBe(true);
    expect(token.length).toBeLessThan(100);
    expect(resumePosition(token, manifest)).toEqual({ file: 0, row: 123_456_789 });
  });

  it.each([
    ['start_after-like', 'docs/a.pdf'],
    ['not base64 JSON', 'inv1.!!!'],
    ['negative row', encodeInventoryToken({ file: 0, row: -1 }, 'x')],
  ])('refuses a token that is %s', (_, token) => {
    expect(() => decodeInventoryToken(token)).toThrow(expect.objectContaining({ code: 'INVALID_RESUME_TOKEN' }));
  });

  it('refuses a token of another inventory', () => {
    const token = encodeInventoryToken({ file: 0, row: 1 }, '0'.repeat(32));
    expect(() => resumePosition(token, manifest)).toThrow(expect.objectContaining({ code: 'INVALID_RESUME_TOKEN' }));
    const beyond = encodeInventoryToken({ file: 5, row: 1 }, manifest.files[0]?.md5 as string);
    expect(() => resumePosition(beyond, manifest)).toThrow(expect.objectContaining({ code: 'INVALID_RESUME_TOKEN' }));
  });
});

describe('s3InventorySource options', () => {
  const client = { send: async () => ({}) } as never;
  it.each([
    [{ client, manifest: { bucket: '', key: 'k' } }, /manifest.bucket/],
    [{ client, manifest: { bucket: 'b' } }, /manifest.key/],
    [{ client, manifest: 's3://b/k' }, /manifest must be/],
    [{ client: {}, manifest: { bucket: 'b', key: 'k' } }, /client/],
    [{ client, manifest: { bucket: 'b', key: 'k' }, concurrency: 0 }, /concurrency/],
    [{ client, manifest: { bucket: 'b', key: 'k' }, prefix: 3 }, /prefix/],
    [{ client, manifest: { bucket: 'b', key: 'k' }, filter: 'x' }, /filter/],
    [{ client, manifest: { bucket: 'b', key: 'k' }, modifiedAfter: 'yesterday' }, /modifiedAfter/],
    [{ client, manifest: { bucket: 'b', key: 'k' }, modifiedBefore: new Date('nope') }, /modifiedBefore/],
  ])('refuses %j when created', (options, named) => {
    expect(() => s3InventorySource(options as never)).toThrow(named);
  });
});
