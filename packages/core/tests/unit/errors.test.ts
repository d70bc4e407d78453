import { createRequire } from 'node:module';
import { S3EndpointUnavailableError } from '@presign-pipeline/minio-testing';
import { describe, expect, it } from 'vitest';
import { abortError, isPresignPipelineError, PresignPipelineError } from '../../src/errors.js';
import { presignPipeline } from '../../src/pipeline.js';
import { s3ListSource } from '../../src/s3/s3-list-source.js';
import { checkInteger } from '../../src/validate.js';
import { fakePresigner, scriptedSource, sleep, spyWriter } from './pipeline-helpers.js';

/** The built CommonJS copy of the package: a second copy, with its own PresignPipelineError class. */
const otherCopy = createRequire(import.meta.url)('../../dist/index.cjs') as typeof import('../../src/index.js');

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('PresignPipelineError', () => {
  it('is recognised by instanceof and isPresignPipelineError across two copies of the package', () => {
    // Prepare
    const fromOtherCopy = new otherCopy.PresignPipelineError('SOURCE_FAILED', 'from the CJS build');
    const ours = new PresignPipelineError('SOURCE_FAILED', 'from the sources');

    // Assess
    expect(otherCopy.PresignPipelineError).not.toBe(PresignPipelineError);
    expect(fromOtherCopy instanceof PresignPipelineError).toBe(true);
    expect(ours instanceof otherCopy.PresignPipelineError).toBe(true);
    expect(isPresignPipelineError(fromOtherCopy)).toBe(true);
    expect(otherCopy.isPresignPipelineError(ours)).toBe(true);
  });

  it('is not claimed by plain errors, and instanceof a subclass keeps its usual meaning', () => {
    class JobError extends PresignPipelineError {}
    const job = new JobError('JOB_REJECTED', 'refused');
    expect(new Error('x') instanceof PresignPipelineError).toBe(false);
    expect(Object.assign(new Error('x'), { code: 'SOURCE_FAILED' }) instanceof PresignPipelineError).toBe(false);
    expect(job instanceof PresignPipelineError).toBe(true);
    expect(job instanceof JobError).toBe(true);
    expect(new PresignPipelineError('JOB_REJECTED', 'refused') instanceof JobError).toBe(false);
  });
});

describe("the other packages' errors", () => {
  it("minio-testing's S3EndpointUnavailableError is a PresignPipelineError with code NO_ENDPOINT", () => {
    const error = new S3EndpointUnavailableError([{ kind: 'moto', reason: 'moto_server is not on PATH' }]);
    expect(error).toBeInstanceOf(PresignPipelineError);
    expect(isPresignPipelineError(error)).toBe(true);
    expect(error).toMatchObject({ name: 'S3EndpointUnavailableError', code: 'NO_ENDPOINT' });
  });
});

describe('option errors (INVALID_OPTION)', () => {
  it('are TypeErrors or RangeErrors naming the option, with code INVALID_OPTION', () => {
    // Act
    const wrongType = thrown(() => checkInteger('owner', 'pageSize', 'ten', 1, 1000));
    const outOfRange = thrown(() => checkInteger('owner', 'pageSize', 0, 1, 1000));
    const factory = thrown(() => s3ListSource({ client: { send: async () => ({}) } as never, bucket: '' }));

    // Assess
    expect(wrongType).toBeInstanceOf(TypeError);
    expect(outOfRange).toBeInstanceOf(RangeError);
    for (const error of [wrongType, outOfRange, factory]) {
      expect(error).toBeInstanceOf(PresignPipelineError);
      expect(isPresignPipelineError(error)).toBe(true);
      expect(error).toMatchObject({ code: 'INVALID_OPTION' });
    }
    expect((wrongType as Error).message).toContain('"pageSize"');
    expect((factory as Error).message).toContain('bucket');
    // The other copy's check recognises them too: the brand is shared, not the class.
    expect(otherCopy.isPresignPipelineError(outOfRange)).toBe(true);
  });

  it('are what presignPipeline throws for a bad option, before any side effect', async () => {
    const manifest = spyWriter();
    const run = presignPipeline({
      source: scriptedSource([['a']]),
      presigner: fakePresigner(),
      manifest,
      concurrency: 0,
    });
    await expect(run).rejects.toMatchObject({ name: 'RangeError', code: 'INVALID_OPTION' });
    expect(manifest.opened).toBeUndefined();
  });
});

describe('abortError (ABORTED)', () => {
  it('is a PresignPipelineError named AbortError whose cause is the signal reason', () => {
    const reason = new Error('user cancelled');
    const error = abortError(reason);
    expect(error).toBeInstanceOf(PresignPipelineError);
    expect(error).toMatchObject({ name: 'AbortError', code: 'ABORTED', cause: reason });
    expect(abortError(error)).toBe(error);
  });

  it('is what a run rejects with when its signal aborts', async () => {
    // Prepare
    const controller = new AbortController();
    const run = presignPipeline({
      source: scriptedSource([['a', 'b']], { hangAt: 1 }),
      presigner: fakePresigner(),
      manifest: spyWriter(),
      signal: controller.signal,
    });
    await sleep(10);

    // Act
    controller.abort();
    const error = await run.then(
      () => undefined,
      (e: unknown) => e,
    );

    // Assess
    expect(error).toBeInstanceOf(PresignPipelineError);
    expect(error).toMatchObject({ name: 'AbortError', code: 'ABORTED', cause: controller.signal.reason });
  });
});
