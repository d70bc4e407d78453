import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: '@presign-pipeline/lambda',
    include: ['tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // One S3 endpoint (MinIO, or moto_server where no container runtime runs) shared by the integration files.
    globalSetup: ['./tests/global-setup.ts'],
  },
});
