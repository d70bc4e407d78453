import { defineConfig } from 'vitest/config';

// The AWS SDK prints a Node-version notice once per process on Node 20; workers inherit this.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * The root test configuration: every package and example is a project.
 * Vitest 4 no longer reads a file by this name on its own, so it is always
 * passed explicitly: `vitest run --config vitest.workspace.ts` (see scripts/test.mjs).
 */
export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'examples/*/vitest.config.ts'],
    passWithNoTests: false,
  },
});
