import type { Context } from 'aws-lambda';
import { PresignPipelineError } from '@presign-pipeline/core';
import { describe, expect, it } from 'vitest';
import { createPresignHandler } from '../../src/handler.js';
import type { IdempotencyStore, IdempotentJob } from '../../src/idempotency.js';
import { countingS3Client, lineSink, readCaptured } from '../helpers/capture.js';

const context = { awsRequestId: 'req-store', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;

describe('createPresignHandler: the idempotency store', () => {
  it('fails with IDEMPOTENCY_UNAVAILABLE, naming IDEMPOTENCY_TABLE, before any S3 call when idempotency is on without a store', async () => {
    const s3 = countingS3Client();
    const sink = lineSink();
    const handler = createPresignHandler({
      s3Client: s3.client,
      write: sink.write,
      env: { IDEMPOTENCY_TABLE: 'jobs' },
    });
    const failure = await handler({ bucket: 'reports', prefix: 'a/' }, context).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({ code: 'IDEMPOTENCY_UNAVAILABLE' });
    expect((failure as Error).message).toContain('IDEMPOTENCY_TABLE');
    expect((failure as Error).message).toContain('@presign-pipeline/lambda/idempotency');
    expect(s3.calls()).toBe(0);
    expect(readCaptured(sink.lines).logs).toEqual([
      expect.objectContaining({ event: 'error', request_id: 'req-store', error_name: 'PresignPipelineError' }),
    ]);
  });

  it('does not need a store while idempotency is off', async () => {
    const s3 = countingS3Client();
    const handler = createPresignHandler({ s3Client: s3.client, write: () => undefined, env: {}, idempotency: false });
    // The counting client answers every call with an error: what matters is that the run reached S3.
    await handler({ bucket: 'reports', prefix: 'a/' }, context).catch(() => undefined);
    expect(s3.calls()).toBeGreaterThan(0);
  });

  it('hands the store the job, its key, the function name as key prefix, the lifetime and the region', async () => {
    const seen: IdempotentJob[] = [];
    const store: IdempotencyStore = {
      async run(job) {
        seen.push(job);
        return {
          replay: true,
          stored: {
            count: 3,
            errors: 0,
            pages: 1,
            manifest_key: 'manifests/x.jsonl',
            manifest_bytes: 10,
            urls_expire_at: Math.floor(Date.now() / 1000) + 600,
          },
        };
      },
    };
    const s3 = countingS3Client();
    const handler = createPresignHandler({
      s3Client: s3.client,
      write: () => undefined,
      env: { IDEMPOTENCY_TABLE: 'jobs', AWS_REGION: 'eu-west-1', AWS_LAMBDA_FUNCTION_NAME: 'fn' },
      clientConfig: { credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } },
      idempotencyStore: store,
    });
    const response = await handler({ bucket: 'reports', prefix: 'a/', expiry_seconds: 900 }, context);
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ count: 3, manifest_key: 'manifests/x.jsonl', complete: true });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      settings: { tableName: 'jobs' },
      key: { bucket: 'reports', prefix: 'a/', expiry_seconds: 900, suffix: '.pdf' },
      keyPrefix: 'fn',
      lifetimeSeconds: 840,
      region: 'eu-west-1',
    });
    // A replay lists nothing.
    expect(s3.calls()).toBe(0);
  });

  it('rejects a store without run() when the handler is created, with code INVALID_OPTION', () => {
    expect(() => createPresignHandler({ idempotencyStore: {} as IdempotencyStore })).toThrow(
      /idempotencyStore must have a run\(\) method/,
    );
    expect(() => createPresignHandler({ idempotencyStore: {} as IdempotencyStore })).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'INVALID_OPTION' }),
    );
    expect(() => createPresignHandler({ idempotencyStore: {} as IdempotencyStore })).toThrow(PresignPipelineError);
  });
});
