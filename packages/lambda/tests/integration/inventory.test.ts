// The handler's inventory mode on a real S3 API: inventory_manifest instead of listing, with the listing's response,
// logs and metrics, a resume_token chain across deadline-cut invocations, and bad reports answered 400.
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { startFaultProxy, type FaultProxy } from '@presign-pipeline/minio-testing';
import { useS3Endpoint } from '@presign-pipeline/minio-testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  csvGzipFile,
  putInventory,
  PLAIN_CSV_SCHEMA,
  type FixtureRow,
} from '../../../core/tests/inventory-fixtures.js';
import { lineSink, readCaptured } from '../helpers/capture.js';
import { cutAnswerKeys } from '../helpers/events.js';
import {
  bodyOf,
  handlerOn,
  handlerThrough,
  invokeChain,
  lambdaContext,
  manifestKeys as manifestKeysIn,
  readText,
  uniqueBucket,
} from '../helpers/integration.js';

const endpoint = useS3Endpoint();
const bucket = uniqueBucket('inv');
const reports = uniqueBucket('invrep');
const FILES = 12;
const PER_FILE = 60;

/** Keys of the inventory: mostly .pdf under docs/, some awkward, some other suffixes or prefixes. */
function keyOf(file: number, row: number): string {
  const n = file * PER_FILE + row;
  if (n % 10 === 7) return `docs/notes-${n}.txt`;
  if (n % 13 === 4) return `other/${n}.pdf`;
  if (n % 17 === 2) return `docs/déjà vu+${n}, "q" %41.PDF`;
  return `docs/report-${String(n).padStart(4, '0')}.pdf`;
}
const rowsOf = (file: number): FixtureRow[] =>
  Array.from({ length: PER_FILE }, (_, row) => ({ key: keyOf(file, row) }));
const ALL = Array.from({ length: FILES }, (_, f) => rowsOf(f))
  .flat()
  .map((r) => r.key);
const KEPT = ALL.filter((k) => k.startsWith('docs/') && k.toLowerCase().endsWith('.pdf'));
/** A few objects really exist, to download their URLs. */
const SEEDED = KEPT.slice(0, 5);
const manifestUrl = (name: string): string => `s3://${reports}/${name}/manifest.json`;

function manifestKeys(manifestKey: string): Promise<string[]> {
  return manifestKeysIn(endpoint.client, bucket, manifestKey);
}

beforeAll(async () => {
  await endpoint.createBucket(bucket);
  await endpoint.createBucket(reports);
  await endpoint.seed(
    bucket,
    SEEDED.map((key) => ({ key, body: bodyOf(key) })),
  );
  const put = (name: string, overrides: Partial<Parameters<typeof putInventory>[1]> = {}) =>
    putInventory(endpoint.client, {
      sourceBucket: bucket,
      destinationBucket: reports,
      fileFormat: 'CSV',
      fileSchema: PLAIN_CSV_SCHEMA,
      files: Array.from({ length: FILES }, (_, f) => ({
        key: `${name}/data/${f}.csv.gz`,
        body: csvGzipFile(bucket, rowsOf(f)),
      })),
      manifestKey: `${name}/manifest.json`,
      ...overrides,
    });
  await put('good');
  await put('foreign', { sourceBucket: 'another-bucket' });
  await put('orc', { fileFormat: 'ORC' });
}, 120_000);

afterAll(async () => {
  await endpoint.stop();
});

describe('inventory_manifest', () => {
  it('presigns the inventory’s keys with the listing’s response, logs and metrics (pages = data files)', async () => {
    const { handler, sink } = handlerOn(endpoint, { presigner: 'fast' });
    const response = await handler({ bucket, inventory_manifest: manifestUrl('good') }, lambdaContext('inv-1'));
    expect(response.statusCode).toBe(200);
    const body = JSON.parse(response.body) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['count', 'errors', 'manifest_key', 'manifest_url', 'complete']);
    expect(body).toMatchObject({
      count: ALL.filter((k) => k.toLowerCase().endsWith('.pdf')).length,
      errors: 0,
      complete: true,
    });
    const keys = await manifestKeys(String(body.manifest_key));
    expect([...keys].sort()).toEqual(ALL.filter((k) => k.toLowerCase().endsWith('.pdf')).sort());

    const { logs, metrics } = readCaptured(sink.lines);
    expect(logs.find((l) => l.event === 'complete')).toMatchObject({ count: body.count, pages: FILES });
    expect(metrics.find((m) => m.name === 'S3ListPages')?.value).toBe(FILES);
    expect(sink.text()).not.toContain('X-Amz-Signature');

    // A URL of a seeded object downloads it.
    const first = (await readText(endpoint.client, bucket, String(body.manifest_key)))
      .split('\n')
      .map((l) => l && (JSON.parse(l) as { key: string; url: string }));
    const seeded = first.find((entry) => entry && entry.key === SEEDED[0]) as { url: string };
    const download = await fetch(seeded.url);
    expect(await download.text()).toBe(bodyOf(SEEDED[0]!));
  });

  it('filters by the event’s prefix when both are given', async () => {
    const { handler } = handlerOn(endpoint);
    const response = await handler(
      { bucket, prefix: 'docs/', inventory_manifest: manifestUrl('good') },
      lambdaContext('inv-2'),
    );
    const body = JSON.parse(response.body) as { count: number; manifest_key: string };
    expect(body.count).toBe(KEPT.length);
    expect((await manifestKeys(body.manifest_key)).sort()).toEqual([...KEPT].sort());
  });

  it('continues across deadline-cut invocations with resume_token, covering every key exactly once', async () => {
    // Every data file GET is held back 400 ms, and each invocation has 2 s with a 1 s margin: about a second of reading.
    const proxy: FaultProxy = await startFaultProxy({
      target: endpoint,
      rules: [{ fault: 'delay', operation: 'GetObject', delayMs: 400 }],
    });
    try {
      const { handler } = handlerThrough(endpoint, proxy, {
        write: lineSink().write,
        env: { DEADLINE_MARGIN_MS: '1000' },
      });
      const bodies = await invokeChain(
        handler,
        { bucket, prefix: 'docs/', inventory_manifest: manifestUrl('good') },
        {
          cursor: { from: 'resume_token', to: 'resume_token' },
          context: (run) => lambdaContext(`chain-${run}`, 2000),
          maxRuns: 50,
          onCut: (body) => {
            expect(Object.keys(body)).toEqual(cutAnswerKeys('resume_token'));
            // A run that read no row before its deadline (a slow machine) hands back the token it was given: none.
            if (body.count !== 0) expect(String(body.resume_token).startsWith('inv1.')).toBe(true);
          },
        },
      );
      expect(bodies.length).toBeGreaterThanOrEqual(2);
      const union: string[] = [];
      for (const body of bodies) union.push(...(await manifestKeys(String(body.manifest_key))));
      expect(union).toHaveLength(KEPT.length);
      expect([...union].sort()).toEqual([...KEPT].sort());
    } finally {
      await proxy.stop();
    }
  }, 120_000);

  it.each([
    [{ inventory_manifest: 'reports/manifest.json' }, 'inventory_manifest', 's3://bucket/key'],
    [{ inventory_manifest: 's3://only-bucket' }, 'inventory_manifest', 's3://bucket/key'],
    [{ inventory_manifest: 42 }, 'inventory_manifest', 'number'],
    [{ resume_token: 'inv1.abc' }, 'resume_token', 'needs inventory_manifest'],
    [{ inventory_manifest: 's3://b/m.json', resume_token: 'docs/a.pdf' }, 'resume_token', 'inv1'],
    [
      { inventory_manifest: 's3://b/m.json', start_after: 'docs/a.pdf', prefix: 'docs/' },
      'start_after',
      'resume_token',
    ],
  ])('answers 400 naming the field for %j', async (fields, field, named) => {
    const { handler } = handlerOn(endpoint);
    const response = await handler({ bucket, ...fields }, lambdaContext('bad'));
    expect(response.statusCode).toBe(400);
    const body = JSON.parse(response.body) as { error: string; field: string };
    expect(body.field).toBe(field);
    expect(body.error).toContain(named);
  });

  it.each([
    ['foreign', 'another-bucket'],
    ['orc', 'ORC'],
    ['missing', 'does not exist'],
  ])('answers 400 for a %s report and leaves no manifest behind', async (name, named) => {
    const before = await endpoint.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'manifests/' }));
    const { handler } = handlerOn(endpoint);
    const response = await handler({ bucket, inventory_manifest: manifestUrl(name) }, lambdaContext('bad-report'));
    expect(response.statusCode).toBe(400);
    const body = JSON.parse(response.body) as { error: string; field: string };
    expect(body).toMatchObject({ field: 'inventory_manifest', error: expect.stringContaining(named) });
    const after = await endpoint.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'manifests/' }));
    expect(after.KeyCount ?? 0).toBe(before.KeyCount ?? 0);
  });

  it('refuses a manifest bucket outside ALLOWED_BUCKETS with 403', async () => {
    const { handler } = handlerOn(endpoint, { env: { ALLOWED_BUCKETS: bucket } });
    const response = await handler({ bucket, inventory_manifest: manifestUrl('good') }, lambdaContext('deny'));
    expect(response.statusCode).toBe(403);
    expect(JSON.parse(response.body)).toMatchObject({ field: 'inventory_manifest' });
  });
});
