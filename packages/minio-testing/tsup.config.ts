import { defineConfig, type Options } from 'tsup';

const common: Options = {
  // tsup 8.5 passes baseUrl to the declaration build, which TypeScript 6 flags as deprecated.
  dts: { compilerOptions: { ignoreDeprecations: '6.0' } },
  tsconfig: 'tsconfig.build.json',
  sourcemap: true,
  target: 'node20',
  // import.meta.url locates the Dockerfile; the shim makes it work in the CJS build too.
  shims: true,
  // vitest is the caller's (the helpers run inside it); never bundle it.
  external: ['vitest', 'vitest/node'],
};

export default defineConfig([
  { ...common, entry: ['src/index.ts', 'src/global-setup.ts'], format: ['esm', 'cjs'] },
  // The vitest helpers are ES modules only: vitest cannot be require()d, so a CommonJS build could never load.
  { ...common, entry: ['src/vitest.ts'], format: ['esm'] },
]);
