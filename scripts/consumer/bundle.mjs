// Bundles handler.ts as a consumer deploys it (esbuild, as SAM's esbuild builder runs it) in both formats, and checks
// that the bundle holds exactly one copy of @aws-sdk/client-s3: the consumer's own.
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

// ESM bundles of the AWS SDK (partly CommonJS) need a require() for Node built-ins: see docs/installing.md.
const ESM_BANNER = "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

async function bundle(format, outfile, banner) {
  const result = await build({
    entryPoints: ['handler.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'es2022',
    format,
    minify: true,
    metafile: true,
    logLevel: 'error',
    ...(banner ? { banner: { js: banner } } : {}),
  });
  return result.metafile;
}

/** The package roots of client-s3 the bundle took modules from, e.g. `node_modules/@aws-sdk/client-s3`. */
function clientS3Copies(metafile) {
  const roots = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    const match = /^(.*node_modules\/@aws-sdk\/client-s3)\//.exec(input);
    if (match) roots.add(match[1]);
  }
  return [...roots];
}

const own = JSON.parse(readFileSync('node_modules/@aws-sdk/client-s3/package.json', 'utf8')).version;
for (const [format, outfile, banner] of [
  ['cjs', 'dist/handler.cjs'],
  ['esm', 'dist/handler.mjs', ESM_BANNER],
  ['esm', 'dist/handler-no-banner.mjs'],
]) {
  const copies = clientS3Copies(await bundle(format, outfile, banner));
  if (copies.length !== 1 || copies[0] !== 'node_modules/@aws-sdk/client-s3') {
    throw new Error(`${outfile}: expected the consumer's client-s3 ${own} once, found ${JSON.stringify(copies)}`);
  }
  console.log(`bundled ${outfile}: one copy of @aws-sdk/client-s3 (the consumer's ${own})`);
}
