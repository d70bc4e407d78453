import { defineConfig } from 'tsup';

export default defineConfig({
  // cli.ts is the `presign-local` bin (dist/cli.js); tsup keeps its shebang and marks it executable.
  entry: ['src/index.ts', 'src/cli.ts'],
  format: ['esm', 'cjs'],
  // tsup 8.5 passes baseUrl to the declaration build, which TypeScript 6 flags as deprecated.
  dts: { entry: 'src/index.ts', compilerOptions: { ignoreDeprecations: '6.0' } },
  tsconfig: 'tsconfig.build.json',
  sourcemap: true,
  clean: true,
  target: 'node20',
});
