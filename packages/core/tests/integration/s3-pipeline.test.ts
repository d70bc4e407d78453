import { randomUUID } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { defaultSeedBody, startS3Endpoint } from '@presign-pipeline/minio-testing';
import type { S3Endpoint } from '@presign-pipeline/minio-testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presignPipeline } from '../../src/pipeline.js';
import { s3ListSource } from '../../src/s3/s3-list-source.js';
import { s3ManifestWriter } from '../../src/s3/s3-manifest-writer.js';
import { sdkPresigner } from '../../src/s3/sdk-presigner.js';
import { suffixFilter } from '../../src/sources/filters.js';
import type { KeyPage } from '../../src/types.js';
import { expectedSignature } from '../unit/s3-sigv4-reference.js';
import { userClient } from './user-client.js';

/**
 * One 5,000-object prefix, seeded once for the whole file (moto stores about 180 objects/s), with mixed suffixes,
 * awkward keys, deep paths and directory markers; plus a few objects outside the prefix.
 */
const BUCKET = 'pipeline-data';
const PREFIX = 'data/';
const SEED_COUNT = 5000;
const PAGE_SIZE = 200;

const AWKWARD_NAMES = [
  'with space',
  'plus+sign',
  'per%cent',
  'hash#tag',
  'question?mark',
  'ünïcödé-漢字-😀',
  'a/b/c/d/e',
  'double//slash',
  'eq=amp&semi;',
  "bang!quote'paren()star*",
  'tilde~dollar$at@comma,colon:',
];
const SUFFIXES = ['.pdf', '.PDF', '.txt', '', '.Pdf', '.pdf.txt'];

/** The keys seeded under the prefix: objects (with a body) and zero-byte directory markers. */
function seededKeys(): { objects: string[]; markers: string[] } {
  const objects: string[] = [];
  for (let i = 0; objects.length < SEED_COUNT - 3; i++) {
    const name = AWKWARD_NAMES[i % AWKWARD_NAMES.length] ?? 'x';
    const suffix = SUFFIXES[Math.floor(i / AWKWARD_NAMES.length) % SUFFIXES.length] ?? '';
    objects.push(`${PREFIX}${String(i).padStart(5, '0')}/${name}${suffix}`);
  }
  return { objects, markers: [`${PREFIX}folder/`, `${PREFIX}00042/`, `${PREFIX}zz/empty/`] };
}

const isPdf = (key: string): boolean => key.toLowerCase().endsWith('.pdf');
const utf8Order = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** Runs `fn` over `items`, `limit` at a time. */
async function eachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

async function readObject(
  client: S3Client,
  bucket: string,
  key: string,
): Promise<{ text: string; contentType?: string }> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const text = (await out.Body?.transformToString('utf-8')) ?? '';
  return out.ContentType === undefined ? { text } : { text, contentType: out.ContentType };
}

async function uploadsLeft(client: S3Client, bucket: string, prefix: string): Promise<unknown[]> {
  const out = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  return out.Uploads ?? [];
}

describe('S3 parts against a real S3 API', () => {
  let endpoint: S3Endpoint;
  /** A client as users create it: default (WHEN_SUPPORTED) checksum settings. */
  let client: S3Client;
  const { objects, markers } = seededKeys();

  beforeAll(async () => {
    endpoint = await startS3Endpoint({ log: false });
    client = userClient(endpoint);
    await endpoint.createBucket(BUCKET);
    await endpoint.seed(BUCKET, [
      ...objects,
      ...markers.map((key) => ({ key, body: new Uint8Array(0) })),
      'other/outside.pdf',
      'dat',
      'data.pdf',
    ]);
  }, 240_000);

  afterAll(async () => {
    client?.destroy();
    await endpoint?.stop();
  });

  describe('s3ListSource', () => {
    it('lists the 5,000-key prefix in pages of 200, every key exactly as stored, markers skipped', async () => {
      // Act
      const pages: KeyPage[] = [];
      for await (const page of s3ListSource({ client, bucket: BUCKET, prefix: PREFIX, pageSize: PAGE_SIZE }).pages({
        signal: new AbortController().signal,
      })) {
        pages.push(page);
      }

      // Assess
      const keys = pages.flatMap((p) => p.keys);
      expect(pages.length).toBe(Math.ceil((objects.length + markers.length) / PAGE_SIZE));
      expect(pages.length).toBeGreaterThanOrEqual(25);
      expect(pages.slice(0, -1).every((p) => p.keys.length + markersIn(p) === PAGE_SIZE)).toBe(true);
      expect(keys).toEqual([...objects].sort(utf8Order));
      expect(keys.filter((k) => k.endsWith('/'))).toEqual([]);
      for (const name of AWKWARD_NAMES) expect(keys.some((k) => k.includes(`/${name}`))).toBe(true);
      // Each cursor is the page's last listed key: the next page starts right after it.
      for (let i = 1; i < pages.length; i++) {
        const cursor = pages[i - 1]?.cursor ?? '';
        expect(utf8Order(pages[i]?.keys[0] ?? '\u{10FFFF}', cursor)).toBeGreaterThan(0);
      }

      function markersIn(page: KeyPage): number {
        const first = page.keys[0] ?? '';
        return markers.filter((m) => utf8Order(m, first) >= 0 && utf8Order(m, page.cursor ?? '') <= 0).length;
      }
    });

    it('resumes after a cursor with startAfter, and keeps markers when asked', async () => {
      // Prepare: the cursor of the 10th page of an earlier listing.
      const sorted = [...objects, ...markers].sort(utf8Order);
      const cursor = sorted[10 * PAGE_SIZE - 1] ?? '';

      // Act
      const rest: string[] = [];
      for await (const page of s3ListSource({
        client,
        bucket: BUCKET,
        prefix: PREFIX,
        pageSize: 1000,
        startAfter: cursor,
        includeDirectoryMarkers: true,
      }).pages({ signal: new AbortController().signal })) {
        rest.push(...page.keys);
      }

      // Assess
      expect(rest).toEqual(sorted.slice(10 * PAGE_SIZE));
    });

    it('propagates NoSuchBucket unchanged', async () => {
      const listing = (async () => {
        for await (const page of s3ListSource({ client, bucket: 'no-such-bucket-here' }).pages({
          signal: new AbortController().signal,
        })) {
          void page;
        }
      })();
      await expect(listing).rejects.toMatchObject({ name: 'NoSuchBucket' });
    });
  });

  describe('presignPipeline with the S3 parts', () => {
    it('presigns every .pdf/.PDF key once into a JSONL manifest whose URLs all fetch the right bodies', async () => {
      // Prepare
      const signingDate = new Date();
      const keyPrefix = `manifests/${randomUUID()}/`;
      const expected = objects.filter(isPdf);

      // Act
      const result = await presignPipeline({
        source: s3ListSource({
          client,
          bucket: BUCKET,
          prefix: PREFIX,
          pageSize: PAGE_SIZE,
          filter: suffixFilter('.pdf'),
        }),
        presigner: sdkPresigner({ client, signingDate }),
        manifest: s3ManifestWriter({ client, bucket: BUCKET, keyPrefix }),
        concurrency: 8,
        expiresIn: 600,
      });

      // Assess: the result
      expect(result.count).toBe(expected.length);
      expect(result.errors).toBe(0);
      expect(result.pages).toBeGreaterThanOrEqual(25);
      expect(result.complete).toBe(true);
      expect(result.manifest.key?.startsWith(keyPrefix)).toBe(true);
      expect(result.manifest.location).toBe(`s3://${BUCKET}/${result.manifest.key}`);

      // Assess: the manifest object, read line by line
      const manifestKey = result.manifest.key ?? '';
      const { text, contentType } = await readObject(client, BUCKET, manifestKey);
      expect(contentType).toBe('application/x-ndjson');
      expect(Buffer.byteLength(text)).toBe(result.manifest.bytes);
      expect(text.endsWith('\n')).toBe(true);
      const lines = text.slice(0, -1).split('\n');
      const entries = lines.map((line) => {
        expect(line.startsWith('{"key":')).toBe(true);
        const parsed = JSON.parse(line) as { key: string; url: string };
        expect(Object.keys(parsed)).toEqual(['key', 'url']);
        return parsed;
      });
      const keys = entries.map((e) => e.key);
      expect(new Set(keys).size).toBe(keys.length);
      expect([...keys].sort(utf8Order)).toEqual([...expected].sort(utf8Order));

      // Assess: every URL is correctly signed (moto does not check signatures, so check them here), carries no
      // checksum or x-id parameter, and fetches exactly the object's body.
      const secret = endpoint.credentials.secretAccessKey;
      for (const { url } of entries) {
        const parsed = new URL(url);
        expect(parsed.searchParams.get('X-Amz-Signature')).toBe(expectedSignature(url, secret));
        expect([...parsed.searchParams.keys()].every((name) => name.startsWith('X-Amz-'))).toBe(true);
        expect(parsed.searchParams.get('X-Amz-Expires')).toBe('600');
      }
      let fetched = 0;
      await eachLimit(entries, 16, async ({ key, url }) => {
        const response = await fetch(url);
        expect(response.status, key).toBe(200);
        expect(await response.text(), key).toBe(defaultSeedBody(key));
        fetched += 1;
      });
      expect(fetched).toBe(expected.length);

      // Assess: the manifest's own URL fetches the manifest.
      const manifestResponse = await fetch(result.manifest.url ?? '');
      expect(await manifestResponse.text()).toBe(text);
      expect(await uploadsLeft(client, BUCKET, keyPrefix)).toEqual([]);
    }, 180_000);

    it('stores the manifest with the SSE setting asked for', async () => {
      const result = await presignPipeline({
        source: s3ListSource({ client, bucket: BUCKET, prefix: `${PREFIX}0000`, filter: suffixFilter('.pdf') }),
        presigner: sdkPresigner({ client }),
        manifest: s3ManifestWriter({
          client,
          bucket: BUCKET,
          keyPrefix: `manifests/${randomUUID()}/`,
          serverSideEncryption: 'AES256',
        }),
      });
      expect(result.count).toBeGreaterThan(0);
      const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: result.manifest.key ?? '' }));
      expect(head.ServerSideEncryption).toBe('AES256');
    });

    it('writes an empty (but valid) manifest when nothing matches', async () => {
      const result = await presignPipeline({
        source: s3ListSource({ client, bucket: BUCKET, prefix: 'nothing-here/' }),
        presigner: sdkPresigner({ client }),
        manifest: s3ManifestWriter({ client, bucket: BUCKET, keyPrefix: `manifests/${randomUUID()}/` }),
      });
      expect(result.count).toBe(0);
      expect(result.pages).toBe(1);
      expect(result.manifest.bytes).toBe(0);
      const { text, contentType } = await readObject(client, BUCKET, result.manifest.key ?? '');
      expect(text).toBe('');
      expect(contentType).toBe('application/x-ndjson');
      expect((await fetch(result.manifest.url ?? '')).status).toBe(200);
    });

    it('rejects with NoSuchBucket when the source bucket does not exist, leaving no upload behind', async () => {
      const keyPrefix = `manifests/${randomUUID()}/`;
      const run = presignPipeline({
        source: s3ListSource({ client, bucket: 'no-such-bucket-here' }),
        presigner: sdkPresigner({ client }),
        manifest: s3ManifestWriter({ client, bucket: BUCKET, keyPrefix }),
      });
      await expect(run).rejects.toMatchObject({ name: 'NoSuchBucket' });
      expect(await uploadsLeft(client, BUCKET, keyPrefix)).toEqual([]);
    });
  });
});
