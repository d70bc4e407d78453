import { describe, expect, it } from 'vitest';
import { DEFAULT_FUNCTION_NAME, resolveHandlerSettings } from '../../src/handler-settings.js';
import { lineSink, readCaptured } from '../helpers/capture.js';

describe('resolveHandlerSettings', () => {
  it('fills in the reference defaults and passes to resolveConfig and the allow-lists only the options given', () => {
    const settings = resolveHandlerSettings({ write: () => undefined });
    expect(settings).toMatchObject({
      functionName: DEFAULT_FUNCTION_NAME,
      suffix: '.pdf',
      manifestPrefix: 'manifests/',
      configOptions: {},
      accessOptions: {},
      onExpiryCapped: undefined,
      idempotencyStore: undefined,
      reporters: [],
    });
  });

  it('keeps the options that override the environment', () => {
    const settings = resolveHandlerSettings({
      publicEndpoint: 'https://cdn.example',
      deadlineMarginMs: 45_000,
      manifestEncryption: { serverSideEncryption: 'AES256' },
      allowedBuckets: ['reports'],
      onExpiryCapped: 'refuse',
    });
    expect(settings.configOptions).toEqual({
      publicEndpoint: 'https://cdn.example',
      deadlineMarginMs: 45_000,
      manifestEncryption: { serverSideEncryption: 'AES256' },
    });
    expect(settings.accessOptions).toEqual({ allowedBuckets: ['reports'] });
    expect(settings.onExpiryCapped).toBe('refuse');
  });

  it('reads the environment on every call: the env option, else process.env', () => {
    const given = { BUCKET_NAME: 'from-option' };
    expect(resolveHandlerSettings({ env: given }).env()).toBe(given);
    expect(resolveHandlerSettings({}).env()).toBe(process.env);
  });

  it('makes a fresh EMF reporter per invocation, writing with the function name as dimension', () => {
    const sink = lineSink();
    const settings = resolveHandlerSettings({ write: sink.write, functionName: 'fn', namespace: 'ns' });
    const first = settings.newMetrics();
    expect(settings.newMetrics()).not.toBe(first);
    first.addMetric('IdempotentReplays', 1);
    first.publish();
    expect(readCaptured(sink.lines).metrics).toContainEqual(
      expect.objectContaining({ name: 'IdempotentReplays', value: 1, namespace: 'ns', dimensions: { Function: 'fn' } }),
    );
  });

  it('refuses a bad option, naming it, in the order the options are checked', () => {
    expect(() => resolveHandlerSettings({ functionName: '', suffix: '' })).toThrow(/functionName/);
    expect(() => resolveHandlerSettings({ suffix: '', onExpiryCapped: 'never' as 'warn' })).toThrow(/suffix/);
    expect(() => resolveHandlerSettings({ onExpiryCapped: 'never' as 'warn', deadlineMarginMs: 1 })).toThrow(TypeError);
    expect(() => resolveHandlerSettings({ deadlineMarginMs: 1 })).toThrow(RangeError);
  });
});
