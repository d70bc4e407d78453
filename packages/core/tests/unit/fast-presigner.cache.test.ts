import { S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fastPresigner } from '../../src/s3/fast-presigner.js';
import { sdkPresigner } from '../../src/s3/sdk-presigner.js';
import { deriveSigningKey } from '../../src/s3/sigv4.js';

// Counts signing-key derivations (four HMACs each) while keeping the real arithmetic.
vi.mock('../../src/s3/sigv4.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/s3/sigv4.js')>();
  return { ...original, deriveSigningKey: vi.fn(original.deriveSigningKey) };
});

const derive = vi.mocked(deriveSigningKey);
const CREDENTIALS = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' };

afterEach(() => {
  vi.useRealTimers();
  derive.mockClear();
});

describe('fastPresigner signing-key cache', () => {
  it('derives the signing key once per day and region, not once per URL', async () => {
    // Prepare
    const client = new S3Client({ region: 'eu-west-1', credentials: CREDENTIALS });
    const fast = fastPresigner({ client, signingDate: new Date('2024-05-06T12:00:00Z') });
    // Act: 500 URLs over two buckets of the same region.
    for (let i = 0; i < 500; i += 1)
      await fast.presign({ bucket: i % 2 ? 'odd' : 'even', key: `k/${i}` }, { expiresIn: 60 });
    // Assess
    expect(derive).toHaveBeenCalledTimes(1);
  });

  it('derives a new key when the day turns, and the URLs stay equal to the SDK ones', async () => {
    // Prepare
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2024-05-06T23:59:59.500Z'));
    const client = new S3Client({ region: 'ap-southeast-2', credentials: CREDENTIALS });
    const fast = fastPresigner({ client });
    const sdk = sdkPresigner({ client });
    const object = { bucket: 'b', key: 'midnight.pdf' };
    // Act
    const before = await fast.presign(object, { expiresIn: 60 });
    expect(before).toBe(await sdk.presign(object, { expiresIn: 60 }));
    vi.setSystemTime(new Date('2024-05-07T00:00:00.250Z'));
    const after = await fast.presign(object, { expiresIn: 60 });
    // Assess
    expect(after).toBe(await sdk.presign(object, { expiresIn: 60 }));
    expect(after).toContain('%2F20240507%2Fap-southeast-2%2Fs3%2Faws4_request');
    expect(derive).toHaveBeenCalledTimes(2);
  });
});
