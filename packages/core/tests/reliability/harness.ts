import { randomUUID } from 'node:crypto';
import { startFaultProxy, startS3Endpoint } from '@presign-pipeline/minio-testing';
import type { FaultProxyHits, FaultRule, S3Endpoint } from '@presign-pipeline/minio-testing';
import { afterAll, beforeAll, expect } from 'vitest';
import { presignPipeline } from '../../src/pipeline.js';
import { jsonLogReporter } from '../../src/reporters/json-log-reporter.js';
import { s3ListSource } from '../../src/s3/s3-list-source.js';
import { s3ManifestWriter } from '../../src/s3/s3-manifest-writer.js';
import type { PipelineResult } from '../../src/types.js';
import {
  clientThrough,
  duplicates,
  objectsUnder,
  paddedPresigner,
  parseManifest,
  readText,
  settle,
  uploadsUnder,
  within,
} from './helpers.js';

const MIB = 1024 * 1024;

/** Where a run through the fault proxy reads and writes. */
export interface RunTarget {
  readonly s3: S3Endpoint;
  readonly bucket: string;
  readonly prefix: string;
  /** Every key under `prefix`, sorted. */
  readonly keys: readonly string[];
}

/**
 * An S3 endpoint of the calling file's own, with `keys` seeded under `prefix` in `bucket`: started before the tests
 * of the calling block and stopped after them. `target` is there once the tests run.
 */
export function useSeededTarget(
  bucket: string,
  prefix: string,
  keys: readonly string[],
): { readonly target: RunTarget } {
  let s3: S3Endpoint | undefined;
  let target: RunTarget | undefined;
  beforeAll(async () => {
    s3 = await startS3Endpoint({ log: false });
    await s3.createBucket(bucket);
    await s3.seed(bucket, [...keys]);
    target = { s3, bucket, prefix, keys };
  }, 180_000);
  afterAll(async () => {
    await s3?.stop();
  });
  return {
    get target(): RunTarget {
      if (target === undefined) throw new Error('the endpoint starts in beforeAll: use the target inside a test');
      return target;
    },
  };
}

/** One run: how it settled, what the proxy saw, the log lines, where its manifest went. */
export interface RunOutcome {
  readonly outcome: { ok: true; value: PipelineResult } | { ok: false; error: unknown };
  readonly hits: FaultProxyHits;
  readonly keyPrefix: string;
  readonly logs: readonly Record<string, unknown>[];
  readonly urlOf: (key: string) => string;
}

/**
 * Runs the pipeline (s3ListSource → padded presigner → s3ManifestWriter with 5 MiB parts) through a fresh fault proxy
 * with `rules`, logging with jsonLogReporter; the proxy is stopped once the run settled (dropping what it holds).
 */
export async function runThroughProxy(
  target: RunTarget,
  rules: readonly FaultRule[],
  options: { maxAttempts: number; urlBytes: number; pageSize: number; deadlineMs?: number },
): Promise<RunOutcome> {
  const proxy = await startFaultProxy({ target: target.s3, rules });
  const client = clientThrough(target.s3, proxy.endpoint, options.maxAttempts);
  const keyPrefix = `manifests/${randomUUID()}/`;
  const presigner = paddedPresigner(options.urlBytes);
  const lines: string[] = [];
  try {
    const outcome = await settle(
      within(
        options.deadlineMs ?? 90_000,
        'the run',
        presignPipeline({
          source: s3ListSource({ client, bucket: target.bucket, prefix: target.prefix, pageSize: options.pageSize }),
          presigner,
          manifest: s3ManifestWriter({ client, bucket: target.bucket, keyPrefix, partSize: 5 * MIB, queueSize: 2 }),
          reporters: [jsonLogReporter({ write: (line) => lines.push(line) })],
          concurrency: 4,
        }),
      ),
    );
    return {
      outcome,
      hits: proxy.hits,
      keyPrefix,
      logs: lines.map((line) => JSON.parse(line) as Record<string, unknown>),
      urlOf: presigner.urlOf,
    };
  } finally {
    client.destroy();
    await proxy.stop();
  }
}

/** Asserts a completed run whose manifest, read back from S3, holds every key once with its URL; nothing else left. */
export async function expectExactManifest(target: RunTarget, run: RunOutcome): Promise<PipelineResult> {
  if (!run.outcome.ok) throw run.outcome.error;
  const result = run.outcome.value;
  expect(result).toMatchObject({ count: target.keys.length, errors: 0, complete: true });
  const key = result.manifest.key as string;
  expect(await objectsUnder(target.s3.client, target.bucket, run.keyPrefix)).toEqual([key]);
  const text = await readText(target.s3.client, target.bucket, key);
  expect(Buffer.byteLength(text)).toBe(result.manifest.bytes);
  const entries = parseManifest(text);
  const keys = entries.map((e) => e.key);
  expect(duplicates(keys)).toEqual([]);
  expect([...keys].sort()).toEqual(target.keys);
  expect(entries.every((e) => e.url === run.urlOf(e.key))).toBe(true);
  expect(await uploadsUnder(target.s3.client, target.bucket, run.keyPrefix)).toEqual([]);
  return result;
}

/** Asserts a failed run, and that it left nothing: no multipart upload in progress, no object under its prefix. */
export async function expectFailureLeavingNothing(
  target: RunTarget,
  run: RunOutcome,
): Promise<Error & Record<string, unknown>> {
  expect(run.outcome.ok, 'the run should have failed').toBe(false);
  expect(await uploadsUnder(target.s3.client, target.bucket, run.keyPrefix)).toEqual([]);
  expect(await objectsUnder(target.s3.client, target.bucket, run.keyPrefix)).toEqual([]);
  return (run.outcome as { error: Error & Record<string, unknown> }).error;
}
