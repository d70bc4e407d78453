import { randomUUID } from 'node:crypto';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { startFaultProxy, startS3Endpoint } from '@presign-pipeline/minio-testing';
import type { FaultKind, FaultProxy, FaultRule, S3Endpoint, S3Operation } from '@presign-pipeline/minio-testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presignPipeline } from '../../src/pipeline.js';
import { s3ListSource } from '../../src/s3/s3-list-source.js';
import { s3ManifestWriter } from '../../src/s3/s3-manifest-writer.js';
import type { PipelineResult } from '../../src/types.js';
import {
  SOCKET_TIMEOUT_MS,
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

/**
 * Fault injection over a real S3 API: moto_server (or MinIO) behind the fault proxy of minio-testing. For each fault
 * (503 SlowDown, 500 InternalError, connection reset, stalled response) on each operation a run makes
 * (ListObjectsV2, UploadPart, CompleteMultipartUpload, PutObject):
 * - transient: the SDK's retries absorb it, the run completes, and the manifest read back from S3 holds every key
 *   exactly once;
 * - persistent: the run rejects with the S3 error (or the SDK's network error), no multipart upload is left in
 *   progress and no manifest object exists.
 */
const BUCKET = 'reliability-faults';
const PREFIX = 'seeded/';
const SEEDED = 600;
/** 600 keys in pages of 64: ten ListObjectsV2 requests, the first eight holding 512 keys (one write batch). */
const PAGE_SIZE = 64;
const MIB = 1024 * 1024;
/** URLs of 12 KB: 512 lines fill more than one 5 MiB part, so the manifest (7.2 MB) is a two-part upload. */
const LONG_URL = 12_000;
/** URLs of 300 bytes: the manifest (190 KB) is one PutObject. */
const SHORT_URL = 300;
/**
 * A stall: far longer than the client's idle-socket timeout, so each stalled attempt fails with a TimeoutError, and
 * longer than any run, so a request the client gave up on never reaches S3 (the proxy forwards it once the delay is
 * over, as a real network might; stopping the proxy after the run drops it).
 */
const STALL_MS = 60_000;
const RUN_DEADLINE_MS = 90_000;
const TEST_TIMEOUT_MS = 120_000;

const seededKeys = Array.from({ length: SEEDED }, (_, i) => `${PREFIX}${String(i).padStart(4, '0')}.pdf`);

type FaultName = 'slow-down' | 'internal-error' | 'reset' | 'stall';
const FAULTS: readonly FaultName[] = ['slow-down', 'internal-error', 'reset', 'stall'];
const OPERATIONS = ['ListObjectsV2', 'UploadPart', 'CompleteMultipartUpload', 'PutObject'] as const;
type Operation = (typeof OPERATIONS)[number];

/** The rule that injects `fault` on `operation`; `times` undefined = persistent. */
function faultRule(
  fault: FaultName,
  operation: S3Operation,
  options: { times?: number; after?: number; phase?: 'request' | 'response' } = {},
): FaultRule {
  const kind: FaultKind = fault === 'stall' ? 'delay' : fault;
  return {
    fault: kind,
    operation,
    ...(fault === 'stall' ? { delayMs: STALL_MS } : {}),
    ...(options.times !== undefined ? { times: options.times } : {}),
    ...(options.after !== undefined ? { after: options.after } : {}),
    ...(options.phase !== undefined ? { phase: options.phase } : {}),
  };
}

/** The multipart operations need a multipart manifest; the rest use a single PutObject unless said otherwise. */
function urlBytesFor(operation: Operation): number {
  return operation === 'PutObject' ? SHORT_URL : LONG_URL;
}

/** Where in the run a fault is injected: mid-listing for ListObjectsV2 (after the first pages), else from the start. */
function afterFor(operation: Operation, persistent: boolean): number | undefined {
  if (operation !== 'ListObjectsV2') return undefined;
  // Persistent: after eight pages, when 512 keys (a write batch of 6 MB, more than a part) have been listed, so the
  // multipart upload is under way when listing fails for good.
  return persistent ? 8 : 2;
}

describe('fault injection: every fault on every operation of a run', () => {
  let s3: S3Endpoint;

  beforeAll(async () => {
    s3 = await startS3Endpoint({ log: false });
    await s3.createBucket(BUCKET);
    await s3.seed(BUCKET, seededKeys);
  }, 180_000);

  afterAll(async () => {
    await s3?.stop();
  });

  /**
   * Runs the pipeline through a fresh proxy with `rules`, and stops the proxy when the run has settled (dropping
   * requests it still holds back); verification afterwards talks to S3 directly.
   */
  async function runThroughProxy(
    rules: readonly FaultRule[],
    options: { maxAttempts: number; urlBytes: number; signal?: AbortSignal },
  ) {
    const proxy: FaultProxy = await startFaultProxy({ target: s3, rules });
    const client = clientThrough(s3, proxy.endpoint, options.maxAttempts);
    const keyPrefix = `manifests/${randomUUID()}/`;
    const presigner = paddedPresigner(options.urlBytes);
    try {
      const outcome = await settle(
        within(
          RUN_DEADLINE_MS,
          'the run',
          presignPipeline({
            source: s3ListSource({ client, bucket: BUCKET, prefix: PREFIX, pageSize: PAGE_SIZE }),
            presigner,
            manifest: s3ManifestWriter({ client, bucket: BUCKET, keyPrefix, partSize: 5 * MIB, queueSize: 2 }),
            concurrency: 4,
            ...(options.signal !== undefined ? { signal: options.signal } : {}),
          }),
        ),
      );
      return { outcome, hits: proxy.hits, keyPrefix, presigner };
    } finally {
      client.destroy();
      await proxy.stop();
    }
  }

  /** Asserts a completed run: the manifest read back from S3 holds every seeded key exactly once, with its URL. */
  async function expectExactManifest(
    result: PipelineResult,
    keyPrefix: string,
    urlOf: (key: string) => string,
  ): Promise<void> {
    expect(result).toMatchObject({ count: SEEDED, errors: 0, complete: true });
    expect(result.manifest.key).toMatch(new RegExp(`^${keyPrefix}[0-9a-f-]{36}\\.jsonl$`));
    expect(await objectsUnder(s3.client, BUCKET, keyPrefix)).toEqual([result.manifest.key]);
    const text = await readText(s3.client, BUCKET, result.manifest.key as string);
    expect(Buffer.byteLength(text)).toBe(result.manifest.bytes);
    const entries = parseManifest(text);
    const keys = entries.map((e) => e.key);
    expect(duplicates(keys)).toEqual([]);
    expect([...keys].sort()).toEqual(seededKeys);
    expect(entries.every((e) => e.url === urlOf(e.key))).toBe(true);
    expect(await uploadsUnder(s3.client, BUCKET, keyPrefix)).toEqual([]);
  }

  /** Asserts that a failed run left nothing: no multipart upload in progress, no manifest object. */
  async function expectNothingLeft(keyPrefix: string): Promise<void> {
    expect(await uploadsUnder(s3.client, BUCKET, keyPrefix)).toEqual([]);
    expect(await objectsUnder(s3.client, BUCKET, keyPrefix)).toEqual([]);
  }

  /** The error a run rejects with when `fault` never stops. */
  function expectPersistentError(fault: FaultName, error: unknown, maxAttempts: number): void {
    const e = error as {
      name?: string;
      code?: string;
      message?: string;
      $metadata?: { httpStatusCode?: number; attempts?: number };
    };
    switch (fault) {
      case 'slow-down':
        expect(e).toMatchObject({ name: 'SlowDown', $metadata: { httpStatusCode: 503, attempts: maxAttempts } });
        break;
      case 'internal-error':
        expect(e).toMatchObject({ name: 'InternalError', $metadata: { httpStatusCode: 500, attempts: maxAttempts } });
        break;
      case 'reset':
        // The Node HTTP handler names network errors TimeoutError (so the SDK retries them); the code says which.
        expect(e.name).toBe('TimeoutError');
        expect(['ECONNRESET', 'EPIPE']).toContain(e.code);
        expect(e.$metadata?.attempts).toBe(maxAttempts);
        break;
      case 'stall':
        expect(e.name).toBe('TimeoutError');
        expect(e.message).toContain(`timed out after ${SOCKET_TIMEOUT_MS} ms of inactivity`);
        expect(e.$metadata?.attempts).toBe(maxAttempts);
        break;
    }
  }

  /** Checks the run really took the path the operation implies (multipart or a single PutObject). */
  function expectUploadShape(operation: Operation, byOperation: Partial<Record<S3Operation, number>>): void {
    if (operation === 'PutObject') {
      expect(byOperation.PutObject ?? 0).toBeGreaterThan(0);
      expect(byOperation.CreateMultipartUpload ?? 0).toBe(0);
    } else {
      expect(byOperation.CreateMultipartUpload).toBe(1);
      expect(byOperation.PutObject ?? 0).toBe(0);
    }
  }

  describe.each(OPERATIONS)('%s', (operation) => {
    describe.each(FAULTS)('%s', (fault) => {
      it(
        'transient: retried by the SDK, the run completes and the manifest holds every key exactly once',
        async () => {
          // Prepare: two failures (one stall) within three attempts.
          const times = fault === 'stall' ? 1 : 2;
          const after = afterFor(operation, false);
          const rule = faultRule(fault, operation, { times, ...(after !== undefined ? { after } : {}) });

          // Act
          const { outcome, hits, keyPrefix, presigner } = await runThroughProxy([rule], {
            maxAttempts: 3,
            urlBytes: urlBytesFor(operation),
          });

          // Assess
          if (!outcome.ok) throw outcome.error;
          expect(hits.rules[0]?.injected).toBe(times);
          expectUploadShape(operation, hits.byOperation);
          await expectExactManifest(outcome.value, keyPrefix, presigner.urlOf);
        },
        TEST_TIMEOUT_MS,
      );

      it(
        'persistent: the run rejects with the error after maxAttempts and leaves no upload and no manifest behind',
        async () => {
          // Prepare
          const maxAttempts = 2;
          const after = afterFor(operation, true);
          const rules: FaultRule[] = [faultRule(fault, operation, after !== undefined ? { after } : {})];
          if (operation === 'ListObjectsV2') {
            // Holds the failing page back a little, so the first write batch is surely in the multipart upload.
            rules.unshift({ fault: 'delay', operation, after: 8, times: 1, delayMs: 1_000 });
          }

          // Act
          const { outcome, hits, keyPrefix } = await runThroughProxy(rules, {
            maxAttempts,
            urlBytes: urlBytesFor(operation),
          });

          // Assess
          expect(outcome.ok).toBe(false);
          if (outcome.ok) return;
          expectPersistentError(fault, outcome.error, maxAttempts);
          const faultRuleHits = hits.rules[rules.length - 1];
          expect(faultRuleHits?.injected).toBeGreaterThanOrEqual(maxAttempts);
          if (operation !== 'PutObject') {
            // The multipart upload existed when the run failed, and the writer aborted it.
            expect(hits.byOperation.CreateMultipartUpload).toBe(1);
            expect(hits.byOperation.AbortMultipartUpload ?? 0).toBeGreaterThan(0);
          }
          await expectNothingLeft(keyPrefix);
        },
        TEST_TIMEOUT_MS,
      );
    });
  });

  describe('ambiguous failures: S3 carried the request out, the client saw an error', () => {
    it.each([
      ['CompleteMultipartUpload', 'internal-error', 1],
      ['CompleteMultipartUpload', 'reset', 1],
      ['CompleteMultipartUpload', 'stall', 1],
      ['CompleteMultipartUpload', 'internal-error', undefined],
      ['CompleteMultipartUpload', 'reset', undefined],
      ['PutObject', 'internal-error', 1],
      ['PutObject', 'reset', undefined],
    ] as const)(
      '%s answered with %s (times: %s) after it took effect: the writer confirms the manifest and the run completes',
      async (operation, fault, times) => {
        // Prepare: the proxy forwards the request, S3 completes it, and the client gets the fault instead.
        const rule = faultRule(fault, operation, { phase: 'response', ...(times !== undefined ? { times } : {}) });

        // Act
        const { outcome, hits, keyPrefix, presigner } = await runThroughProxy([rule], {
          maxAttempts: 3,
          urlBytes: urlBytesFor(operation),
        });

        // Assess
        if (!outcome.ok) throw outcome.error;
        expect(hits.rules[0]?.injected).toBeGreaterThanOrEqual(1);
        expectUploadShape(operation, hits.byOperation);
        await expectExactManifest(outcome.value, keyPrefix, presigner.urlOf);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'an abort while CompleteMultipartUpload is in flight (already done by S3) deletes the manifest it created',
      async () => {
        // Prepare: S3 completes the upload, the response is held back, and the run is aborted meanwhile.
        const controller = new AbortController();
        let keyOnServer: string | undefined;
        const rule: FaultRule = {
          fault: 'delay',
          operation: 'CompleteMultipartUpload',
          phase: 'response',
          delayMs: 10_000,
          match: (request) => {
            keyOnServer = request.key;
            void (async () => {
              // Abort once the object really exists on the server.
              for (let i = 0; i < 200 && !controller.signal.aborted; i++) {
                const found = await s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: request.key })).then(
                  () => true,
                  () => false,
                );
                if (found) break;
                await new Promise((r) => setTimeout(r, 50));
              }
              controller.abort();
            })();
            return true;
          },
        };

        // Act
        const { outcome, keyPrefix } = await runThroughProxy([rule], {
          maxAttempts: 3,
          urlBytes: LONG_URL,
          signal: controller.signal,
        });

        // Assess
        expect(outcome.ok).toBe(false);
        if (outcome.ok) return;
        expect((outcome.error as Error).name).toBe('AbortError');
        expect(keyOnServer).toMatch(new RegExp(`^${keyPrefix}`));
        await expectNothingLeft(keyPrefix);
      },
      TEST_TIMEOUT_MS,
    );
  });

  describe('maxAttempts decides what is transient', () => {
    it(
      'with maxAttempts 1 a single SlowDown fails the run; with 2 the same fault is absorbed',
      async () => {
        // Act
        const once = await runThroughProxy([faultRule('slow-down', 'PutObject', { times: 1 })], {
          maxAttempts: 1,
          urlBytes: SHORT_URL,
        });
        const twice = await runThroughProxy([faultRule('slow-down', 'PutObject', { times: 1 })], {
          maxAttempts: 2,
          urlBytes: SHORT_URL,
        });

        // Assess
        expect(once.outcome.ok).toBe(false);
        if (!once.outcome.ok) expectPersistentError('slow-down', once.outcome.error, 1);
        await expectNothingLeft(once.keyPrefix);
        if (!twice.outcome.ok) throw twice.outcome.error;
        await expectExactManifest(twice.outcome.value, twice.keyPrefix, twice.presigner.urlOf);
      },
      TEST_TIMEOUT_MS,
    );
  });
});
