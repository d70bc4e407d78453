import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: '@presign-pipeline-examples/baseline',
    include: ['tests/**/*.test.ts'],
    testTimeout: 60000,
    hookTimeout: 60000,
    // One S3 endpoint for the run: S3_ENDPOINT_URL, MinIO in a container, or a local moto_server.
    globalSetup: ['@presign-pipeline/minio-testing/global-setup'],
  },
});
