import { S3Client } from '@aws-sdk/client-s3';
import { fastPresigner, isPresignPipelineError, type Presigner } from '@presign-pipeline/core';
import { describe, expect, it } from 'vitest';
import { prefixGuardPresigner } from '../src/prefix-guard-presigner.js';

const client = new S3Client({
  region: 'us-east-1',
  endpoint: 'http://127.0.0.1:9000',
  forcePathStyle: true,
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example-secret' },
});
const signingDate = new Date('2026-04-01T00:00:00Z');
const options = { expiresIn: 900 };

describe('prefixGuardPresigner', () => {
  it('signs keys under the prefix exactly as the presigner it wraps', async () => {
    const inner = fastPresigner({ client, signingDate });
    const guarded = prefixGuardPresigner(inner, 'reports/');
    const object = { bucket: 'b', key: 'reports/a b.pdf' };
    expect(await guarded.presign(object, options)).toBe(await inner.presign(object, options));
    // Warm now: the synchronous fast path is kept.
    expect(guarded.presignSync?.(object, options)).toBe(inner.presignSync(object, options));
    expect(await guarded.credentialsExpiration?.()).toBeUndefined();
  });

  it('refuses keys outside the prefix, on both paths, with a pipeline error naming the key', async () => {
    const guarded = prefixGuardPresigner(fastPresigner({ client, signingDate }), 'reports/');
    const outside = { bucket: 'b', key: 'private/payroll.pdf' };
    const refusal = await guarded.presign(outside, options).catch((error: unknown) => error);
    expect(isPresignPipelineError(refusal) && refusal.code === 'PRESIGN_FAILED' && refusal.key === outside.key).toBe(
      true,
    );
    expect(() => guarded.presignSync?.(outside, options)).toThrow('key is outside reports/');
  });

  it('adds no optional member the inner presigner lacks', () => {
    const plain: Presigner = { presign: async () => 'https://example.test/x' };
    const guarded = prefixGuardPresigner(plain, 'reports/');
    expect(guarded.presignSync).toBeUndefined();
    expect(guarded.credentialsExpiration).toBeUndefined();
  });
});
