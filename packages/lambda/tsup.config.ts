import { defineConfig } from 'tsup';

export default defineConfig({
  // cli.ts is the `presign-local` bin (dist/cli.js); tsup keeps its shebang and marks it executable.
  // idempotency.ts is `@presign-pipeline/lambda/idempotency`: DynamoDB and Powertools idempotency live only there.
  entry: { index: 'src/index.ts', cli: 'src/cli.ts', idempotency: 'src/idempotency-entry.ts' },
  format: ['esm', 'cjs'],
  // tsup 8.5 passes baseUrl to the declaration build, which TypeScript 6 flags as deprecated.
  dts: {
    entry: { index: 'src/index.ts', idempotency: 'src/idempotency-entry.ts' },
    compilerOptions: { ignoreDeprecations: '6.0' },
  },
  tsconfig: 'tsconfig.build.json',
  sourcemap: true,
  clean: true,
  target: 'node20',
});
