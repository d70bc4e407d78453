import { defineConfig } from 'tsup';

export default defineConfig({
  // internal.ts is `@presign-pipeline/core/internal`: helpers the other packages share, with no compatibility promise.
  entry: ['src/index.ts', 'src/internal.ts'],
  format: ['esm', 'cjs'],
  // tsup 8.5 passes baseUrl to the declaration build, which TypeScript 6 flags as deprecated.
  dts: { compilerOptions: { ignoreDeprecations: '6.0' } },
  tsconfig: 'tsconfig.build.json',
  sourcemap: true,
  clean: true,
  target: 'node20',
});
