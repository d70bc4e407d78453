// Bundle size and cold init of handlers as a user deploys them: esbuild, minified, for Node 20 (what SAM's esbuild
// builder runs), against a naive handler that presigns with getSignedUrl alone.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { insertSection } from '../lib/performance-page.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixtures = fileURLToPath(new URL('bundle/', import.meta.url));
const outDir = `${root}.bench-tmp/bundle/`;

export const HANDLERS = [
  { name: 'naive', label: 'naive getSignedUrl handler', entry: 'naive-handler.mjs' },
  { name: 'default', label: "`handler` from '@presign-pipeline/lambda'", entry: 'default-handler.mjs' },
  {
    name: 'idempotent',
    label: "`handler` from '@presign-pipeline/lambda/idempotency'",
    entry: 'idempotent-handler.mjs',
  },
];

// ESM bundles of CommonJS code (the AWS SDK) call require() for Node built-ins; esbuild's ESM output has no require,
// so the banner gives it one (see docs/deploying.md).
export const ESM_BANNER =
  "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

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
  const loadAtStart = loadavg()[0];
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const results = {};
  for (const handler of HANDLERS) {
    const cjs = await build(esbuild, handler, 'cjs');
    const esm = await build(esbuild, handler, 'esm');
    results[handler.name] = {
      label: handler.label,
      cjsBytes: cjs.bytes,
      esmBytes: esm.bytes,
      outfile: cjs.outfile,
      initMs: [],
    };
  }
  // Interleaved, so a busy moment on the machine slows every handler alike.
  for (let round = 0; round < rounds; round += 1) {
    for (const handler of HANDLERS) results[handler.name].initMs.push(coldInitMs(results[handler.name].outfile));
  }
  for (const handler of HANDLERS) {
    const r = results[handler.name];
    r.initMedianMs = median(r.initMs);
    delete r.outfile;
    log(
      `  ${handler.label.padEnd(56)} cjs ${r.cjsBytes.toLocaleString('en-US').padStart(9)} B, esm ${r.esmBytes.toLocaleString('en-US').padStart(9)} B, cold init ${r.initMedianMs.toFixed(1)} ms (median of ${rounds})`,
    );
  }
  const naive = results.naive;
  const sizeRatio = results.default.cjsBytes / naive.cjsBytes;
  const initDelta = results.default.initMedianMs - naive.initMedianMs;
  log(
    `  default / naive bundle: ${sizeRatio.toFixed(3)}× (target ≤ 1.15×: ${sizeRatio <= 1.15 ? 'met' : 'MISSED'}); ` +
      `cold init +${initDelta.toFixed(1)} ms (target ≤ +10 ms: ${initDelta <= 10 ? 'met' : 'MISSED'})`,
  );
  const runAt = new Date().toISOString();
  return { rounds, handlers: results, sizeRatio, initDeltaMs: initDelta, load: [loadAtStart, loadavg()[0]], runAt };
}

export const SECTION_START = '<!-- bundle:start (scripts/bench/bundle.mjs) -->';
export const SECTION_END = '<!-- bundle:end -->';
const kb = (bytes) => `${(bytes / 1000).toLocaleString('en-US', { maximumFractionDigits: 0 })} kB`;

/** The docs/performance.md section of one run of {@link benchBundles}, between its markers. */
export function renderBundleSection(result) {
  const { handlers, rounds, sizeRatio, initDeltaMs } = result;
  const naive = handlers.naive;
  const rows = HANDLERS.map(({ name }) => {
    const h = handlers[name];
    const ratio = (h.cjsBytes / naive.cjsBytes).toFixed(3);
    const delta = h.initMedianMs - naive.initMedianMs;
    return `| ${h.label} | ${kb(h.cjsBytes)} | ${kb(h.esmBytes)} | ${ratio}× | ${h.initMedianMs.toFixed(1)} ms | ${name === 'naive' ? '—' : `${delta >= 0 ? '+' : ''}${delta.toFixed(1)} ms`} |`;
  });
  const met = (ok) => (ok ? '✅ met' : '❌ missed');
  return [
    SECTION_START,
    '## The Lambda bundle: size and cold init',
    '',
    `Measured by \`node scripts/bench/bundle.mjs --write\` (also part of \`npm run bench\`) at ${result.runAt}. Each handler bundled as a user deploys it (esbuild, minified, platform node, target es2022, one file; the ES module bundle with the \`createRequire\` banner of [installing](installing.md#bundling-esbuild-sam)), against a naive handler that presigns with \`getSignedUrl\` alone. Cold init is the time from process start to the handler loaded (\`performance.now()\` after \`import()\` of the CommonJS bundle in a fresh Node.js ${process.version} process), median of ${rounds} runs interleaved across the handlers (load average ${result.load[0].toFixed(1)} at the start, ${result.load[1].toFixed(1)} at the end, on 2 cores: other work slows every handler alike, but inflates the absolute times).`,
    '',
    '| handler | CJS bundle | ESM bundle | CJS / naive | cold init (median) | vs naive |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    `Targets: the default handler's bundle at most 1.15× the naive one's: **${sizeRatio.toFixed(3)}×** ${met(sizeRatio <= 1.15)}; its cold init at most 10 ms above the naive one's: **${initDeltaMs >= 0 ? '+' : ''}${initDeltaMs.toFixed(1)} ms** ${met(initDeltaMs <= 10)}. DynamoDB and Powertools idempotency are only in the \`/idempotency\` entry point's bundle.`,
    SECTION_END,
    '',
  ].join('\n');
}

/** Puts the section in place of the previous one, or before "## Reproduce" the first time. */
export function insertBundleSection(markdown, section) {
  return insertSection(markdown, section, { start: SECTION_START, end: SECTION_END });
}

// `node scripts/bench/bundle.mjs [rounds] [--write]`: --write updates this section of docs/performance.md alone.
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const rounds = Number(args.find((arg) => /^\d+$/.test(arg)) ?? 10);
  const result = await benchBundles({ rounds, log: (line) => process.stdout.write(`${line}\n`) });
  if (args.includes('--write')) {
    const page = `${root}docs/performance.md`;
    writeFileSync(page, insertBundleSection(readFileSync(page, 'utf8'), renderBundleSection(result)));
    process.stdout.write('wrote the bundle section of docs/performance.md\n');
  }
}
