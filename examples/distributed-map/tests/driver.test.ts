// The state machine played against a real S3 API: the deployed definition drives the real handlers.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { batchPartKey } from '@presign-pipeline/lambda';
import { startFaultProxy, type FaultProxy } from '@presign-pipeline/minio-testing';
import { useS3Endpoint } from '@presign-pipeline/minio-testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployedDefinition, handlersDriver, jsonLines, setHandlerEnv, text } from './deployed.js';
import { captureStdout } from './invoke.js';
import { listItems, startExecution } from './step-functions.js';

const s3 = useS3Endpoint();
const bucket = `dmap-${randomBytes(4).toString('hex')}`;
const prefix = 'reports/2026/04/';
const definitionFile = fileURLToPath(new URL('../statemachine/presign.asl.json', import.meta.url));
/** 2,600 objects: three batches of at most 1000 (the definition's MaxItemsPerBatch). */
const TOTAL = 2600;
let expectedPdfs: string[] = [];
let proxy: FaultProxy;
let restoreEnv: () => void;

function keyOf(i: number): string {
  const name = String(i).padStart(5, '0');
  return i % 2 === 0
    ? `${prefix}r${name}${i % 10 === 0 ? '.PDF' : '.pdf'}`
    : `${prefix}r${name}.${i % 3 === 0 ? 'csv' : 'txt'}`;
}

beforeAll(async () => {
  await s3.createBucket(bucket);
  const keys = Array.from({ length: TOTAL }, (_, i) => keyOf(i));
  await s3.seed(
    bucket,
    [...keys.map((key) => ({ key, body: `body of ${key}` })), { key: 'elsewhere/outside.pdf', body: 'outside' }],
    { concurrency: 48 },
  );
  expectedPdfs = keys.filter((key) => key.toLowerCase().endsWith('.pdf')).sort();
  // The handlers reach S3 through a fault-injecting proxy and sign URLs for the endpoint itself.
  proxy = await startFaultProxy({ target: s3 });
  restoreEnv = setHandlerEnv(s3, bucket, prefix, proxy.endpoint);
}, 300_000);

afterAll(async () => {
  restoreEnv?.();
  await proxy?.stop();
  await s3.stop();
});

const driver = (executionName: string) => handlersDriver(s3, executionName);
const definition = () => deployedDefinition(definitionFile, bucket);

describe('the distributed-map state machine, driven against a real S3 endpoint', () => {
  it('presigns every .pdf exactly once, although one batch fails after writing its part and is retried', async () => {
    // Prepare: the second batch's part upload reaches S3 but its answer is lost (503 SlowDown after S3 stored it),
    // three times in a row: the SDK's own retries give up, the Lambda fails with SlowDown, and the definition's
    // Retry runs the batch again. Its part must be overwritten, not added.
    const executionName = `exec-${randomBytes(6).toString('hex')}`;
    const items = await listItems(s3.client, bucket, prefix);
    const victim = batchPartKey('manifests/', executionName, items.slice(1000, 2000));
    proxy.setRules([
      {
        fault: 'slow-down',
        operation: 'PutObject',
        match: (request) => request.key === victim,
        times: 3,
        phase: 'response',
      },
    ]);

    // Act
    const run = await captureStdout(() =>
      startExecution(definition(), { prefix, expiry_seconds: 3600 }, driver(executionName)),
    );

    // Assess: the execution succeeded with the index step's answer.
    expect(run.error).toBeUndefined();
    const execution = run.result!;
    expect(execution.error).toBeUndefined();
    expect(execution.status).toBe('SUCCEEDED');
    const output = execution.output as {
      index_key: string;
      index_url: string;
      parts: number;
      count: number;
      errors: number;
    };
    expect(output).toMatchObject({
      index_key: `manifests/${executionName}/index.jsonl`,
      parts: 3,
      count: expectedPdfs.length,
      errors: 0,
    });

    // The batches were the ItemReader's items, 1000 at most, each with the BatchInput the definition builds.
    expect(execution.batches.map((b) => (b.Items as unknown[]).length)).toEqual([1000, 1000, 600]);
    for (const batch of execution.batches) {
      expect(batch.BatchInput).toEqual({ bucket, run: executionName, expiry_seconds: 3600 });
      expect(Object.keys((batch.Items as Record<string, unknown>[])[0]!)).toEqual([
        'Key',
        'Etag',
        'LastModified',
        'Size',
        'StorageClass',
      ]);
    }

    // The victim batch failed once with SlowDown and succeeded on its retry; the others ran once.
    const batchAttempts = execution.attempts.filter((a) => a.state === 'PresignBatch');
    const victimAttempts = batchAttempts.filter(
      (a) => (a.output as { part_key?: string } | undefined)?.part_key === victim || a.error !== undefined,
    );
    expect(victimAttempts.map((a) => a.error ?? 'ok')).toEqual(['SlowDown', 'ok']);
    expect(batchAttempts).toHaveLength(4);
    expect(proxy.hits.rules[0]).toMatchObject({ injected: 3 });
    // Every child's answer is tiny next to Step Functions' 256 KiB.
    for (const attempt of batchAttempts.filter((a) => a.output !== undefined)) {
      expect(Object.keys(attempt.output as object)).toEqual(['part_key', 'count', 'errors']);
      expect(JSON.stringify(attempt.output).length).toBeLessThan(512);
    }

    // Follow the links: the index, every part, and the URLs inside. Each .pdf appears exactly once.
    const index = await jsonLines<{ key: string; url: string; count: number }>(output.index_url);
    expect(index.map((line) => line.key)).toContain(victim);
    expect(new Set(index.map((line) => line.key)).size).toBe(3);
    const union: string[] = [];
    for (const part of index) {
      const entries = await jsonLines<{ key: string; url: string }>(part.url);
      expect(entries).toHaveLength(part.count);
      union.push(...entries.map((entry) => entry.key));
    }
    expect(union).toHaveLength(expectedPdfs.length);
    expect([...union].sort()).toEqual(expectedPdfs);
    const objects = (await listItems(s3.client, bucket, `manifests/${executionName}/`)).map((item) => item.Key);
    expect(objects.sort()).toEqual([...index.map((line) => line.key), output.index_key].sort());

    // An object URL from a part works, signed for the endpoint consumers use.
    const sample = JSON.parse((await text(index[0]!.url)).split('\n')[0]!) as { key: string; url: string };
    expect(new URL(sample.url).origin).toBe(new URL(s3.endpoint).origin);
    expect(await text(sample.url)).toBe(`body of ${sample.key}`);

    // Logs: one batch_complete per successful batch, the failed attempt's error line, and no URL anywhere.
    const logs = run.lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => typeof line.event === 'string');
    expect(logs.filter((l) => l.event === 'batch_complete')).toHaveLength(3);
    expect(logs.filter((l) => l.event === 'error' && l.error_name === 'SlowDown')).toHaveLength(1);
    expect(logs.filter((l) => l.event === 'index_complete')).toHaveLength(1);
    expect(run.lines.join('\n')).not.toMatch(/X-Amz-Signature|X-Amz-Credential/);
  });

  it('fails the Map without retrying when a batch is refused, and writes no index', async () => {
    // Prepare: an execution name the handlers refuse as a folder name ("run" must be letters, digits, . _ -).
    proxy.setRules([]);
    proxy.resetHits();
    const executionName = 'exec with spaces';

    // Act
    const run = await captureStdout(() =>
      startExecution(definition(), { prefix, expiry_seconds: 3600 }, driver(executionName)),
    );

    // Assess: every batch failed once with InvalidBatchInput (no Retry matches it), the Map failed, nothing was written.
    const execution = run.result!;
    expect(execution.status).toBe('FAILED');
    expect(execution.error?.name).toBe('States.ExceedToleratedFailureThreshold');
    expect(execution.error?.message).toContain('InvalidBatchInput');
    const attempts = execution.attempts.filter((a) => a.state === 'PresignBatch');
    expect(attempts.map((a) => a.error)).toEqual(['InvalidBatchInput', 'InvalidBatchInput', 'InvalidBatchInput']);
    expect(execution.attempts.some((a) => a.state === 'WriteIndex')).toBe(false);
    expect(proxy.hits.byOperation.PutObject ?? 0).toBe(0);
  });

  it('fails at the ItemReader step, as Step Functions would, when the input has no prefix', async () => {
    const execution = await startExecution(definition(), { expiry_seconds: 60 }, driver('exec-no-prefix'));
    expect(execution.status).toBe('FAILED');
    expect(execution.error?.name).toBe('States.Runtime');
    expect(execution.attempts).toHaveLength(0);
  });
});
