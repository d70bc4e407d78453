import type { S3ManifestWriterOptions } from '@presign-pipeline/core';
import { describe, expect, it, vi } from 'vitest';

// Records the options the job hands the S3 manifest writer (the writer itself is the real one).
const writerOptions = vi.hoisted(() => [] as S3ManifestWriterOptions[]);
vi.mock('@presign-pipeline/core', async (importOriginal) => {
  const core = await importOriginal<typeof import('@presign-pipeline/core')>();
  return {
    ...core,
    s3ManifestWriter: (options: S3ManifestWriterOptions) => {
      writerOptions.push(options);
      return core.s3ManifestWriter(options);
    },
  };
});

const { resolveHandlerSettings } = await import('../../src/handler-settings.js');
const { Invocation } = await import('../../src/invocation.js');
const { isRequestRejection, planJob } = await import('../../src/job-plan.js');
const { JobRun } = await import('../../src/job-run.js');
const { manifestPartPool, SMALL_FUNCTION_MB } = await import('../../src/memory-size.js');
const { lineSink } = await import('../helpers/capture.js');
const { memoryS3Client } = await import('../helpers/memory-s3.js');

const MIB = 1024 * 1024;

describe('manifestPartPool', () => {
  it('gives functions of 256 MB or less one 5 MiB part in flight', () => {
    for (const memory of ['128', '192', String(SMALL_FUNCTION_MB)]) {
      expect(manifestPartPool({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: memory })).toEqual({
        partSize: 5 * MIB,
        queueSize: 1,
      });
    }
  });

  it("keeps the writer's defaults for larger functions, outside Lambda, and for a value that is not a size", () => {
    for (const memory of ['257', '1024', '10240', undefined, '', '0', '128MB', '-128', '1e2']) {
      expect(manifestPartPool({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: memory })).toEqual({});
    }
  });
});

describe('the job run', () => {
  async function writerOptionsFor(env: Record<string, string>): Promise<S3ManifestWriterOptions | undefined> {
    writerOptions.length = 0;
    const s3 = memoryS3Client({ keys: ['a/1.pdf', 'a/2.pdf'] });
    const sink = lineSink();
    const settings = resolveHandlerSettings({
      s3Client: s3.client,
      write: sink.write,
      env: { AWS_LAMBDA_FUNCTION_NAME: 'fn', AWS_REGION: 'eu-west-1', ...env },
    });
    const plan = planJob({ bucket: 'reports', prefix: 'a/' }, settings.env(), {
      configOptions: {},
      accessOptions: {},
      onExpiryCapped: undefined,
      idempotency: undefined,
    });
    if (isRequestRejection(plan)) throw new Error(`refused: ${plan.error}`);
    const presigner = { presign: async ({ key }: { key: string }) => `https://reports.example/${key}` };
    const run = new JobRun({
      settings,
      invocation: new Invocation('req-1', settings.newMetrics(), sink.write),
      plan,
      clients: { client: s3.client, signingClient: s3.client, presigner },
      deadline: undefined,
      env: settings.env(),
      context: undefined,
    });
    expect(await run.outcome()).toMatchObject({ kind: 'ran', result: { count: 2 } });
    return writerOptions[0];
  }

  it("uploads a small function's manifest from the small part pool", async () => {
    expect(await writerOptionsFor({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128' })).toMatchObject({
      partSize: 5 * MIB,
      queueSize: 1,
    });
  });

  it("leaves a large function's writer on its defaults", async () => {
    const options = await writerOptionsFor({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024' });
    expect(options).toBeDefined();
    expect(options?.partSize).toBeUndefined();
    expect(options?.queueSize).toBeUndefined();
  });
});
