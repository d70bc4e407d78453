// The inventory variant played against a real S3 API: the MANIFEST ItemReader reads a generated S3 Inventory report,
// and the deployed definition drives the real handlers.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { useS3Endpoint } from '@presign-pipeline/minio-testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployedDefinition, handlersDriver, jsonLines, setHandlerEnv, text } from './deployed.js';
import { writeInventory } from './inventory.js';
import { captureStdout } from './invoke.js';
import { startExecution } from './step-functions.js';

const s3 = useS3Endpoint();
const bucket = `dmap-inv-${randomBytes(4).toString('hex')}`;
const inventoryBucket = `dmap-invreport-${randomBytes(4).toString('hex')}`;
const prefix = 'reports/2026/04/';
const definitionFile = fileURLToPath(new URL('../statemachine/presign-inventory.asl.json', import.meta.url));
/** Keys a listing would return as they are and a CSV inventory stores URL-encoded. */
const AWKWARD = [
  `${prefix}with space.pdf`,
  `${prefix}plus+sign.pdf`,
  `${prefix}100% done.PDF`,
  `${prefix}résumé/ünï.pdf`,
  `${prefix}comma,quote".pdf`,
];
/** 1,500 rows: two batches of at most 1000 (MaxItemsPerBatch). */
const KEYS = [
  ...AWKWARD,
  ...Array.from({ length: 1495 }, (_, i) => `${prefix}r${String(i).padStart(5, '0')}.${i % 2 === 0 ? 'pdf' : 'txt'}`),
];
const expectedPdfs = KEYS.filter((key) => key.toLowerCase().endsWith('.pdf')).sort();
let restoreEnv: () => void;

beforeAll(async () => {
  await s3.createBucket(bucket);
  await s3.createBucket(inventoryBucket);
  // Only the awkward objects are stored: their URLs are fetched; presigning the rest needs no object.
  await s3.seed(
    bucket,
    AWKWARD.map((key) => ({ key, body: `body of ${key}` })),
  );
  restoreEnv = setHandlerEnv(s3, bucket, prefix);
}, 300_000);

afterAll(async () => {
  restoreEnv?.();
  await s3.stop();
});

const driver = (executionName: string) => handlersDriver(s3, executionName);
const definition = () => deployedDefinition(definitionFile, bucket);

describe('the inventory state machine, driven against a real S3 endpoint', () => {
  it('presigns every .pdf the inventory lists exactly once, awkward keys decoded', async () => {
    // Prepare: a report in two data files, in its own bucket.
    const folder = `inventory/${bucket}/daily/2026-04-02T01-00Z/`;
    const manifestKey = await writeInventory(s3.client, {
      sourceBucket: bucket,
      destinationBucket: inventoryBucket,
      folder,
      keys: KEYS,
      rowsPerFile: 800,
    });
    const executionName = `exec-${randomBytes(6).toString('hex')}`;

    // Act
    const input = { manifest_bucket: inventoryBucket, manifest_key: manifestKey, expiry_seconds: 3600 };
    const run = await captureStdout(() => startExecution(definition(), input, driver(executionName)));

    // Assess: the Map got the inventory rows (URL-encoded, as stored), in two batches.
    const execution = run.result!;
    expect(execution.error).toBeUndefined();
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.batches.map((b) => (b.Items as unknown[]).length)).toEqual([1000, 500]);
    const first = (execution.batches[0]!.Items as Record<string, string>[])[0]!;
    expect(first).toEqual({
      Bucket: bucket,
      Key: `${prefix}with%20space.pdf`,
      Size: String(AWKWARD[0]!.length),
      LastModifiedDate: '2026-04-01T00:00:00.000Z',
    });
    const output = execution.output as { index_url: string; parts: number; count: number; errors: number };
    expect(output).toMatchObject({ parts: 2, count: expectedPdfs.length, errors: 0 });

    // Follow the links: every .pdf once, under its decoded key; the awkward objects' URLs fetch their bodies.
    const index = await jsonLines<{ url: string }>(output.index_url);
    const entries: { key: string; url: string }[] = [];
    for (const part of index) entries.push(...(await jsonLines<{ key: string; url: string }>(part.url)));
    expect(entries.map((entry) => entry.key).sort()).toEqual(expectedPdfs);
    for (const entry of entries.filter((e) => AWKWARD.includes(e.key)))
      expect(await text(entry.url)).toBe(`body of ${entry.key}`);
    expect(run.lines.join('\n')).not.toMatch(/X-Amz-Signature|X-Amz-Credential/);
  });

  it('presigns only the latest version of a versioned report: no old version, no delete marker', async () => {
    const keys = Array.from({ length: 6 }, (_, i) => `${prefix}v${i}.pdf`);
    const [kept, older, deleted, olderAndDeleted] = keys as [string, string, string, string];
    const folder = `inventory/${bucket}/daily/2026-04-03T01-00Z/`;
    const manifestKey = await writeInventory(s3.client, {
      sourceBucket: bucket,
      destinationBucket: inventoryBucket,
      folder,
      keys,
      versions: { older: [older, olderAndDeleted], deleted: [deleted, olderAndDeleted] },
    });
    const executionName = `exec-${randomBytes(6).toString('hex')}`;
    const input = { manifest_bucket: inventoryBucket, manifest_key: manifestKey, expiry_seconds: 3600 };
    const run = await captureStdout(() => startExecution(definition(), input, driver(executionName)));

    const execution = run.result!;
    expect(execution.status).toBe('SUCCEEDED');
    // The Map got every row, with the version columns as strings.
    const items = execution.batches.flatMap((b) => b.Items as Record<string, string>[]);
    expect(items).toHaveLength(8);
    expect(items.find((item) => item.IsDeleteMarker === 'true')).toMatchObject({ IsLatest: 'true', Size: '' });
    const output = execution.output as { index_url: string; count: number };
    const expected = keys.filter((key) => key !== deleted && key !== olderAndDeleted).sort();
    expect(output.count).toBe(expected.length);
    const entries: { key: string }[] = [];
    for (const part of await jsonLines<{ url: string }>(output.index_url))
      entries.push(...(await jsonLines<{ key: string }>(part.url)));
    expect(entries.map((entry) => entry.key).sort()).toEqual(expected);
    expect(expected).toContain(kept);
  });

  it('fails the Map, writing nothing, when the inventory is of another bucket', async () => {
    const folder = `inventory/other-bucket/daily/2026-04-02T01-00Z/`;
    const manifestKey = await writeInventory(s3.client, {
      sourceBucket: 'other-bucket',
      destinationBucket: inventoryBucket,
      folder,
      keys: [`${prefix}a.pdf`],
    });
    const executionName = `exec-${randomBytes(6).toString('hex')}`;
    const input = { manifest_bucket: inventoryBucket, manifest_key: manifestKey, expiry_seconds: 60 };
    const run = await captureStdout(() => startExecution(definition(), input, driver(executionName)));
    const execution = run.result!;
    expect(execution.status).toBe('FAILED');
    expect(execution.error?.message).toContain('InvalidBatchInput');
    expect(execution.attempts.filter((a) => a.state === 'PresignBatch').map((a) => a.error)).toEqual([
      'InvalidBatchInput',
    ]);
    const written = await s3.client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: `manifests/${executionName}/` }),
    );
    expect(written.KeyCount ?? 0).toBe(0);
  });
});
