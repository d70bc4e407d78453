import { randomBytes } from 'node:crypto';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import {
  fastPresigner,
  jsonLogReporter,
  presignPipeline,
  s3ListSource,
  s3ManifestWriter,
  suffixFilter,
} from '@presign-pipeline/core';
import { useS3Endpoint } from '@presign-pipeline/minio-testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const s3 = useS3Endpoint();
const bucket = `builtin-parts-${randomBytes(4).toString('hex')}`;
const pdfs = ['2026/04/a.pdf', '2026/04/b.PDF', '2026/04/sub/c.pdf'];

beforeAll(async () => {
  await s3.createBucket(bucket);
  await s3.seed(bucket, [...pdfs, '2026/04/notes.txt', '2026/03/old.pdf']);
});

afterAll(async () => {
  await s3.stop();
});

describe('the same pipeline with the built-in S3 parts (for comparison)', () => {
  it('lists a prefix, presigns its .pdf keys and uploads a JSONL manifest', async () => {
    const client = s3.client;
    const logLines: string[] = [];

    // #region quick-start
    const result = await presignPipeline({
      source: s3ListSource({ client, bucket, prefix: '2026/04/', filter: suffixFilter('.pdf') }),
      presigner: fastPresigner({ client }),
      manifest: s3ManifestWriter({ client, bucket }), // manifests/<uuid>.jsonl in the same bucket
      reporters: [jsonLogReporter({ write: (line) => logLines.push(line) })], // default: stdout
      expiresIn: 900,
    });
    // result: { count: 3, errors: 0, pages: 1, manifest: { key, url, bytes, location }, durationMs, … }
    // #endregion quick-start

    expect(result).toMatchObject({ count: pdfs.length, errors: 0, pages: 1, complete: true });
    expect(result.manifest.key).toMatch(/^manifests\/.+\.jsonl$/);
    const stored = await client.send(new GetObjectCommand({ Bucket: bucket, Key: result.manifest.key! }));
    const lines = (await stored.Body!.transformToString())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { key: string });
    expect(lines.map((line) => line.key).sort()).toEqual([...pdfs].sort());
    expect(await (await fetch(result.manifest.url!)).text()).toContain('"key":"2026/04/a.pdf"');
    expect(logLines.map((line) => JSON.parse(line) as { event: string }).map((line) => line.event)).toEqual([
      'complete',
    ]);
  });
});
