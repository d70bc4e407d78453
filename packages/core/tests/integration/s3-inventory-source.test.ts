import { getEventListeners } from 'node:events';
import { ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client, startS3Endpoint, type S3Endpoint } from '@presign-pipeline/minio-testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPresignPipelineError } from '../../src/errors.js';
import { s3InventorySource, type S3InventorySourceOptions } from '../../src/inventory/s3-inventory-source.js';
import { memoryManifestWriter } from '../../src/manifest/memory-manifest-writer.js';
import { presignPipeline } from '../../src/pipeline.js';
import { s3ManifestWriter } from '../../src/s3/s3-manifest-writer.js';
import { sdkPresigner } from '../../src/s3/sdk-presigner.js';
import { suffixFilter } from '../../src/sources/filters.js';
import type { KeyPage } from '../../src/types.js';
import {
  FULL_CSV_SCHEMA,
  PARQUET_SCHEMA,
  PLAIN_CSV_SCHEMA,
  csvGzipFile,
  parquetFile,
  putInventory,
  type FixtureRow,
} from '../inventory-fixtures.js';

/**
 * Inventory reports generated on a real S3 API (CSV-gzip and Parquet), read through s3InventorySource: awkward keys
 * come back byte for byte, versions and delete markers are sorted out, and every kind of bad report fails with its
 * code before anything is published.
 */
const SOURCE = 'inventoried-bucket';
const DEST = 'inventory-reports';

const AWKWARD = [
  'docs/with space.pdf',
  'docs/plus+sign.pdf',
  'docs/per%cent.pdf',
  'docs/looks-escaped%2B.pdf',
  'docs/ünïcödé-漢字-😀.pdf',
  'docs/line\nfeed.pdf',
  'docs/carriage\rreturn.pdf',
  'docs/comma,in,key.pdf',
  'docs/"quoted".pdf',
  "docs/it's.pdf",
  'docs/tab\there.pdf',
];

/** 2,500 plain keys plus the awkward ones, split over three data files. */
const PLAIN = Array.from({ length: 2500 }, (_, i) => `docs/${String(i).padStart(5, '0')}.pdf`);
const ROWS: FixtureRow[] = [...PLAIN, ...AWKWARD, 'docs/notes.txt', 'other/outside.pdf', 'docs/folder/'].map((key) => ({
  key,
  size: key.endsWith('/') ? 0 : 100,
}));
const thirds = (rows: readonly FixtureRow[]): FixtureRow[][] => [
  rows.slice(0, 900),
  rows.slice(900, 1800),
  rows.slice(1800),
];

const EXPECTED = [...PLAIN, ...AWKWARD];

async function collect(source: ReturnType<typeof s3InventorySource>): Promise<{ keys: string[]; pages: KeyPage[] }> {
  const pages: KeyPage[] = [];
  for await (const page of source.pages({ signal: new AbortController().signal })) pages.push(page);
  return { keys: pages.flatMap((p) => p.keys), pages };
}

describe('s3InventorySource over HTTP', () => {
  let endpoint: S3Endpoint;
  let client: S3Client;
  const source = (
    options: Partial<S3InventorySourceOptions> & { manifestKey: string },
  ): ReturnType<typeof s3InventorySource> => {
    const { manifestKey, ...rest } = options;
    return s3InventorySource({ client, manifest: { bucket: DEST, key: manifestKey }, bucket: SOURCE, ...rest });
  };
  const csvFiles = (prefix: string, rows: readonly FixtureRow[], schema = PLAIN_CSV_SCHEMA) =>
    thirds(rows).map((part, i) => ({
      key: `${prefix}/data/part-${i}.csv.gz`,
      body: csvGzipFile(SOURCE, part, schema),
    }));

  beforeAll(async () => {
    endpoint = await startS3Endpoint({ log: false });
    client = createS3Client(endpoint);
    await endpoint.createBucket(SOURCE);
    await endpoint.createBucket(DEST);
    await putInventory(client, {
      sourceBucket: SOURCE,
      destinationBucket: DEST,
      fileFormat: 'CSV',
      fileSchema: PLAIN_CSV_SCHEMA,
      files: csvFiles('csv', ROWS),
      manifestKey: 'csv/manifest.json',
    });
    await putInventory(client, {
      sourceBucket: SOURCE,
      destinationBucket: DEST,
      fileFormat: 'Parquet',
      fileSchema: PARQUET_SCHEMA,
      files: thirds(ROWS).map((part, i) => ({
        key: `parquet/data/part-${i}.parquet`,
        body: parquetFile(SOURCE, part, 400),
      })),
      manifestKey: 'parquet/manifest.json',
    });
  }, 120_000);

  afterAll(async () => {
    client?.destroy();
    await endpoint?.stop();
  });

  it.each(['csv', 'parquet'])(
    'yields every key of a %s inventory exactly once, byte for byte, decoded',
    async (format) => {
      const { keys, pages } = await collect(
        source({ manifestKey: `${format}/manifest.json`, prefix: 'docs/', filter: suffixFilter('.pdf') }),
      );
      expect(keys).toEqual(EXPECTED);
      expect(pages.every((p) => p.bucket === SOURCE)).toBe(true);
      // One page opens each data file; the others continue it.
      expect(pages.filter((p) => p.continues !== true)).toHaveLength(3);
    },
  );

  it('keeps zero-byte directory markers only when asked', async () => {
    const { keys } = await collect(
      source({ manifestKey: 'csv/manifest.json', prefix: 'docs/folder', includeDirectoryMarkers: true }),
    );
    expect(keys).toEqual(['docs/folder/']);
    expect((await collect(source({ manifestKey: 'csv/manifest.json', prefix: 'docs/folder' }))).keys).toEqual([]);
  });

  it.each(['csv', 'parquet'])(
    'resumes a %s inventory from any page cursor without a gap or a repeat',
    async (format) => {
      const all = await collect(source({ manifestKey: `${format}/manifest.json`, prefix: 'docs/' }));
      for (const cut of [0, Math.floor(all.pages.length / 2), all.pages.length - 2]) {
        const cursor = all.pages[cut]?.cursor as string;
        expect(cursor.startsWith('inv1.')).toBe(true);
        expect(cursor.length).toBeLessThan(4096);
        const before = all.pages.slice(0, cut + 1).flatMap((p) => p.keys);
        const after = await collect(
          source({ manifestKey: `${format}/manifest.json`, prefix: 'docs/', resumeToken: cursor }),
        );
        expect([...before, ...after.keys]).toEqual(all.keys);
      }
    },
  );

  it('runs a whole pipeline into an S3 manifest, counting data files as pages', async () => {
    const result = await presignPipeline({
      source: source({ manifestKey: 'csv/manifest.json', prefix: 'docs/', filter: suffixFilter('.pdf') }),
      presigner: sdkPresigner({ client }),
      manifest: memoryManifestWriter(),
      expiresIn: 600,
    });
    expect(result.count).toBe(EXPECTED.length);
    expect(result.pages).toBe(3);
    expect(result.complete).toBe(true);
  });

  describe('versions and dates', () => {
    const t = (iso: string): Date => new Date(iso);
    const versioned: FixtureRow[] = [
      { key: 'v/current.pdf', isLatest: true, versionId: 'v2', lastModified: t('2026-03-02T00:00:00Z') },
      { key: 'v/current.pdf', isLatest: false, versionId: 'v1', lastModified: t('2026-03-01T00:00:00Z') },
      {
        key: 'v/deleted.pdf',
        isLatest: true,
        isDeleteMarker: true,
        versionId: 'v3',
        lastModified: t('2026-03-03T00:00:00Z'),
      },
      { key: 'v/deleted.pdf', isLatest: false, versionId: 'v2', lastModified: t('2026-03-01T00:00:00Z') },
      { key: 'v/old.pdf', isLatest: true, versionId: 'v1', lastModified: t('2025-01-01T00:00:00Z') },
    ];

    beforeAll(async () => {
      await putInventory(client, {
        sourceBucket: SOURCE,
        destinationBucket: DEST,
        fileFormat: 'CSV',
        fileSchema: FULL_CSV_SCHEMA,
        files: [{ key: 'versions/data/0.csv.gz', body: csvGzipFile(SOURCE, versioned, FULL_CSV_SCHEMA) }],
        manifestKey: 'versions/manifest.json',
      });
      await putInventory(client, {
        sourceBucket: SOURCE,
        destinationBucket: DEST,
        fileFormat: 'Parquet',
        fileSchema: PARQUET_SCHEMA,
        files: [{ key: 'versions/data/0.parquet', body: parquetFile(SOURCE, versioned) }],
        manifestKey: 'versions/parquet-manifest.json',
      });
      await putInventory(client, {
        sourceBucket: SOURCE,
        destinationBucket: DEST,
        fileFormat: 'CSV',
        fileSchema: 'Bucket, Key, Size',
        files: [{ key: 'nodates/data/0.csv.gz', body: csvGzipFile(SOURCE, versioned, 'Bucket, Key, Size') }],
        manifestKey: 'nodates/manifest.json',
      });
    });

    it.each(['versions/manifest.json', 'versions/parquet-manifest.json'])(
      'yields only the latest version of live objects (%s)',
      async (manifestKey) => {
        expect((await collect(source({ manifestKey }))).keys).toEqual(['v/current.pdf', 'v/old.pdf']);
      },
    );

    it.each(['versions/manifest.json', 'versions/parquet-manifest.json'])(
      'cuts by LastModifiedDate (%s)',
      async (manifestKey) => {
        const after = await collect(source({ manifestKey, modifiedAfter: t('2026-01-01T00:00:00Z') }));
        expect(after.keys).toEqual(['v/current.pdf']);
        const before = await collect(source({ manifestKey, modifiedBefore: t('2026-01-01T00:00:00Z') }));
        expect(before.keys).toEqual(['v/old.pdf']);
      },
    );

    it('refuses a date cut-off on an inventory without LastModifiedDate', async () => {
      await expect(
        collect(source({ manifestKey: 'nodates/manifest.json', modifiedAfter: t('2026-01-01T00:00:00Z') })),
      ).rejects.toMatchObject({
        code: 'INVALID_INVENTORY_MANIFEST',
        message: expect.stringContaining('LastModifiedDate'),
      });
    });
  });

  describe('Parquet files larger than one read', () => {
    // 40,000 rows in row groups of 10,000, 25,000 and 5,000 rows, pages of about 4 kB: the reader decodes 4,096 rows
    // at a time, so reads end inside row groups and span two of them, and a resumed read starts pages into a column
    // chunk. Every column has its own page boundaries; versions, delete markers and dates are spread over the rows so
    // a column read out of step with the key column would select the wrong keys.
    const large: FixtureRow[] = Array.from({ length: 40_000 }, (_, i) => ({
      key: `big/${String(i).padStart(6, '0')}.pdf`,
      isLatest: i % 7 !== 3,
      isDeleteMarker: i % 11 === 5,
      size: 100 + i,
      lastModified: new Date(i % 3 === 0 ? '2025-06-01T00:00:00Z' : '2026-06-01T00:00:00Z'),
    }));
    const live = (row: FixtureRow) => row.isLatest === true && row.isDeleteMarker !== true;
    // With 1 MiB pages, a column's page holds a whole row group (up to 25,000 rows): reads end inside pages instead.
    const layouts = [
      ['snappy', { rowGroupSize: [10_000, 25_000, 5_000], pageSize: 4096 }],
      ['gzip', { rowGroupSize: [10_000, 25_000, 5_000], pageSize: 4096, gzip: true }],
      ['large-pages', { rowGroupSize: [10_000, 25_000, 5_000], pageSize: 1 << 20 }],
    ] as const;

    beforeAll(async () => {
      for (const [name, layout] of layouts) {
        await putInventory(client, {
          sourceBucket: SOURCE,
          destinationBucket: DEST,
          fileFormat: 'Parquet',
          fileSchema: PARQUET_SCHEMA,
          files: [{ key: `large-${name}/data/0.parquet`, body: parquetFile(SOURCE, large, layout) }],
          manifestKey: `large-${name}/manifest.json`,
        });
      }
    }, 120_000);

    it.each(layouts.map(([name]) => name))(
      'reads every row of a %s file once, 4,096 rows a page, columns in step',
      async (name) => {
        const { keys, pages } = await collect(source({ manifestKey: `large-${name}/manifest.json` }));
        expect(keys).toEqual(large.filter(live).map((row) => row.key));
        expect(pages).toHaveLength(10);
        const dated = await collect(
          source({ manifestKey: `large-${name}/manifest.json`, modifiedBefore: new Date('2026-01-01T00:00:00Z') }),
        );
        expect(dated.keys).toEqual(large.filter((row, i) => live(row) && i % 3 === 0).map((row) => row.key));
      },
    );

    it.each(layouts.map(([name]) => name))(
      'resumes a %s file inside a row group without a gap or a repeat',
      async (name) => {
        const all = await collect(source({ manifestKey: `large-${name}/manifest.json` }));
        for (const cut of [0, 1]) {
          const before = all.pages.slice(0, cut + 1).flatMap((p) => p.keys);
          const after = await collect(
            source({ manifestKey: `large-${name}/manifest.json`, resumeToken: all.pages[cut]?.cursor as string }),
          );
          expect([...before, ...after.keys]).toEqual(large.filter(live).map((row) => row.key));
        }
      },
    );
  });

  describe('abort listeners', () => {
    // Sixteen data files read sixteen at a time: the SDK adds an `abort` listener to the signal of every request in
    // flight, so reads sharing one signal would pile dozens onto it (Node warns past 10). The caller's own signal,
    // long-lived across many runs, must be left with none once each run ends.
    const FILES = 16;
    const RUNS = 12;
    const filesOf = (format: 'csv' | 'parquet') =>
      Array.from({ length: FILES }, (_, i) => {
        const rows = ROWS.slice(i * 20, i * 20 + 20);
        return format === 'csv'
          ? { key: `many-csv/data/${i}.csv.gz`, body: csvGzipFile(SOURCE, rows) }
          : { key: `many-parquet/data/${i}.parquet`, body: parquetFile(SOURCE, rows, 10) };
      });

    beforeAll(async () => {
      for (const [format, fileFormat, fileSchema] of [
        ['csv', 'CSV', PLAIN_CSV_SCHEMA],
        ['parquet', 'Parquet', PARQUET_SCHEMA],
      ] as const) {
        await putInventory(client, {
          sourceBucket: SOURCE,
          destinationBucket: DEST,
          fileFormat,
          fileSchema,
          files: filesOf(format),
          manifestKey: `many-${format}/manifest.json`,
        });
      }
    }, 120_000);

    it.each(['csv', 'parquet'])(
      'reads %s files sixteen at a time with no listener pile-up, and leaves none on the caller signal after each run',
      async (format) => {
        const warnings: string[] = [];
        const onWarning = (warning: Error): void => {
          if (warning.name === 'MaxListenersExceededWarning') warnings.push(warning.message);
        };
        process.on('warning', onWarning);
        try {
          const caller = new AbortController().signal;
          const counts: number[] = [];
          for (let run = 0; run < RUNS; run += 1) {
            const pages: KeyPage[] = [];
            const inventory = source({ manifestKey: `many-${format}/manifest.json`, concurrency: FILES });
            for await (const page of inventory.pages({ signal: caller })) pages.push(page);
            expect(pages.flatMap((p) => p.keys)).toEqual(ROWS.slice(0, FILES * 20).map((row) => row.key));
            counts.push(getEventListeners(caller, 'abort').length);
          }
          // Warnings are emitted on a later tick.
          await new Promise((resolve) => setImmediate(resolve));
          expect(counts).toEqual(Array.from({ length: RUNS }, () => 0));
          expect(warnings).toEqual([]);
        } finally {
          process.off('warning', onWarning);
        }
      },
    );
  });

  describe('bad reports', () => {
    const rows = ROWS.slice(0, 50);
    const put = (name: string, overrides: Partial<Parameters<typeof putInventory>[1]> = {}) =>
      putInventory(client, {
        sourceBucket: SOURCE,
        destinationBucket: DEST,
        fileFormat: 'CSV',
        fileSchema: PLAIN_CSV_SCHEMA,
        files: [{ key: `${name}/data/0.csv.gz`, body: csvGzipFile(SOURCE, rows) }],
        manifestKey: `${name}/manifest.json`,
        ...overrides,
      });

    beforeAll(async () => {
      await put('foreign', { sourceBucket: 'someone-elses-bucket' });
      await put('orc', { fileFormat: 'ORC', fileSchema: 'struct<bucket:string,key:string>' });
      await put('unknown-format', { fileFormat: 'JSONL' });
      await put('no-key', { fileSchema: 'Bucket, Name, Size, LastModifiedDate, ETag, StorageClass' });
      await put('corrupt', {
        files: [
          { key: 'corrupt/data/0.csv.gz', body: csvGzipFile(SOURCE, rows) },
          { key: 'corrupt/data/1.csv.gz', body: csvGzipFile(SOURCE, rows), md5: '0123456789abcdef0123456789abcdef' },
        ],
      });
      await put('corrupt-parquet', {
        fileFormat: 'Parquet',
        fileSchema: PARQUET_SCHEMA,
        files: [
          {
            key: 'corrupt-parquet/data/0.parquet',
            body: parquetFile(SOURCE, rows),
            md5: '0123456789abcdef0123456789abcdef',
          },
        ],
      });
      await put('missing', { skipUpload: ['missing/data/0.csv.gz'] });
      // A versioned report's second data file, described by a non-versioned schema: 9 fields where it names 6.
      await put('mismatch', {
        files: [
          { key: 'mismatch/data/0.csv.gz', body: csvGzipFile(SOURCE, rows) },
          { key: 'mismatch/data/1.csv.gz', body: csvGzipFile(SOURCE, rows, FULL_CSV_SCHEMA) },
        ],
      });
    });

    const failure = async (manifestKey: string): Promise<unknown> => {
      try {
        await collect(source({ manifestKey }));
      } catch (error) {
        return error;
      }
      throw new Error('expected the inventory to be refused');
    };

    it.each([
      ['foreign/manifest.json', 'INVALID_INVENTORY_MANIFEST', 'someone-elses-bucket'],
      ['orc/manifest.json', 'UNSUPPORTED_INVENTORY_FORMAT', 'ORC'],
      ['unknown-format/manifest.json', 'UNSUPPORTED_INVENTORY_FORMAT', 'JSONL'],
      ['no-key/manifest.json', 'INVALID_INVENTORY_MANIFEST', 'no Key column'],
      ['corrupt/manifest.json', 'INVENTORY_CHECKSUM_MISMATCH', 'corrupt/data/1.csv.gz'],
      ['corrupt-parquet/manifest.json', 'INVENTORY_CHECKSUM_MISMATCH', 'corrupt-parquet/data/0.parquet'],
      ['missing/manifest.json', 'INVALID_INVENTORY_MANIFEST', 'missing/data/0.csv.gz'],
      ['mismatch/manifest.json', 'INVALID_INVENTORY_MANIFEST', 'mismatch/data/1.csv.gz'],
      ['mismatch/manifest.json', 'INVALID_INVENTORY_MANIFEST', "record 1 has 9 fields, the manifest's fileSchema 6"],
      ['absent/manifest.json', 'INVALID_INVENTORY_MANIFEST', 'absent/manifest.json'],
    ])('%s fails with %s naming %s', async (manifestKey, code, named) => {
      const error = await failure(manifestKey);
      expect(isPresignPipelineError(error)).toBe(true);
      expect(error).toMatchObject({ code, message: expect.stringContaining(named) });
    });

    it('a manifest read from a bucket other than its destination is refused', async () => {
      await endpoint.createBucket('elsewhere');
      await putInventory(client, {
        sourceBucket: SOURCE,
        destinationBucket: DEST,
        fileFormat: 'CSV',
        fileSchema: PLAIN_CSV_SCHEMA,
        files: [],
        manifestKey: 'moved/manifest.json',
      });
      const { CopyObjectCommand } = await import('@aws-sdk/client-s3');
      await client.send(
        new CopyObjectCommand({ Bucket: 'elsewhere', Key: 'manifest.json', CopySource: `${DEST}/moved/manifest.json` }),
      );
      const moved = s3InventorySource({ client, manifest: { bucket: 'elsewhere', key: 'manifest.json' } });
      await expect(collect(moved)).rejects.toMatchObject({
        code: 'INVALID_INVENTORY_MANIFEST',
        message: expect.stringContaining(DEST),
      });
    });

    it('a checksum mismatch found mid-run leaves no manifest object behind', async () => {
      const before = await client.send(new ListObjectsV2Command({ Bucket: SOURCE, Prefix: 'manifests/' }));
      await expect(
        presignPipeline({
          source: source({ manifestKey: 'corrupt/manifest.json' }),
          presigner: sdkPresigner({ client }),
          manifest: s3ManifestWriter({
            client,
            bucket: SOURCE,
            keyPrefix: 'manifests/',
            presigner: sdkPresigner({ client }),
          }),
          queueMax: 10,
        }),
      ).rejects.toMatchObject({ code: 'INVENTORY_CHECKSUM_MISMATCH' });
      const after = await client.send(new ListObjectsV2Command({ Bucket: SOURCE, Prefix: 'manifests/' }));
      expect(after.KeyCount ?? 0).toBe(before.KeyCount ?? 0);
    });

    it('a row whose field count differs from the schema fails the run with no manifest and no upload left', async () => {
      const manifests = async () =>
        (await client.send(new ListObjectsV2Command({ Bucket: SOURCE, Prefix: 'manifests/' }))).KeyCount ?? 0;
      const before = await manifests();
      await expect(
        presignPipeline({
          source: source({ manifestKey: 'mismatch/manifest.json' }),
          presigner: sdkPresigner({ client }),
          manifest: s3ManifestWriter({
            client,
            bucket: SOURCE,
            keyPrefix: 'manifests/',
            presigner: sdkPresigner({ client }),
          }),
          queueMax: 10,
        }),
      ).rejects.toMatchObject({ code: 'INVALID_INVENTORY_MANIFEST', message: expect.stringContaining('record 1') });
      expect(await manifests()).toBe(before);
      const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: SOURCE }));
      expect(uploads.Uploads ?? []).toEqual([]);
    });

    it('a resume token of another inventory is refused', async () => {
      const { pages } = await collect(source({ manifestKey: 'csv/manifest.json' }));
      const token = pages[0]?.cursor as string;
      await expect(
        collect(source({ manifestKey: 'versions/manifest.json', resumeToken: token })),
      ).rejects.toMatchObject({
        code: 'INVALID_RESUME_TOKEN',
      });
    });
  });
});
