import { randomUUID } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import type { MultipartUpload, S3Client } from '@aws-sdk/client-s3';
import { startS3Endpoint } from '@presign-pipeline/minio-testing';
import type { S3Endpoint } from '@presign-pipeline/minio-testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { presignPipeline } from '../../src/pipeline.js';
import { s3ListSource } from '../../src/s3/s3-list-source.js';
import { s3ManifestWriter } from '../../src/s3/s3-manifest-writer.js';
import { arrayKeySource } from '../../src/sources/array-key-source.js';
import type { KeyPage, KeySource, ManifestEntry, Presigner } from '../../src/types.js';
import { userClient } from './user-client.js';

const BUCKET = 'manifest-tests';
const MIB = 1024 * 1024;
const PART = 5 * MIB;

/**
 * A presigner that costs nothing, so these tests can write manifests of tens of megabytes quickly: the URLs are
 * fake but long, like real ones with a session token. What is under test here is the manifest's storage.
 */
const cheapPresigner: Presigner = {
  presign: async ({ key }) => `https://example.invalid/${encodeURIComponent(key)}?X-Amz-Signature=${'f'.repeat(600)}`,
};

/** Keys whose lines are about 700 bytes: 1,000 keys ≈ 0.7 MB of manifest. */
function generatedKeys(page: number, count = 1000): string[] {
  return Array.from(
    { length: count },
    (_, i) => `gen/${String(page).padStart(4, '0')}/${String(i).padStart(4, '0')}.pdf`,
  );
}

async function uploadsUnder(client: S3Client, prefix: string): Promise<MultipartUpload[]> {
  const out = await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: prefix }));
  return out.Uploads ?? [];
}

async function objectsUnder(client: S3Client, prefix: string): Promise<string[]> {
  const out = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key ?? '');
}

/**
 * A source that yields `pages` pages of generated keys, then waits (bounded) until the manifest's multipart upload
 * exists on the server, records that it saw it, and goes on with `then`.
 */
function sourceThatWaitsForUpload(
  client: S3Client,
  keyPrefix: string,
  pages: number,
  then: (signal: AbortSignal) => AsyncIterable<KeyPage>,
): KeySource & { sawUpload: () => boolean } {
  let saw = false;
  return {
    bucket: BUCKET,
    sawUpload: () => saw,
    async *pages({ signal }) {
      for (let p = 0; p < pages; p++) yield { bucket: BUCKET, keys: generatedKeys(p) };
      await vi.waitFor(async () => expect(await uploadsUnder(client, keyPrefix)).toHaveLength(1), {
        timeout: 20_000,
        interval: 50,
      });
      saw = true;
      yield* then(signal);
    },
  };
}

describe('s3ManifestWriter against a real S3 API', () => {
  let endpoint: S3Endpoint;
  /** A client as users create it: default (WHEN_SUPPORTED) checksums, so multipart parts carry CRC32. */
  let client: S3Client;

  beforeAll(async () => {
    endpoint = await startS3Endpoint({ log: false });
    client = userClient(endpoint);
    await endpoint.createBucket(BUCKET);
  }, 60_000);

  afterAll(async () => {
    client?.destroy();
    await endpoint?.stop();
  });

  it('streams a ~20 MB manifest in 5 MiB parts, and it round-trips line by line', async () => {
    // Prepare
    const keyPrefix = `large/${randomUUID()}/`;
    const keys = Array.from({ length: 30 }, (_, p) => generatedKeys(p)).flat();

    // Act
    const result = await presignPipeline({
      source: arrayKeySource(keys, { bucket: BUCKET }),
      presigner: cheapPresigner,
      manifest: s3ManifestWriter({ client, bucket: BUCKET, keyPrefix, partSize: PART, queueSize: 2 }),
      concurrency: 4,
    });

    // Assess
    expect(result.count).toBe(keys.length);
    expect(result.manifest.bytes).toBeGreaterThan(3 * PART); // four parts at least
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: result.manifest.key ?? '' }));
    expect(head.ContentLength).toBe(result.manifest.bytes);
    expect(head.ContentType).toBe('application/x-ndjson');
    expect(head.ETag).toMatch(/-\d+"?$/); // a multipart object
    expect(Number(/-(\d+)"?$/.exec(head.ETag ?? '')?.[1])).toBe(Math.ceil(result.manifest.bytes / PART));

    const body = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: result.manifest.key ?? '' }));
    const text = (await body.Body?.transformToString('utf-8')) ?? '';
    const lines = text.split('\n');
    expect(lines.pop()).toBe('');
    const entries = lines.map((line) => JSON.parse(line) as ManifestEntry);
    expect(entries.map((e) => e.key).sort()).toEqual([...keys].sort());
    for (const entry of entries)
      expect(entry.url).toBe(await cheapPresigner.presign({ bucket: BUCKET, key: entry.key }, { expiresIn: 900 }));

    const viaUrl = await fetch(result.manifest.url ?? '');
    expect(viaUrl.status).toBe(200);
    expect(await viaUrl.text()).toBe(text);
    expect(await uploadsUnder(client, keyPrefix)).toEqual([]);
  }, 120_000);

  it('aborts the multipart upload when the source fails mid-run (NoSuchBucket), leaving nothing behind', async () => {
    // Prepare: enough keys for the first part to go out, then a listing of a bucket that does not exist.
    const keyPrefix = `failing/${randomUUID()}/`;
    const source = sourceThatWaitsForUpload(client, keyPrefix, 14, (signal) =>
      s3ListSource({ client, bucket: 'no-such-bucket-here' }).pages({ signal }),
    );

    // Act
    const run = presignPipeline({
      source,
      presigner: cheapPresigner,
      manifest: s3ManifestWriter({ client, bucket: BUCKET, keyPrefix, partSize: PART }),
    });

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'NoSuchBucket' });
    expect(source.sawUpload()).toBe(true);
    expect(await uploadsUnder(client, keyPrefix)).toEqual([]);
    expect(await objectsUnder(client, keyPrefix)).toEqual([]);
  }, 120_000);

  it('aborts the multipart upload when the run is aborted mid-run, rejecting with an AbortError', async () => {
    // Prepare: once the upload exists, abort, while the source would go on for ever.
    const keyPrefix = `aborted/${randomUUID()}/`;
    const controller = new AbortController();
    const source = sourceThatWaitsForUpload(client, keyPrefix, 14, async function* () {
      controller.abort();
      for (let p = 1000; ; p++) yield { bucket: BUCKET, keys: generatedKeys(p) };
    });

    // Act
    const run = presignPipeline({
      source,
      presigner: cheapPresigner,
      manifest: s3ManifestWriter({ client, bucket: BUCKET, keyPrefix, partSize: PART }),
      signal: controller.signal,
    });

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(source.sawUpload()).toBe(true);
    expect(await uploadsUnder(client, keyPrefix)).toEqual([]);
    expect(await objectsUnder(client, keyPrefix)).toEqual([]);
  }, 120_000);

  it('rejects the next write with the S3 error when the upload fails under it, and cleans up', async () => {
    // Prepare: a manifest whose multipart upload is started, then aborted behind the writer's back.
    const keyPrefix = `vanished/${randomUUID()}/`;
    const writer = s3ManifestWriter({ client, bucket: BUCKET, keyPrefix, partSize: PART, queueSize: 1 });
    await writer.open?.({ requestId: 'r', expiresIn: 60, signal: new AbortController().signal });
    const batch = (n: number): ManifestEntry[] =>
      generatedKeys(n, 500).map((key) => ({ key, url: `https://example.invalid/${'u'.repeat(1000)}` }));
    let n = 0;
    while ((await uploadsUnder(client, keyPrefix)).length === 0 && n < 100) await writer.write(batch(n++));
    const [upload] = await uploadsUnder(client, keyPrefix);
    expect(upload?.UploadId).toBeDefined();
    await client.send(
      new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: upload?.Key, UploadId: upload?.UploadId }),
    );

    // Act: keep writing; a later part is refused.
    let failure: unknown;
    for (let i = 0; i < 100 && failure === undefined; i++) {
      try {
        await writer.write(batch(n++));
      } catch (error) {
        failure = error;
      }
    }

    // Assess: S3 and MinIO answer NoSuchUpload (404); moto answers 500. Either way it is the S3 error itself.
    expect(failure).toBeInstanceOf(Error);
    expect((failure as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBeGreaterThanOrEqual(
      400,
    );
    await expect(writer.close()).rejects.toBe(failure);
    await expect(writer.abort()).resolves.toBeUndefined();
    expect(await uploadsUnder(client, keyPrefix)).toEqual([]);
    expect(await objectsUnder(client, keyPrefix)).toEqual([]);
  }, 120_000);

  it('creates a fresh key for every run under keyPrefix', async () => {
    const keyPrefix = `fresh/${randomUUID()}/`;
    const run = (): Promise<{ manifest: { key?: string } }> =>
      presignPipeline({
        source: arrayKeySource(['a.pdf'], { bucket: BUCKET }),
        presigner: cheapPresigner,
        manifest: s3ManifestWriter({ client, bucket: BUCKET, keyPrefix }),
      });
    const [a, b] = [await run(), await run()];
    expect(a.manifest.key).not.toBe(b.manifest.key);
    expect((await objectsUnder(client, keyPrefix)).sort()).toEqual([a.manifest.key, b.manifest.key].sort());
  });
});
