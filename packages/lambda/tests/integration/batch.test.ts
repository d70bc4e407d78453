// The Distributed Map handlers on a real S3 API: batches in the shape Step Functions sends, a failed batch retried,
// and the index over the parts.
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { useS3Endpoint } from '@presign-pipeline/minio-testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBatchHandler, createManifestIndexHandler, type DistributedMapS3Item } from '../../src/batch.js';
import { lineSink, readCaptured } from '../helpers/capture.js';
import { bodyOf, lambdaContext, listKeys, observedClient, seedReports, uniqueBucket } from '../helpers/integration.js';

const endpoint = useS3Endpoint();
const bucket = uniqueBucket('batch');
const prefix = 'scan/';
let expected: string[] = [];

beforeAll(async () => {
  expected = await seedReports(endpoint, bucket, prefix, 26, 9);
}, 60_000);
afterAll(() => endpoint.stop());

/** What the s3:listObjectsV2 ItemReader makes of a listing: one item per object, its metadata only. */
async function itemReader(): Promise<DistributedMapS3Item[]> {
  const items: DistributedMapS3Item[] = [];
  let token: string | undefined;
  do {
    const page = await endpoint.client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) {
      items.push({
        Key: o.Key!,
        Etag: o.ETag!,
        LastModified: Math.floor(o.LastModified!.getTime() / 1000),
        Size: o.Size!,
        StorageClass: o.StorageClass ?? 'STANDARD',
      });
    }
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return items;
}

describe('createBatchHandler and createManifestIndexHandler on a real S3 endpoint', () => {
  it('turns batches into parts, survives a failed batch by retrying it, and indexes every key exactly once', async () => {
    // Prepare: the second PutObject (the second batch's part) fails once with SlowDown.
    const observed = observedClient(endpoint, { PutObject: { call: 2, name: 'SlowDown' } });
    const sink = lineSink();
    const options = {
      s3Client: observed.client,
      write: sink.write,
      env: { AWS_REGION: endpoint.region },
      presigner: 'fast' as const,
    };
    const batchHandler = createBatchHandler(options);
    const indexHandler = createManifestIndexHandler(options);
    const items = await itemReader();
    const batches: DistributedMapS3Item[][] = [];
    for (let i = 0; i < items.length; i += 10) batches.push(items.slice(i, i + 10));
    const BatchInput = { bucket, run: 'run-int-1', expiry_seconds: 600 };

    // Act: each batch, retried on failure as the state machine's Retry would.
    const results = [];
    let failures = 0;
    for (const [i, Items] of batches.entries()) {
      for (let attempt = 1; ; attempt++) {
        try {
          results.push(await batchHandler({ Items, BatchInput }, lambdaContext(`batch-${i}-${attempt}`)));
          break;
        } catch (error) {
          expect((error as Error).name).toBe('SlowDown');
          failures++;
          if (attempt >= 3) throw error;
        }
      }
    }
    const index = await indexHandler({ bucket, run: 'run-int-1', expiry_seconds: 600 }, lambdaContext('index'));

    // Assess: one failure, retried; one part per batch (every batch of 10 holds a PDF here).
    expect(failures).toBe(1);
    expect(results.every((r) => r.part_key !== null && r.errors === 0)).toBe(true);
    const parts = (await listKeys(endpoint.client, bucket, 'manifests/run-int-1/')).filter((k) => k.includes('/part-'));
    expect(parts.sort()).toEqual(results.map((r) => r.part_key!).sort());
    expect(index).toMatchObject({
      index_key: 'manifests/run-int-1/index.jsonl',
      parts: batches.length,
      count: expected.length,
      errors: 0,
    });

    // Follow the links: index URL → part URLs → object URLs.
    const indexText = await (await fetch(index.index_url)).text();
    const indexLines = indexText
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { key: string; url: string; count: number });
    const union: string[] = [];
    for (const line of indexLines) {
      const partText = await (await fetch(line.url)).text();
      const entries = partText
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { key: string; url: string });
      expect(entries).toHaveLength(line.count);
      union.push(...entries.map((e) => e.key));
    }
    expect(union).toHaveLength(expected.length);
    expect([...union].sort()).toEqual(expected);
    const sample = (await (await fetch(indexLines[0]!.url)).text()).split('\n')[0]!;
    const object = JSON.parse(sample) as { key: string; url: string };
    expect(await (await fetch(object.url)).text()).toBe(bodyOf(object.key));

    // Logs: a batch_complete per successful batch, an error line for the failed attempt, never a URL.
    const { logs } = readCaptured(sink.lines);
    expect(logs.filter((l) => l.event === 'batch_complete')).toHaveLength(batches.length);
    expect(logs.filter((l) => l.event === 'error' && l.error_name === 'SlowDown')).toHaveLength(1);
    expect(logs.filter((l) => l.event === 'index_complete')).toHaveLength(1);
    expect(sink.lines.join('\n')).not.toMatch(/X-Amz-Signature|X-Amz-Credential/);
  });

  it('fails with NoSuchBucket, named so, when the bucket does not exist', async () => {
    const handler = createBatchHandler({
      clientConfig: { region: endpoint.region, credentials: endpoint.credentials, maxAttempts: 1 },
      write: () => {},
      env: { S3_ENDPOINT_URL: endpoint.endpoint },
    });
    const missing = uniqueBucket('gone');
    await expect(
      handler({ Items: [{ Key: 'a.pdf' }], BatchInput: { bucket: missing, run: 'r1' } }, lambdaContext('missing')),
    ).rejects.toMatchObject({ name: 'NoSuchBucket' });
  });
});
