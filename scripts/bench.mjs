#!/usr/bin/env node
// `npm run bench`: measures the presigners, the pipeline and the S3 path, prints the ratios, and rewrites
// docs/performance.md and its charts (docs/images/*.svg) with the numbers of this run.
//
//   node scripts/bench.mjs [--quick] [--skip presigners,pipeline,concurrency,e2e,listing,simulator,inventory,s3writer,autolisting,autolisting-layouts,autolisting-large,autolisting-resume,lambda-memory,bundle] [--no-write]
//        [--simulator-sizes 100000,1000000,10000000]
//   node scripts/bench.mjs --render   # rewrite the page and charts from docs/images/bench-results.json, measuring nothing
//
// --quick uses small sizes (a smoke test of the scripts; its numbers are not written to the docs unless --write).
// Benchmarks are not tests: nothing here passes or fails on speed; the targets are reported next to the numbers.
import { execSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, release, platform } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchPresigners } from './bench/presigners.mjs';
import { benchEndToEnd, runChild } from './bench/e2e.mjs';
import { renderPerformanceDoc } from './bench/report.mjs';
import {
  SECTION_END as LISTING_END,
  SECTION_START as LISTING_START,
  benchParallelListing,
  insertParallelListingSection,
  renderParallelListingSection,
} from './bench/parallel-listing.mjs';
import { coreRequire } from './bench/load.mjs';
import { sectionOnPage } from './lib/performance-page.mjs';
import {
  benchBundles,
  insertBundleSection,
  renderBundleSection,
  SECTION_START as BUNDLE_START,
  SECTION_END as BUNDLE_END,
} from './bench/bundle.mjs';
import {
  AUTO_LISTING_SUBSECTIONS,
  benchAutoListing,
  benchAutoListingLarge,
  benchAutoListingLayouts,
  benchAutoListingResume,
  insertAutoListingSection,
  insertAutoListingSubsection,
  renderAutoListingLargeSection,
  renderAutoListingLayoutsSection,
  renderAutoListingResumeSection,
  renderAutoListingSection,
  SECTION_START as AUTO_LISTING_START,
  SECTION_END as AUTO_LISTING_END,
} from './bench/auto-listing.mjs';
import {
  SECTION_END as INVENTORY_END,
  SECTION_START as INVENTORY_START,
  benchInventory,
  insertInventorySection,
  renderInventorySection,
} from './bench/inventory.mjs';
import {
  SECTION_END as SIMULATOR_END,
  SECTION_START as SIMULATOR_START,
  benchSimulatorEndToEnd,
  insertSimulatorSection,
  renderSimulatorSection,
  simulatorChart,
} from './bench/simulator-e2e.mjs';
import {
  SECTION_END as LAMBDA_MEMORY_END,
  SECTION_START as LAMBDA_MEMORY_START,
  benchLambdaMemory,
  insertLambdaMemorySection,
  renderLambdaMemorySection,
} from './bench/lambda-memory.mjs';
import {
  SECTION_END as S3_WRITER_END,
  SECTION_START as S3_WRITER_START,
  benchS3Writer,
  savedLibStorage,
  insertS3WriterSection,
  renderS3WriterSection,
} from './bench/s3-writer.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    skip: { type: 'string', default: '' },
    'no-write': { type: 'boolean', default: false },
    write: { type: 'boolean', default: false },
    render: { type: 'boolean', default: false },
    'simulator-sizes': { type: 'string' },
  },
});
const quick = values.quick;
const skip = new Set(values.skip.split(',').filter(Boolean));
const write = values.write || values.render || (!quick && !values['no-write']);
const root = fileURLToPath(new URL('..', import.meta.url));
const log = (line) => process.stdout.write(`${line}\n`);

function packageVersion(name, from = coreRequire) {
  try {
    const path = from.resolve(`${name}/package.json`);
    return JSON.parse(readFileSync(path, 'utf8')).version;
  } catch {
    // Packages whose exports map hides package.json: walk up from the entry point.
    let dir = from.resolve(name);
    for (let i = 0; i < 6; i += 1) {
      dir = dir.slice(0, dir.lastIndexOf('/'));
      try {
        const pkg = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8'));
        if (pkg.name === name) return pkg.version;
      } catch {
        // keep walking
      }
    }
    return 'unknown';
  }
}

function machine() {
  const cpu = cpus();
  const model = cpu[0]?.model?.trim() || 'unknown';
  let flags = '';
  try {
    flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '';
  } catch {
    // not Linux
  }
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse --short HEAD', { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  return {
    cpu: model,
    cores: cpu.length,
    shaExtensions: / sha_ni/.test(flags),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${platform()} ${release()}`,
    node: process.version,
    openssl: process.versions.openssl,
    commit,
    date: new Date().toISOString(),
    loadAverageStart: loadavg()[0],
    versions: {
      '@presign-pipeline/core': JSON.parse(readFileSync(`${root}packages/core/package.json`, 'utf8')).version,
      '@aws-sdk/client-s3': packageVersion('@aws-sdk/client-s3'),
      '@aws-sdk/s3-request-presigner': packageVersion('@aws-sdk/s3-request-presigner'),
      '@smithy/signature-v4': packageVersion('@smithy/signature-v4'),
    },
  };
}

const rendering = values.render;
const results = rendering
  ? JSON.parse(readFileSync(`${root}docs/images/bench-results.json`, 'utf8'))
  : { quick, machine: machine() };
if (rendering)
  for (const part of [
    'presigners',
    'pipeline',
    'concurrency',
    'e2e',
    'listing',
    'simulator',
    'inventory',
    's3writer',
    'autolisting',
    'autolisting-layouts',
    'autolisting-large',
    'autolisting-resume',
    'lambda-memory',
    'bundle',
  ])
    skip.add(part);
log(
  `presign-pipeline bench — ${results.machine.cpu}, ${results.machine.cores} cores, Node ${results.machine.node}${quick ? ' (quick)' : ''}`,
);
log(
  `load average at start: ${results.machine.loadAverageStart.toFixed(2)} (other work on the machine slows every number below)`,
);

if (!skip.has('presigners')) {
  log('\n(a) presigners, µs per URL (one process, sequential, distinct keys, session token)');
  results.presigners = await benchPresigners({ rounds: quick ? 2 : 10, scale: quick ? 0.1 : 1, log });
  const r = results.presigners.results;
  log(`  URLs identical across the three: ${results.presigners.identical ? 'yes' : 'NO'}`);
  log(
    `  ratios of the best rounds: sdkPresigner / fastPresigner = ${(r.sdkPresigner.usPerUrl / r.fastPresigner.usPerUrl).toFixed(0)}×,` +
      ` signature-v4 / fastPresigner = ${(r['signature-v4'].usPerUrl / r.fastPresigner.usPerUrl).toFixed(1)}×,` +
      ` sdkPresigner / signature-v4 = ${(r.sdkPresigner.usPerUrl / r['signature-v4'].usPerUrl).toFixed(1)}×`,
  );
  log(
    `  targets: fastPresigner ≥ 50× sdkPresigner (${results.presigners.roundRatios.sdkOverFast >= 50 ? 'met' : 'MISSED'}, per-round median),` +
      ` ≤ 10 µs/URL (${r.fastPresigner.usPerUrl <= 10 ? 'met' : 'MISSED'})`,
  );
}

if (!skip.has('pipeline')) {
  const sizes = quick ? [10_000, 100_000] : [100_000, 300_000, 1_000_000];
  log('\n(b) pipeline: arrayKeySource → fastPresigner → fileManifestWriter, one child process per size');
  results.pipeline = [];
  const repeats = quick ? 1 : 3;
  for (const n of sizes) {
    // Best of `repeats` runs for throughput (other work on the machine only ever slows a run down); the highest peak
    // RSS of them all, to stay on the safe side for memory.
    const runs = [];
    for (let i = 0; i < repeats; i += 1) runs.push(await runChild(['--keys', String(n)]));
    const best = runs.reduce((a, b) => (b.keysPerSec > a.keysPerSec ? b : a));
    const run = {
      ...best,
      peakRssMB: Math.max(...runs.map((r) => r.peakRssMB)),
      runs: runs.length,
      allKeysPerSec: runs.map((r) => r.keysPerSec),
    };
    results.pipeline.push(run);
    log(
      `  ${String(n).padStart(9)} keys: ${Math.round(run.keysPerSec).toLocaleString('en-US').padStart(9)} keys/s, ` +
        `${(run.ms / 1000).toFixed(2)} s, CPU ${(run.cpuMs / 1000).toFixed(2)} s, peak RSS ${run.peakRssMB.toFixed(1)} MB, ` +
        `manifest ${(run.manifestBytes / 2 ** 20).toFixed(0)} MiB`,
    );
  }
  const largest = sizes[sizes.length - 1];
  // The same without a session token (long-term credentials): URLs a kilobyte shorter, less to hash and to write.
  const noTokenRuns = [];
  for (let i = 0; i < repeats; i += 1) noTokenRuns.push(await runChild(['--keys', String(largest), '--no-token']));
  const noTokenBest = noTokenRuns.reduce((a, b) => (b.keysPerSec > a.keysPerSec ? b : a));
  results.pipelineNoToken = {
    ...noTokenBest,
    peakRssMB: Math.max(...noTokenRuns.map((r) => r.peakRssMB)),
    runs: noTokenRuns.length,
  };
  log(
    `  ${String(largest).padStart(9)} keys, long-term credentials (no session token): ` +
      `${Math.round(noTokenBest.keysPerSec).toLocaleString('en-US')} keys/s, peak RSS ${results.pipelineNoToken.peakRssMB.toFixed(1)} MB, ` +
      `manifest ${(noTokenBest.manifestBytes / 2 ** 20).toFixed(0)} MiB`,
  );
  // Three times the largest size, once: whether peak RSS keeps rising with N or has levelled off.
  if (!quick) {
    results.pipelinePlateau = await runChild(['--keys', String(largest * 3)]);
    log(
      `  ${String(largest * 3).padStart(9)} keys (once): ${Math.round(results.pipelinePlateau.keysPerSec).toLocaleString('en-US')} keys/s, ` +
        `peak RSS ${results.pipelinePlateau.peakRssMB.toFixed(1)} MB`,
    );
  }
  // Where the time goes: the same run with a presigner that returns one fixed URL of the same length (no signing).
  results.pipelineOverhead = await runChild(['--keys', String(largest), '--presigner', 'constant']);
  log(
    `  ${String(largest).padStart(9)} keys without signing (a fixed URL of the same length): ` +
      `${Math.round(results.pipelineOverhead.keysPerSec).toLocaleString('en-US')} keys/s, CPU ${(results.pipelineOverhead.cpuMs / 1000).toFixed(2)} s`,
  );
  const first = results.pipeline[0];
  const last = results.pipeline[results.pipeline.length - 1];
  const growth = (last.peakRssMB / first.peakRssMB - 1) * 100;
  log(`  peak RSS growth ${first.keys} → ${last.keys}: ${growth.toFixed(1)} %`);
  log(
    `  targets at ${last.keys} keys: ≥ 100,000 keys/s (${last.keysPerSec >= 100_000 ? 'met' : 'MISSED'}), peak RSS < 150 MB ` +
      `(${last.peakRssMB < 150 ? 'met' : 'MISSED'}), growth ≤ 25 % (${growth <= 25 ? 'met' : 'MISSED'})`,
  );
}

if (!skip.has('concurrency')) {
  log('\n(d) concurrency: what more workers buy');
  results.concurrency = [];
  const cpuKeys = quick ? 50_000 : 300_000;
  const remoteKeys = quick ? 1_000 : 5_000;
  for (const concurrency of [1, 4, 16]) {
    const run = await runChild(['--keys', String(cpuKeys), '--concurrency', String(concurrency)]);
    results.concurrency.push(run);
    log(
      `  fastPresigner (CPU-bound)       c=${String(concurrency).padEnd(3)} ${Math.round(run.keysPerSec).toLocaleString('en-US').padStart(9)} keys/s`,
    );
  }
  for (const concurrency of [1, 4, 16, 64]) {
    const run = await runChild([
      '--keys',
      String(remoteKeys),
      '--concurrency',
      String(concurrency),
      '--presigner',
      'remote',
      '--latency-ms',
      '1',
    ]);
    results.concurrency.push(run);
    log(
      `  remote signer (1 ms latency)    c=${String(concurrency).padEnd(3)} ${Math.round(run.keysPerSec).toLocaleString('en-US').padStart(9)} keys/s`,
    );
  }
}

if (!skip.has('e2e')) {
  log('\n(c) end to end on a real S3 API over HTTP');
  results.e2e = await benchEndToEnd({
    objects: quick ? 500 : 5_000,
    passes: quick ? 4 : 20,
    bigKeys: quick ? 50_000 : 1_000_000,
    log,
  });
}

if (!skip.has('listing')) {
  log('\n(e) parallel listing: sequential vs partitioned s3ListSource behind a 50 ms proxy');
  results.listing = await benchParallelListing({ keys: quick ? 2_000 : 12_000, rounds: quick ? 1 : 3, log });
}

if (!skip.has('simulator')) {
  log(
    '\n(f) end to end on the S3 simulator: listing (50 ms a page) → fastPresigner (session token) → S3 multipart manifest',
  );
  const sizes = values['simulator-sizes']?.split(',').map(Number) ?? (quick ? [20_000, 100_000] : [100_000, 1_000_000]);
  results.simulator = await benchSimulatorEndToEnd({ sizes, log });
}

if (!skip.has('inventory')) {
  log(
    '\n(g) S3 Inventory: s3InventorySource over 10M-key CSV-gzip and Parquet reports, and the handler from 1M-key ones',
  );
  results.inventory = await benchInventory({
    keys: quick ? 200_000 : 10_000_000,
    handlerKeys: quick ? 50_000 : 1_000_000,
    repeats: quick ? 1 : 2,
    ...(quick ? { rowGroup: 25_000 } : {}),
    log,
  });
}

if (!skip.has('autolisting')) {
  log(
    "\n(i) auto-partitioned listing on the S3 simulator: sequential vs by: 'auto' at concurrency 16, flat random names",
  );
  results.autoListing = await benchAutoListing({ keys: quick ? 100_000 : 1_000_000, concurrency: 16, log });
}

if (!skip.has('autolisting-layouts')) {
  log("\n(i) auto listing on the simulator's skewed layouts: sequential vs by: 'auto' at concurrency 16 on each");
  results.autoListingLayouts = await benchAutoListingLayouts({
    keys: quick ? 100_000 : 1_000_000,
    concurrency: 16,
    log,
  });
}

if (!skip.has('autolisting-large')) {
  log(`\n(i) auto listing of ${quick ? '1M' : '10M'} flat keys in one run: time and peak RSS`);
  results.autoListingLarge = await benchAutoListingLarge({
    keys: quick ? 1_000_000 : 10_000_000,
    concurrency: 16,
    log,
  });
}

if (!skip.has('autolisting-resume')) {
  log(
    `\n(i) auto listing of ${quick ? '100k' : '1M'} flat keys cut into at least 5 resumed runs at concurrency 16: exactly once`,
  );
  results.autoListingResume = await benchAutoListingResume({
    keys: quick ? 100_000 : 1_000_000,
    concurrency: 16,
    runs: 5,
    log,
  });
}

if (!skip.has('s3writer')) {
  log('\n(h) the S3 manifest writer alone: synthetic 1.7 KB lines through s3ManifestWriter to the S3 simulator');
  results.s3Writer = await benchS3Writer({
    sizes: quick ? [20_000, 100_000] : [100_000, 1_000_000],
    libStorage: savedLibStorage(root),
    log,
  });
}

if (!skip.has('lambda-memory')) {
  log("\n(k) the handler at Lambda memory sizes: the runtime's heap flags, 1M keys on the S3 simulator");
  results.lambdaMemory = await benchLambdaMemory({
    memory: [128, 256, 1024],
    sizes: quick ? [20_000, 100_000] : [100_000, 1_000_000],
    log,
  });
}

if (!skip.has('bundle')) {
  log('\n(j) the Lambda bundle: size and cold init of the handlers against a naive getSignedUrl handler');
  results.bundle = await benchBundles({ rounds: 10, log });
}

if (!rendering) results.machine.loadAverageEnd = loadavg()[0];
log(`\nload average at end: ${results.machine.loadAverageEnd.toFixed(2)}`);

if (write) {
  mkdirSync(`${root}docs/images`, { recursive: true });
  let { markdown, images } = renderPerformanceDoc(results);
  // The sections of the separate benchmarks: this run's, or (when skipped) the one already on the page.
  if (results.simulator) images['simulator-e2e.svg'] = simulatorChart(results.simulator);
  const sections = [
    [results.listing, renderParallelListingSection, insertParallelListingSection, LISTING_START, LISTING_END],
    [results.simulator, renderSimulatorSection, insertSimulatorSection, SIMULATOR_START, SIMULATOR_END],
    [results.inventory, renderInventorySection, insertInventorySection, INVENTORY_START, INVENTORY_END],
    [results.s3Writer, renderS3WriterSection, insertS3WriterSection, S3_WRITER_START, S3_WRITER_END],
    [results.autoListing, renderAutoListingSection, insertAutoListingSection, AUTO_LISTING_START, AUTO_LISTING_END],
    [
      results.autoListingLayouts,
      renderAutoListingLayoutsSection,
      (markdown, section) => insertAutoListingSubsection(markdown, section, AUTO_LISTING_SUBSECTIONS.layouts),
      AUTO_LISTING_SUBSECTIONS.layouts.start,
      AUTO_LISTING_SUBSECTIONS.layouts.end,
    ],
    [
      results.autoListingLarge,
      renderAutoListingLargeSection,
      (markdown, section) => insertAutoListingSubsection(markdown, section, AUTO_LISTING_SUBSECTIONS.large),
      AUTO_LISTING_SUBSECTIONS.large.start,
      AUTO_LISTING_SUBSECTIONS.large.end,
    ],
    [
      results.autoListingResume,
      renderAutoListingResumeSection,
      (markdown, section) => insertAutoListingSubsection(markdown, section, AUTO_LISTING_SUBSECTIONS.resume),
      AUTO_LISTING_SUBSECTIONS.resume.start,
      AUTO_LISTING_SUBSECTIONS.resume.end,
    ],
    [
      results.lambdaMemory,
      renderLambdaMemorySection,
      insertLambdaMemorySection,
      LAMBDA_MEMORY_START,
      LAMBDA_MEMORY_END,
    ],
    [results.bundle, renderBundleSection, insertBundleSection, BUNDLE_START, BUNDLE_END],
  ];
  for (const [result, render, insert, start, end] of sections) {
    const section = result ? render(result) : sectionOnPage(`${root}docs/performance.md`, { start, end });
    if (section) markdown = insert(markdown, section);
  }
  for (const [name, svg] of Object.entries(images)) writeFileSync(`${root}docs/images/${name}`, svg);
  writeFileSync(`${root}docs/performance.md`, markdown);
  writeFileSync(`${root}docs/images/bench-results.json`, `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote docs/performance.md and docs/images/{${Object.keys(images).join(',')}}`);
}
