import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client, startS3Endpoint } from '@presign-pipeline/minio-testing';
import type { S3Endpoint } from '@presign-pipeline/minio-testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryManifestWriter } from '../../src/manifest/memory-manifest-writer.js';
import { presignPipeline } from '../../src/pipeline.js';
import { fastPresigner } from '../../src/s3/fast-presigner.js';
import { s3ListSource } from '../../src/s3/s3-list-source.js';
import type { S3ListSourceOptions } from '../../src/s3/s3-list-source.js';
import { sdkPresigner } from '../../src/s3/sdk-presigner.js';
import type { KeyPage } from '../../src/types.js';

/**
 * Keys that a plain XML listing cannot carry or alters (carriage returns, other control characters), next to the
 * ones URL decoding could get wrong (`+`, spaces, `%`, text that looks like an escape), listed over HTTP from a
 * real S3 API and presigned: every key must come back byte for byte and every URL must fetch its object.
 */
const BUCKET = 'listing-encoding';
const PREFIX = 'enc/';

const NAMES = [
  'cr\rmid',
  'crlf\r\nmid',
  'lf\nmid',
  'trailing-cr\r',
  'soh\x01',
  'us\x1f',
  'del\x7f',
  'tab\tmid',
  'plus+sign',
  'with space',
  'both + and space',
  'per%cent',
  'looks-escaped%2B',
  'looks-escaped%0D',
  'looks-escaped%zz',
  'ünïcödé-漢字-😀',
  'xml<&>"\'',
];
/** Keys under sub-prefixes, for partitions by delimiter (the common prefixes need decoding too). */
const NESTED = ['dir\r/a', 'dir\n/a', 'dir+x/b', 'dir x/c', 'dir%2B/d', 'sub/\rkey', 'sub/\x01key'];

const KEYS = [...NAMES, ...NESTED].map((name) => `${PREFIX}${name}`);
/** A pair only a lossy listing confuses: with `\r` read as `\n`, the first key would be listed as the second. */
const CONFUSABLE = [`${PREFIX}pair\rx`, `${PREFIX}pair\nx`];
const ALL = [...KEYS, ...CONFUSABLE];

const utf8Order = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));
const SORTED = [...ALL].sort(utf8Order);
/** Each object's body names its key, so a URL that fetched another object would be caught. */
const bodyOf = (key: string): string => `object ${JSON.stringify(key)}\n`;

/** moto routes object paths with a regular expression that stops at a line feed: it can store and list such keys
 * (through a form upload), but not serve them by path. */
const hasLineFeed = (key: string): boolean => key.includes('\n');

/**
 * Stores an object with a browser-style form upload (POST to the bucket, the key in the form), for keys moto cannot
 * take in a path. The multipart body is written by hand: FormData would turn a lone `\n` into `\r\n`.
 */
async function postObject(endpoint: string, bucket: string, key: string, body: string): Promise<void> {
  const boundary = `----presign-pipeline-${Math.random().toString(16).slice(2)}`;
  const parts = [
    `--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\n`,
    key,
    `\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="object"\r\n`,
    'Content-Type: application/octet-stream\r\n\r\n',
    body,
    `\r\n--${boundary}--\r\n`,
  ];
  const response = await fetch(`${endpoint}/${bucket}`, {
    method: 'POST',
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    body: Buffer.concat(parts.map((part) => Buffer.from(part, 'utf8'))),
    signal: AbortSignal.timeout(10_000),
  });
  await response.arrayBuffer();
  if (response.status >= 300) throw new Error(`form upload of ${JSON.stringify(key)} failed: HTTP ${response.status}`);
}

async function collect(options: S3ListSourceOptions): Promise<KeyPage[]> {
  const pages: KeyPage[] = [];
  for await (const page of s3ListSource(options).pages({ signal: new AbortController().signal })) pages.push(page);
  return pages;
}

describe('keys that plain XML cannot carry, over a real S3 API', () => {
  let endpoint: S3Endpoint;
  let client: S3Client;

  beforeAll(async () => {
    endpoint = await startS3Endpoint({ log: false });
    client = createS3Client(endpoint);
    await endpoint.createBucket(BUCKET);
    const byPath = endpoint.kind === 'moto' ? ALL.filter((key) => !hasLineFeed(key)) : ALL;
    await endpoint.seed(
      BUCKET,
      byPath.map((key) => ({ key, body: bodyOf(key) })),
    );
    for (const key of ALL.filter((k) => !byPath.includes(k)))
      await postObject(endpoint.endpoint, BUCKET, key, bodyOf(key));
  }, 120_000);

  afterAll(async () => {
    client?.destroy();
    await endpoint?.stop();
  });

  it('(why) a plain listing from this server changes a carriage return into a line feed', async () => {
    // MinIO escapes a carriage return as a character reference, so its plain listings are exact; moto's are not,
    // which is what the encoded listing below must get right.
    const plain = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${PREFIX}pair` }));
    const keys = (plain.Contents ?? []).map((c) => c.Key);
    if (endpoint.kind === 'moto') expect(keys).toEqual([`${PREFIX}pair\nx`, `${PREFIX}pair\nx`]);
    else expect(keys).toHaveLength(2);
  });

  it('sequential listing returns every key byte for byte, pages of 3 with each cursor the decoded last key', async () => {
    // Act
    const pages = await collect({ client, bucket: BUCKET, prefix: PREFIX, pageSize: 3 });

    // Assess
    const keys = pages.flatMap((p) => p.keys);
    expect(keys).toEqual(SORTED);
    expect(keys.map((k) => Buffer.from(k).toString('hex'))).toEqual(SORTED.map((k) => Buffer.from(k).toString('hex')));
    expect(pages).toHaveLength(Math.ceil(SORTED.length / 3));
    for (const page of pages) expect(page.cursor).toBe(page.keys.at(-1));
  });

  it('resumes after a cursor holding a carriage return (sent back unencoded as StartAfter)', async () => {
    // Prepare: the cursor of a first run cut after the key "enc/pair\rx".
    const cursor = `${PREFIX}pair\rx`;
    const at = SORTED.indexOf(cursor);
    expect(at).toBeGreaterThanOrEqual(0);

    // Act
    const rest = (await collect({ client, bucket: BUCKET, prefix: PREFIX, pageSize: 2, startAfter: cursor })).flatMap(
      (p) => p.keys,
    );

    // Assess
    expect(rest).toEqual(SORTED.slice(at + 1));
  });

  it('partitions by delimiter list each key once, the common prefixes (dir\\r/, dir+x/, …) decoded', async () => {
    const pages = await collect({
      client,
      bucket: BUCKET,
      prefix: PREFIX,
      pageSize: 2,
      partitions: { by: 'delimiter', concurrency: 4 },
    });
    const keys = pages.flatMap((p) => p.keys);
    expect([...keys].sort(utf8Order)).toEqual(SORTED);
  });

  it('partitions by range at boundaries holding control characters list each key once', async () => {
    const boundaries = [`${PREFIX}dir\r`, `${PREFIX}pair\rx`, `${PREFIX}sub/\x01`];
    const pages = await collect({
      client,
      bucket: BUCKET,
      prefix: PREFIX,
      pageSize: 2,
      partitions: { by: 'range', boundaries },
    });
    const keys = pages.flatMap((p) => p.keys);
    expect([...keys].sort(utf8Order)).toEqual(SORTED);
  });

  it.each([
    ['sdkPresigner', () => sdkPresigner({ client })],
    ['fastPresigner', () => fastPresigner({ client })],
  ])('the pipeline (%s) presigns each key as stored, and each URL fetches its own object', async (_name, presigner) => {
    // Act
    const manifest = memoryManifestWriter();
    const result = await presignPipeline({
      source: s3ListSource({ client, bucket: BUCKET, prefix: PREFIX, pageSize: 4 }),
      presigner: presigner(),
      manifest,
      expiresIn: 300,
    });

    // Assess: one URL per stored key, for exactly the stored keys.
    expect(result.errors).toBe(0);
    expect(manifest.entries.map((e) => e.key).sort(utf8Order)).toEqual(SORTED);
    const servable = manifest.entries.filter((e) => endpoint.kind !== 'moto' || !hasLineFeed(e.key));
    expect(servable).toHaveLength(endpoint.kind === 'moto' ? ALL.filter((k) => !hasLineFeed(k)).length : ALL.length);
    for (const { key, url } of servable) {
      const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      expect(response.status, JSON.stringify(key)).toBe(200);
      expect(await response.text(), JSON.stringify(key)).toBe(bodyOf(key));
    }
    // The URLs of line-feed keys that moto cannot serve by path still name the key exactly.
    for (const { key, url } of manifest.entries.filter((e) => !servable.includes(e))) {
      const path = new URL(url).pathname;
      expect(decodeURIComponent(path.slice(path.indexOf('/', 1) + 1))).toBe(key);
    }
  });
});
