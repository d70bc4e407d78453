import { describe, expect, it } from 'vitest';
import { presignPipeline } from '../../src/pipeline.js';
import type { PresignPipelineOptions } from '../../src/types.js';
import { fakePresigner, rejectionOf, scriptedSource, spyWriter } from './pipeline-helpers.js';

function parts() {
  const source = scriptedSource([['a']]);
  let pagesCalled = 0;
  const watchedSource = {
    bucket: source.bucket,
    pages: (ctx: Parameters<typeof source.pages>[0]) => {
      pagesCalled++;
      return source.pages(ctx);
    },
  };
  const presigner = fakePresigner();
  const manifest = spyWriter();
  let subscribed = 0;
  const reporter = { subscribe: () => void subscribed++ };
  return {
    options: { source: watchedSource, presigner, manifest, reporters: [reporter] } as PresignPipelineOptions,
    sideEffects: () => ({
      pagesCalled,
      presigns: presigner.calls.length,
      opened: manifest.opened !== undefined,
      subscribed,
    }),
  };
}

const NONE = { pagesCalled: 0, presigns: 0, opened: false, subscribed: 0 };

describe('presignPipeline: option validation before any side effect', () => {
  const cases: [string, Record<string, unknown>, ErrorConstructor, string][] = [
    [
      'concurrency 0',
      { concurrency: 0 },
      RangeError,
      'presignPipeline: option "concurrency" must be an integer >= 1, got number 0',
    ],
    ['concurrency 1.5', { concurrency: 1.5 }, RangeError, '"concurrency"'],
    ['concurrency -3', { concurrency: -3 }, RangeError, '"concurrency"'],
    ['concurrency "4"', { concurrency: '4' }, TypeError, '"concurrency" must be an integer >= 1, got string "4"'],
    ['concurrency NaN', { concurrency: Number.NaN }, TypeError, '"concurrency"'],
    ['concurrency Infinity', { concurrency: Number.POSITIVE_INFINITY }, RangeError, '"concurrency"'],
    ['queueMax 0', { queueMax: 0 }, RangeError, '"queueMax" must be an integer >= 1'],
    ['queueMax null', { queueMax: null }, TypeError, '"queueMax"'],
    ['expiresIn 0', { expiresIn: 0 }, RangeError, '"expiresIn" must be an integer in 1..604800, got number 0'],
    ['expiresIn 604801', { expiresIn: 604_801 }, RangeError, '"expiresIn"'],
    ['expiresIn 1.5', { expiresIn: 1.5 }, RangeError, '"expiresIn"'],
    ['expiresIn "900"', { expiresIn: '900' }, TypeError, '"expiresIn"'],
    ['source missing', { source: undefined }, TypeError, '"source" must be a KeySource'],
    ['source without pages', { source: { bucket: 'b' } }, TypeError, '"source.pages" must be a function'],
    [
      'source bucket empty',
      { source: { bucket: '', pages: () => [] } },
      RangeError,
      '"source.bucket" must be a non-empty string',
    ],
    ['source bucket not a string', { source: { bucket: 7, pages: () => [] } }, TypeError, '"source.bucket"'],
    ['presigner missing', { presigner: null }, TypeError, '"presigner" must be a Presigner'],
    ['presigner without presign', { presigner: {} }, TypeError, '"presigner.presign" must be a function'],
    [
      'presignSync not a function',
      { presigner: { presign: async () => 'u', presignSync: 1 } },
      TypeError,
      '"presigner.presignSync"',
    ],
    ['manifest missing', { manifest: undefined }, TypeError, '"manifest" must be a ManifestWriter'],
    [
      'manifest without abort',
      { manifest: { write() {}, close: async () => ({ bytes: 0 }) } },
      TypeError,
      '"manifest.abort"',
    ],
    [
      'manifest open not a function',
      { manifest: { open: 1, write() {}, close() {}, abort() {} } },
      TypeError,
      '"manifest.open"',
    ],
    ['signal not a signal', { signal: {} }, TypeError, '"signal" must be an AbortSignal'],
    ['reporters not an array', { reporters: {} }, TypeError, '"reporters" must be an array'],
    ['reporter without subscribe', { reporters: [{}] }, TypeError, '"reporters[0].subscribe" must be a function'],
    ['requestId empty', { requestId: '' }, RangeError, '"requestId"'],
    ['deadline not finite', { deadline: Number.NaN }, TypeError, '"deadline" must be a finite number'],
    [
      'onExpiryCapped unknown',
      { onExpiryCapped: 'ignore' },
      RangeError,
      '"onExpiryCapped" must be one of "warn", "refuse"',
    ],
  ];

  it.each(cases)('%s', async (_name, override, type, message) => {
    const { options, sideEffects } = parts();
    const error = await rejectionOf(presignPipeline({ ...options, ...override } as PresignPipelineOptions));
    expect(error).toBeInstanceOf(type);
    expect((error as Error).message).toContain(message);
    expect(sideEffects()).toEqual(NONE);
  });

  it('rejects options that are not an object', async () => {
    await expect(presignPipeline(undefined as never)).rejects.toThrow(
      /option "options" must be an object, got undefined/,
    );
  });

  it('accepts the boundary values', async () => {
    const { options } = parts();
    const result = await presignPipeline({ ...options, concurrency: 1, queueMax: 1, expiresIn: 604_800 });
    expect(result.effectiveExpiresIn).toBe(604_800);
    const again = parts();
    await expect(presignPipeline({ ...again.options, expiresIn: 1 })).resolves.toMatchObject({ count: 1 });
  });
});
