import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { ListObjectsV2CommandInput, S3Client } from '@aws-sdk/client-s3';
import { createS3Client, startFaultProxy, startS3Endpoint } from '@presign-pipeline/minio-testing';
import type { S3Endpoint } from '@presign-pipeline/minio-testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryManifestWriter } from '../../src/manifest/memory-manifest-writer.js';
import { presignPipeline } from '../../src/pipeline.js';
import { listObjectsCommand } from '../../src/s3/list-objects.js';
import { s3ListSource } from '../../src/s3/s3-list-source.js';
import type { S3ListSourceOptions } from '../../src/s3/s3-list-source.js';
import { suffixFilter } from '../../src/sources/filters.js';
import type { KeyPage } from '../../src/types.js';

/**
 * Partitioned listing against a real S3 API: 16 sub-prefixes of uneven size, keys directly under the prefix, awkward
 * names (including the characters on which UTF-16 and UTF-8 order disagree), directory markers, and neighbours
 * outside the prefix. Seeded once for the file (moto stores about 180 objects/s).
 */
const BUCKET = 'partitioned-listing';
const PREFIX = 'data/';

const AWKWARD = [
  'with space',
  'plus+sign',
  'per%cent',
  'hash#tag',
  'ünïcödé-漢字',
  'emoji-😀',
  'fullwidth-\uff01',
  'a/b/c',
  'double//slash',
];

function seededKeys(): { objects: string[]; markers: string[]; outside: string[] } {
  const objects: string[] = [];
  for (let p = 0; p < 16; p++) {
    const sub = `${PREFIX}${String(p).padStart(2, '0')}/`;
    const count = 60 + p * 20; // 60 … 360: uneven partitions
    for (let i = 0; i < count; i++) {
      const name = AWKWARD[i % AWKWARD.length] ?? 'x';
      objects.push(`${sub}${String(i).padStart(4, '0')}-${name}${i % 3 === 0 ? '.pdf' : '.txt'}`);
    }
  }
  // Keys directly under the prefix, and ones whose order differs between UTF-16 and UTF-8.
  for (let i = 0; i < 40; i++) objects.push(`${PREFIX}top-${String(i).padStart(3, '0')}.pdf`);
  objects.push(`${PREFIX}\uff01-top.pdf`, `${PREFIX}😀-top.pdf`, `${PREFIX}07/\uffe0.pdf`, `${PREFIX}07/😀.pdf`);
  return {
    objects,
    markers: [PREFIX, `${PREFIX}03/`, `${PREFIX}empty-folder/`],
    outside: ['dat', 'data', 'data.pdf', 'datb/x.pdf', 'other/data/01/x.pdf'],
  };
}

const utf8Order = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));
const sortedUtf8 = (keys: readonly string[]): string[] => [...keys].sort(utf8Order);

async function collect(options: S3ListSourceOptions, signal = new AbortController().signal): Promise<KeyPage[]> {
  const pages: KeyPage[] = [];
  for await (const page of s3ListSource(options).pages({ signal })) pages.push(page);
  return pages;
}

/** Asserts each page holds keys of one partition and each partition's keys come out in S3 order. */
function expectPartitionOrder(pages: readonly KeyPage[], partitionOf: (key: string) => string): Map<string, string[]> {
  const perPartition = new Map<string, string[]>();
  for (const page of pages) {
    expect(new Set(page.keys.map(partitionOf)).size).toBeLessThanOrEqual(1);
    for (const key of page.keys) {
      const list = perPartition.get(partitionOf(key)) ?? [];
      list.push(key);
      perPartition.set(partitionOf(key), list);
    }
  }
  for (const keys of perPartition.values()) expect(keys).toEqual(sortedUtf8(keys));
  return perPartition;
}

describe('s3ListSource partitions against a real S3 API', () => {
  let endpoint: S3Endpoint;
  let client: S3Client;
  const { objects, markers, outside } = seededKeys();
  let sequential: string[];

  beforeAll(async () => {
    endpoint = await startS3Endpoint({ log: false });
    client = createS3Client(endpoint);
    await endpoint.createBucket(BUCKET);
    await endpoint.seed(BUCKET, [...objects, ...markers.map((key) => ({ key, body: new Uint8Array(0) })), ...outside]);
    const pages = await collect({ client, bucket: BUCKET, prefix: PREFIX, pageSize: 1000 });
    sequential = pages.flatMap((p) => p.keys);
  }, 300_000);

  afterAll(async () => {
    client?.destroy();
    await endpoint?.stop();
  });

  it('sequential listing (the reference) holds every seeded object under the prefix, in UTF-8 order', () => {
    expect(objects.length).toBeGreaterThan(3000);
    expect(sequential).toEqual(sortedUtf8(objects));
  });

  it("reads this server's ListObjectsV2 responses with the lean reader, agreeing with the SDK page by page", async () => {
    // Prepare
    const pages: ListObjectsV2CommandInput[] = [
      { Bucket: BUCKET, Prefix: PREFIX, MaxKeys: 500 },
      { Bucket: BUCKET, Prefix: PREFIX, Delimiter: '/', MaxKeys: 10 },
      // What the key sources send: encoded keys, which the lean reader reads too.
      { Bucket: BUCKET, Prefix: PREFIX, MaxKeys: 500, EncodingType: 'url' },
      { Bucket: BUCKET, Prefix: PREFIX, Delimiter: '/', MaxKeys: 10, EncodingType: 'url' },
    ];
    for (const first of pages) {
      let input: ListObjectsV2CommandInput = first;
      for (;;) {
        // Act
        const sdk = await client.send(new ListObjectsV2Command(input));
        const lean = await client.send(listObjectsCommand(input));

        // Assess: same keys, sizes, prefixes and token; no LastModified, so the SDK deserializer did not read it.
        expect(lean.Contents?.map((c) => [c.Key, c.Size])).toEqual(sdk.Contents?.map((c) => [c.Key, c.Size]));
        expect(lean.CommonPrefixes?.map((c) => c.Prefix)).toEqual(sdk.CommonPrefixes?.map((c) => c.Prefix));
        expect([lean.IsTruncated, lean.NextContinuationToken, lean.EncodingType]).toEqual([
          sdk.IsTruncated,
          sdk.NextContinuationToken,
          sdk.EncodingType,
        ]);
        for (const object of lean.Contents ?? []) expect(object).not.toHaveProperty('LastModified');
        if (!sdk.IsTruncated) break;
        input = { ...first, ContinuationToken: sdk.NextContinuationToken };
      }
    }
  }, 120_000);

  it('by delimiter: the same keys as sequential listing, each once, each partition in order', async () => {
    // Act
    const pages = await collect({
      client,
      bucket: BUCKET,
      prefix: PREFIX,
      pageSize: 100,
      partitions: { by: 'delimiter', concurrency: 8 },
    });

    // Assess
    const listed = pages.flatMap((p) => p.keys);
    expect(listed).toHaveLength(sequential.length);
    expect(sortedUtf8(listed)).toEqual(sequential);
    const perPartition = expectPartitionOrder(pages, (key) => {
      const at = key.indexOf('/', PREFIX.length);
      return at === -1 ? '(directly under the prefix)' : key.slice(0, at + 1);
    });
    // 16 sub-prefixes (one of them holding only a marker is empty) and the keys directly under the prefix.
    expect(perPartition.size).toBe(17);
    expect(perPartition.get('(directly under the prefix)')).toHaveLength(42);
    expect(pages.every((p) => !('cursor' in p))).toBe(true);
  }, 120_000);

  it('by range: the same keys as sequential listing, each once, boundary keys included, across UTF-8/UTF-16 disagreements', async () => {
    // Prepare: boundaries that are existing keys (every 400th), one between the U+FFE0 and U+1F600 keys, and some
    // that exist nowhere.
    const existing = sequential.filter((_, i) => i % 400 === 399);
    const boundaries = sortedUtf8([
      ...existing,
      `${PREFIX}07/\ufffd`,
      `${PREFIX}00/`,
      `${PREFIX}12/0100`,
      `${PREFIX}zzz`,
    ]);
    expect(new Set(boundaries).size).toBe(boundaries.length);

    // Act
    const pages = await collect({
      client,
      bucket: BUCKET,
      prefix: PREFIX,
      pageSize: 100,
      partitions: { by: 'range', boundaries, concurrency: 8 },
    });

    // Assess
    const listed = pages.flatMap((p) => p.keys);
    expect(listed).toHaveLength(sequential.length);
    expect(sortedUtf8(listed)).toEqual(sequential);
    for (const boundary of existing) expect(listed.filter((k) => k === boundary)).toHaveLength(1);
    const rangeOf = (key: string): string => String(boundaries.findIndex((b) => utf8Order(key, b) <= 0));
    const perRange = expectPartitionOrder(pages, rangeOf);
    expect(perRange.get(rangeOf(`${PREFIX}07/\uffe0.pdf`))).toContain(`${PREFIX}07/\uffe0.pdf`);
    expect(rangeOf(`${PREFIX}07/\uffe0.pdf`)).not.toBe(rangeOf(`${PREFIX}07/😀.pdf`));
  }, 120_000);

  it('applies the filter and keeps directory markers when asked, as sequential listing does', async () => {
    // Prepare
    const base = { client, bucket: BUCKET, prefix: PREFIX, pageSize: 250 };
    const withMarkers = { ...base, includeDirectoryMarkers: true };

    // Act
    const pdfs = await collect({ ...base, filter: suffixFilter('.pdf'), partitions: { by: 'delimiter' } });
    const all = await collect({
      ...withMarkers,
      partitions: { by: 'range', boundaries: [`${PREFIX}05`, `${PREFIX}10`] },
    });
    const allSequential = await collect(withMarkers);

    // Assess
    expect(sortedUtf8(pdfs.flatMap((p) => p.keys))).toEqual(sequential.filter((k) => k.endsWith('.pdf')));
    expect(sortedUtf8(all.flatMap((p) => p.keys))).toEqual(allSequential.flatMap((p) => p.keys));
    expect(all.flatMap((p) => p.keys)).toEqual(expect.arrayContaining(markers));
  }, 120_000);

  it('feeds the pipeline: every key presigned once', async () => {
    // Prepare
    const manifest = memoryManifestWriter();
    const presigner = {
      presign: async ({ key }: { key: string }) => `https://example.invalid/${encodeURIComponent(key)}`,
    };

    // Act
    const result = await presignPipeline({
      source: s3ListSource({ client, bucket: BUCKET, prefix: PREFIX, pageSize: 200, partitions: { by: 'delimiter' } }),
      presigner,
      manifest,
    });

    // Assess
    expect(result).toMatchObject({ complete: true, count: sequential.length, errors: 0 });
    expect(sortedUtf8(manifest.entries.map((e) => e.key))).toEqual(sequential);
  }, 120_000);

  it('fails with the S3 error, unchanged, when a bucket does not exist', async () => {
    await expect(
      collect({
        client,
        bucket: 'no-such-bucket-here',
        prefix: PREFIX,
        partitions: { by: 'range', boundaries: [`${PREFIX}5`] },
      }),
    ).rejects.toMatchObject({ name: 'NoSuchBucket' });
  }, 60_000);

  it('stops a failing partition listing at once and leaves no request behind (500s through a fault proxy)', async () => {
    // Prepare: every request is slowed down; the fourth ListObjectsV2 fails, without retries.
    await using proxy = await startFaultProxy({
      target: endpoint,
      rules: [
        { fault: 'delay', delayMs: 20 },
        { fault: 'internal-error', operation: 'ListObjectsV2', after: 3, times: 1 },
      ],
    });
    const proxied = createS3Client({ ...endpoint, endpoint: proxy.endpoint }, { maxAttempts: 1 });
    try {
      // Act
      const error = await collect({
        client: proxied,
        bucket: BUCKET,
        prefix: PREFIX,
        pageSize: 20,
        partitions: { by: 'delimiter', concurrency: 4 },
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      const sentAtFailure = proxy.hits.total;
      await new Promise((resolve) => setTimeout(resolve, 200));

      // Assess: the S3 error came out; no request was sent after it.
      expect(error).toMatchObject({ name: 'InternalError' });
      expect(proxy.hits.total).toBe(sentAtFailure);
      expect(sentAtFailure).toBeLessThan(20);
    } finally {
      proxied.destroy();
    }
  }, 60_000);
});
