import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: '@presign-pipeline/minio-testing',
    include: ['tests/**/*.test.ts'],
    testTimeout: 30_000,
  },
});
