import { inject, describe, expect, it } from 'vitest';
import { defaultSeedBody } from '../../src/index.js';
import { useS3Endpoint } from '../../src/vitest.js';
import { bucketName, getBytes, listAll } from '../helpers/s3.js';

describe('globalSetup + useS3Endpoint', () => {
  it('provides one endpoint per run that test files reach through inject and useS3Endpoint', async () => {
    // Prepare
    const provided = inject('s3Endpoint');
    const endpoint = useS3Endpoint();
    const bucket = bucketName('shared');

    // Act
    await endpoint.createBucket(bucket);
    const count = await endpoint.seed(bucket, ['a/1.pdf', 'a/2.pdf']);
    const listed = await listAll(endpoint.client, bucket);
    const body = new TextDecoder().decode(await getBytes(endpoint.client, bucket, 'a/2.pdf'));
    await endpoint.stop();

    // Assess
    expect(provided.endpoint).toMatch(/^https?:\/\//);
    expect(['external', 'minio', 'moto']).toContain(provided.kind);
    expect(endpoint.endpoint).toBe(provided.endpoint);
    expect(endpoint.kind).toBe(provided.kind);
    expect(count).toBe(2);
    expect(listed.keys).toEqual(['a/1.pdf', 'a/2.pdf']);
    expect(body).toBe(defaultSeedBody('a/2.pdf'));
  });

  it('stop() on a connected handle leaves the shared server running', async () => {
    const first = useS3Endpoint();
    await first.stop();
    const second = useS3Endpoint();
    const response = await fetch(`${second.endpoint}/`);
    expect(response.status).toBeLessThan(500);
    await second.stop();
  });
});
