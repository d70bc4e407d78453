// Bundle size and cold init of handlers as a user deploys them: esbuild, minified, for Node 20 (what SAM's esbuild
// builder runs), against a naive handler that presigns with getSignedUrl alone.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixtures = fileURLToPath(new URL('bundle/', import.meta.url));
const outDir = `${root}.bench-tmp/bundle/`;

export const HANDLERS = [
  { name: 'naive', label: 'naive getSignedUrl handler', entry: 'naive-handler.mjs' },
  { name: 'default', label: "`handler` from '@presign-pipeline/lambda'", entry: 'default-handler.mjs' },
  { name: 'idempotent', label: "`handler` from '@presign-pipeline/lambda/idempotency'", entry: 'idempotent-handler.mjs' },
];

// ESM bundles of CommonJS code (the AWS SDK) call require() for Node built-ins; esbuild's ESM output has no require,
// so the banner gives it one (see docs/deploying.md).
export const ESM_BANNER = "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

async function build(esbuild, handler, format) {
  const outfile = `${outDir}${handler.name}.${format === 'esm' ? 'mjs' : 'cjs'}`;
  await esbuild.build({
    entryPoints: [`${fixtures}${handler.entry}`],
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'es2022',
    format,
    outfile,
    logLevel: 'error',
    // The fixtures live outside any package: the SDK resolves from where core installs it, as a user's would.
    nodePaths: [`${root}packages/lambda/node_modules`, `${root}packages/core/node_modules`],
    ...(format === 'esm' ? { banner: { js: ESM_BANNER } } : {}),
  });
  return { outfile, bytes: statSync(outfile).size };
}

/** Milliseconds from process start until the bundle's handler is loaded, in a fresh Node process. */
function coldInitMs(outfile) {
  const script = `await import(${JSON.stringify(pathToFileURL(outfile).href)}); process.stdout.write(String(performance.now()));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, AWS_REGION: 'us-east-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  if (child.status !== 0) throw new Error(`loading ${outfile} failed: ${child.stderr}`);
  return Number(child.stdout);
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Builds every handler in both formats, then times `rounds` cold starts of each CommonJS bundle, interleaved. */
export async function benchBundles({ rounds = 10, log = () => {} } = {}) {
  const esbuild = await import('esbuild');
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const results = {};
  for (const handler of HANDLERS) {
    const cjs = await build(esbuild, handler, 'cjs');
    const esm = await build(esbuild, handler, 'esm');
    results[handler.name] = { label: handler.label, cjsBytes: cjs.bytes, esmBytes: esm.bytes, outfile: cjs.outfile, initMs: [] };
  }
  // Interleaved, so a busy moment on the machine slows every handler alike.
  for (let round = 0; round < rounds; round += 1) {
    for (const handler of HANDLERS) results[handler.name].initMs.push(coldInitMs(results[handler.name].outfile));
  }
  for (const handler of HANDLERS) {
    const r = results[handler.name];
    r.initMedianMs = median(r.initMs);
    delete r.outfile;
    log(`  ${handler.label.padEnd(56)} cjs ${r.cjsBytes.toLocaleString('en-US').padStart(9)} B, esm ${r.esmBytes.toLocaleString('en-US').padStart(9)} B, cold init ${r.initMedianMs.toFixed(1)} ms (median of ${rounds})`);
  }
  const naive = results.naive;
  const sizeRatio = results.default.cjsBytes / naive.cjsBytes;
  const initDelta = results.default.initMedianMs - naive.initMedianMs;
  log(`  default / naive bundle: ${sizeRatio.toFixed(3)}× (target ≤ 1.15×: ${sizeRatio <= 1.15 ? 'met' : 'MISSED'}); ` +
      `cold init +${initDelta.toFixed(1)} ms (target ≤ +10 ms: ${initDelta <= 10 ? 'met' : 'MISSED'})`);
  return { rounds, handlers: results, sizeRatio, initDeltaMs: initDelta };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchBundles({ rounds: Number(process.argv[2] ?? 10), log: (line) => process.stdout.write(`${line}\n`) });
}
