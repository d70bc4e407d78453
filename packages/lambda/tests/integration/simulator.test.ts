// The handler end to end on the S3 simulator of @presign-pipeline/minio-testing (the endpoint the benchmarks use):
// auto listing or an S3 Inventory report in, a multipart JSONL manifest out, with the writer's check that no other
// multipart upload is left open (ListMultipartUploads) answered as S3 answers it.
import { startS3Simulator, type S3Simulator } from '@presign-pipeline/minio-testing';
import { afterEach, describe, expect, it } from 'vitest';
import { csvGzipFile, manifestJson, PLAIN_CSV_SCHEMA } from '../../../core/tests/inventory-fixtures.js';
import { lineSink } from '../helpers/capture.js';
import { createPresignHandler } from '../../src/handler.js';
import { lambdaContext } from '../helpers/integration.js';

/** Lambda-like temporary credentials: the session token makes each URL about 1.7 KB, so 6,000 keys need 2 parts. */
const credentials = {
  accessKeyId: 'ASIAEXAMPLESIMULATOR',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  sessionToken: `IQoJb3JpZ2luX2VjE${'Abc123/+='.repeat(80)}`,
};
const KEYS = 6_000;

let sim: S3Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

function handlerOn(simulator: S3Simulator) {
  const sink = lineSink();
  const handler = createPresignHandler({
    write: sink.write,
    presigner: 'fast',
    clientConfig: { region: simulator.region, credentials, maxAttempts: 3 },
    env: { S3_ENDPOINT_URL: simulator.endpoint, AWS_REGION: simulator.region },
  });
  return { handler, sink };
}

/** Checks the stored manifest: one line per key, assembled from parts, nothing left open. */
function expectMultipartManifest(
  simulator: S3Simulator,
  bucket: string,
  body: { manifest_key?: unknown; count?: unknown },
): void {
  const stored = simulator.objects(bucket).get(String(body.manifest_key));
  expect(stored).toMatchObject({ lines: KEYS });
  expect(stored?.parts).toBeGreaterThanOrEqual(2);
  expect(simulator.uploads()).toEqual([]);
  // The writer asked whether another upload of its key was left open, and got S3's answer.
  expect(simulator.counters.byOperation.ListMultipartUploads).toBe(1);
  expect(simulator.counters.errors).toBe(0);
}

describe('the handler on the S3 simulator', () => {
  it('lists a bucket with auto partitions at concurrency 16 and writes a multipart manifest, with no listener warning', async () => {
    sim = await startS3Simulator({
      buckets: { listed: { layout: 'flat', count: KEYS, prefix: 'scans/' } },
      latencyMs: 5,
      jitterMs: 5,
      store: 'count',
    });
    const { handler } = handlerOn(sim);
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning.name);
    };
    process.on('warning', onWarning);
    const response = await handler(
      { bucket: 'listed', prefix: 'scans/', list_concurrency: 16 },
      lambdaContext('sim-list'),
    ).finally(async () => {
      await new Promise((resolve) => setImmediate(resolve));
      process.off('warning', onWarning);
    });
    // Concurrent requests each get a signal of their own: no signal collects the SDK's listeners past Node's limit.
    expect(warnings).not.toContain('MaxListenersExceededWarning');
    expect(response.statusCode).toBe(200);
    const body = JSON.parse(response.body) as Record<string, unknown>;
    expect(body).toMatchObject({ count: KEYS, errors: 0, complete: true });
    expectMultipartManifest(sim, 'listed', body);
  });

  it('reads an S3 Inventory report the simulator holds and writes a multipart manifest, one line per key', async () => {
    const rows = Array.from({ length: KEYS }, (_, i) => ({
      key: `docs/${i % 9 === 4 ? `scan ${i}+x` : `report-${i}`}.pdf`,
    }));
    const files = [0, 1, 2].map((f) => ({
      key: `inv/data/${f}.csv.gz`,
      body: csvGzipFile(
        'source',
        rows.filter((_, i) => i % 3 === f),
      ),
    }));
    const manifest = manifestJson({
      sourceBucket: 'source',
      destinationBucket: 'reports',
      fileFormat: 'CSV',
      fileSchema: PLAIN_CSV_SCHEMA,
      files,
    });
    sim = await startS3Simulator({
      buckets: { source: { layout: 'handful' } },
      objects: { reports: { 'inv/manifest.json': manifest, ...Object.fromEntries(files.map((f) => [f.key, f.body])) } },
      latencyMs: 0,
      jitterMs: 0,
      store: 'count',
    });
    const { handler } = handlerOn(sim);
    const response = await handler(
      { bucket: 'source', inventory_manifest: 's3://reports/inv/manifest.json' },
      lambdaContext('sim-inv'),
    );
    expect(response.statusCode).toBe(200);
    const body = JSON.parse(response.body) as Record<string, unknown>;
    expect(body).toMatchObject({ count: KEYS, errors: 0, complete: true });
    expectMultipartManifest(sim, 'source', body);
    expect(sim.counters.byOperation.GetObject).toBe(4);
  });

  it('keeps only the inventory rows inside modified_after ≤ LastModified < modified_before', async () => {
    const day = (d: number, hour = 0): Date => new Date(Date.UTC(2026, 3, d, hour));
    const rows = Array.from({ length: 300 }, (_, i) => ({
      key: `docs/r-${String(i).padStart(3, '0')}.pdf`,
      lastModified: day(1 + (i % 10), i % 24),
    }));
    const file = { key: 'inv/data/0.csv.gz', body: csvGzipFile('source', rows) };
    const manifest = manifestJson({
      sourceBucket: 'source',
      destinationBucket: 'reports',
      fileFormat: 'CSV',
      fileSchema: PLAIN_CSV_SCHEMA,
      files: [file],
    });
    sim = await startS3Simulator({
      buckets: { source: { layout: 'handful' } },
      objects: { reports: { 'inv/manifest.json': manifest, [file.key]: file.body } },
      latencyMs: 0,
      jitterMs: 0,
    });
    const { handler } = handlerOn(sim);
    const after = '2026-04-03T06:00:00Z';
    const before = '2026-04-07T00:00:00+02:00';
    const response = await handler(
      {
        bucket: 'source',
        inventory_manifest: 's3://reports/inv/manifest.json',
        modified_after: after,
        modified_before: before,
      },
      lambdaContext('sim-window'),
    );
    expect(response.statusCode, response.body).toBe(200);
    const body = JSON.parse(response.body) as { count: number; manifest_key: string };
    const expected = rows
      .filter((row) => row.lastModified >= new Date(after) && row.lastModified < new Date(before))
      .map((row) => row.key);
    expect(expected.length).toBeGreaterThan(50);
    expect(expected.length).toBeLessThan(rows.length - 50);
    const text = sim.objects('source').get(body.manifest_key)?.body?.toString('utf8') ?? '';
    const keys = text
      .split('\n')
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { key: string }).key);
    expect(body.count).toBe(expected.length);
    expect(keys.sort()).toEqual(expected.sort());

    // A bad timestamp is refused before any request, naming the field.
    sim.resetCounters();
    const refused = await handler(
      { bucket: 'source', inventory_manifest: 's3://reports/inv/manifest.json', modified_before: 'last week' },
      lambdaContext('sim-window-bad'),
    );
    expect(refused.statusCode).toBe(400);
    expect(JSON.parse(refused.body)).toMatchObject({ field: 'modified_before' });
    expect(sim.counters.total).toBe(0);
  });

  it('rounds bounds finer than a millisecond up: after stays inclusive and before exclusive at the edge', async () => {
    const at = (ms: number): Date => new Date(Date.UTC(2026, 3, 1, 0, 0, 0, ms));
    const rows = [0, 1, 2].map((ms) => ({ key: `docs/ms-${ms}.pdf`, lastModified: at(ms) }));
    const file = { key: 'inv/data/0.csv.gz', body: csvGzipFile('source', rows) };
    const manifest = manifestJson({
      sourceBucket: 'source',
      destinationBucket: 'reports',
      fileFormat: 'CSV',
      fileSchema: PLAIN_CSV_SCHEMA,
      files: [file],
    });
    sim = await startS3Simulator({
      buckets: { source: { layout: 'handful' } },
      objects: { reports: { 'inv/manifest.json': manifest, [file.key]: file.body } },
      latencyMs: 0,
      jitterMs: 0,
    });
    const { handler } = handlerOn(sim);
    const cases: [Record<string, string>, string[]][] = [
      // After .0001: the object of .000 is before it, the one of .001 is not.
      [{ modified_after: '2026-04-01T00:00:00.0001Z' }, ['docs/ms-1.pdf', 'docs/ms-2.pdf']],
      // Before .0011: the object of .001 is before it, the one of .002 is not.
      [{ modified_before: '2026-04-01T00:00:00.0011Z' }, ['docs/ms-0.pdf', 'docs/ms-1.pdf']],
      [
        { modified_after: '2026-04-01T00:00:00.001000Z', modified_before: '2026-04-01T00:00:00.002000Z' },
        ['docs/ms-1.pdf'],
      ],
    ];
    for (const [window, expected] of cases) {
      const response = await handler(
        { bucket: 'source', inventory_manifest: 's3://reports/inv/manifest.json', ...window },
        lambdaContext('sim-window-edge'),
      );
      expect(response.statusCode, response.body).toBe(200);
      const body = JSON.parse(response.body) as { manifest_key: string };
      const text = sim.objects('source').get(body.manifest_key)?.body?.toString('utf8') ?? '';
      const keys = text
        .split('\n')
        .filter(Boolean)
        .map((line) => (JSON.parse(line) as { key: string }).key);
      expect(keys.sort(), JSON.stringify(window)).toEqual(expected);
    }
  });
});
