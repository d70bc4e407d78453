import { describe, expect, it } from 'vitest';
import { detectContainerRuntime, pinnedMinioImage, startS3Endpoint } from '../../src/index.js';
import { bucketName, getBytes, listAll } from '../helpers/s3.js';

const started = performance.now();
const runtime = await detectContainerRuntime(5_000);
const detectionMs = Math.round(performance.now() - started);

describe('container runtime detection', () => {
  it('answers with a reason exactly when no runtime is available', () => {
    console.info(`container runtime: ${JSON.stringify(runtime)} in ${detectionMs} ms`);
    if (runtime.available) expect(runtime.reason).toBeUndefined();
    else expect(runtime.reason).toMatch(/\S/);
  });

  it.runIf(!runtime.available)('reports the Testcontainers reason on a machine without a runtime', () => {
    expect(runtime).toEqual({ available: false, reason: expect.stringMatching(/container runtime/i) });
  });

  it('rejects a non-positive timeout, naming it', async () => {
    await expect(detectContainerRuntime(0)).rejects.toThrow(/timeoutMs/);
  });

  it('reads the image pin from the package Dockerfile', () => {
    expect(pinnedMinioImage()).toBe('minio/minio:RELEASE.2024-12-13T22-19-12Z');
  });
});

describe.runIf(runtime.available)('MinIO through Testcontainers', () => {
  it('starts the pinned image and round-trips objects', async () => {
    await using endpoint = await startS3Endpoint({ prefer: ['minio'], log: false });
    const bucket = bucketName('minio');

    await endpoint.createBucket(bucket);
    await endpoint.createBucket(bucket);
    const count = await endpoint.seed(bucket, [{ key: 'dir/a b+c.pdf', body: 'pdf bytes' }, 'dir/plain']);
    const listed = await listAll(endpoint.client, bucket);

    expect(endpoint.kind).toBe('minio');
    expect(count).toBe(2);
    expect(listed.keys).toEqual(['dir/a b+c.pdf', 'dir/plain']);
    expect(new TextDecoder().decode(await getBytes(endpoint.client, bucket, 'dir/a b+c.pdf'))).toBe('pdf bytes');
  }, 180_000);
});
