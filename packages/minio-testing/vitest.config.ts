import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: '@presign-pipeline/minio-testing',
    include: ['tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // One shared endpoint for the run, exercised by tests/integration/global-setup.test.ts.
    globalSetup: ['./src/global-setup.ts'],
  },
});
