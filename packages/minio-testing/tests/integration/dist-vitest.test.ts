import { describe, expect, it } from 'vitest';
// Through the package's own exports map, as other packages' suites import it.
import { useS3Endpoint } from '@presign-pipeline/minio-testing/vitest';
import { requireDist } from '../helpers/node.js';

describe('the built vitest helper', () => {
  it('reads the endpoint the globalSetup provided', async () => {
    requireDist();
    const endpoint = useS3Endpoint();
    try {
      const response = await fetch(`${endpoint.endpoint}/`);
      expect(response.status).toBeLessThan(500);
      expect(['external', 'minio', 'moto']).toContain(endpoint.kind);
    } finally {
      await endpoint.stop();
    }
  });
});
