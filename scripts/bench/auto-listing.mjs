// (i) Auto-partitioned listing on the S3 simulator: one flat bucket of random names (50 ms a LIST + up to 10 ms
// jitter, page size 1000), listed sequentially and with s3ListSource({ partitions: { by: 'auto', concurrency } }).
// The simulator runs in a process of its own (scripts/bench/simulator-process.mjs): against S3 it is another
// machine, so its CPU time and garbage are not the listing's (it still shares this machine's cores). Prints the
// speed-up, keys/s, the LIST request overhead of the auto run against the sequential one, the CPU time of the
// listing process and of the simulator, and the requests in flight on average.
//   node scripts/bench/auto-listing.mjs [--keys 1000000] [--concurrency 16] [--write]
// The skewed layouts of the simulator's key generator, each sequential against auto (ratio and request overhead):
//   node scripts/bench/auto-listing.mjs --layouts skewed,long-prefix,dated,handful [--keys 1000000] [--write]
// One auto listing of 10M flat keys (time, keys/s, peak RSS of the listing process and the simulator):
//   node scripts/bench/auto-listing.mjs --large [--keys 10000000] [--write]
// 1M flat keys cut into at least 5 resumed runs, their union checked against a sequential listing (exactly once):
//   node scripts/bench/auto-listing.mjs --resume-runs 5 [--keys 1000000] [--write]
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { core, minioTesting } from './load.mjs';
import { spawnS3Simulator } from './simulator-process.mjs';
import { insertSection } from '../lib/performance-page.mjs';

/** Wraps `client.send` to integrate the number of requests in flight over time. */
function trackInFlight(client) {
  const send = client.send.bind(client);
  let inFlight = 0;
  let since = performance.now();
  let area = 0;
  const mark = (delta) => {
    const now = performance.now();
    area += inFlight * (now - since);
    since = now;
    inFlight += delta;
  };
  client.send = async (...args) => {
    mark(1);
    try {
      return await send(...args);
    } finally {
      mark(-1);
    }
  };
  return {
    reset() {
      mark(0);
      area = 0;
    },
    /** Requests in flight, averaged over the `ms` since the last reset. */
    average(ms) {
      mark(0);
      return area / ms;
    },
  };
}

/** Lists the whole bucket once, counting keys, the simulator's LIST requests and both processes' CPU time. */
async function listOnce(sim, client, tracker, bucket, partitions, collect) {
  const { s3ListSource } = core();
  const before = await sim.resetCounters();
  const source = s3ListSource({ client, bucket, pageSize: 1000, ...(partitions ? { partitions } : {}) });
  tracker.reset();
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  let keys = 0;
  for await (const page of source.pages({ signal: new AbortController().signal })) {
    keys += page.keys.length;
    if (collect) for (const key of page.keys) collect.push(key);
  }
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuStart);
  const inFlight = tracker.average(wallMs);
  const after = await sim.counters();
  return {
    keys,
    wallMs,
    keysPerSecond: keys / (wallMs / 1000),
    lists: after.byOperation.ListObjectsV2 ?? 0,
    throttled: after.throttled,
    cpuMs: (cpu.user + cpu.system) / 1000,
    simulatorCpuMs: after.cpuMs - before.cpuMs,
    inFlight,
  };
}

/** Runs the section: sequential, then auto at `concurrency`, on `keys` flat keys. */
export async function benchAutoListing({ keys = 1_000_000, concurrency = 16, latencyMs = 50, log = () => {} } = {}) {
  const { createS3Client } = await minioTesting();
  const loadAverage = loadavg()[0];
  const bucket = `flat-${keys}`;
  const sim = await spawnFlatSimulator(bucket, keys, latencyMs);
  const describe = (run) =>
    `${run.keys} keys in ${(run.wallMs / 1000).toFixed(1)} s, ${Math.round(run.keysPerSecond)} keys/s, ${run.lists} LIST, ` +
    `${run.throttled} throttled, CPU ${(run.cpuMs / 1000).toFixed(1)} s (simulator ${(run.simulatorCpuMs / 1000).toFixed(1)} s), ` +
    `${run.inFlight.toFixed(1)} requests in flight on average`;
  try {
    const client = createS3Client(sim);
    const tracker = trackInFlight(client);
    const sequential = await listOnce(sim, client, tracker, bucket, undefined);
    const loadAverageMiddle = loadavg()[0];
    log(
      `  sequential: ${describe(sequential)} (load average ${loadAverage.toFixed(1)} → ${loadAverageMiddle.toFixed(1)})`,
    );
    const auto = await listOnce(sim, client, tracker, bucket, { by: 'auto', concurrency });
    const loadAverageEnd = loadavg()[0];
    log(
      `  auto ×${concurrency}: ${describe(auto)} (load average ${loadAverageMiddle.toFixed(1)} → ${loadAverageEnd.toFixed(1)})`,
    );
    if (auto.keys !== keys || sequential.keys !== keys)
      throw new Error(`listed ${sequential.keys} / ${auto.keys} keys of ${keys}`);
    const ratio = sequential.wallMs / auto.wallMs;
    const overheadPercent = ((auto.lists - sequential.lists) / sequential.lists) * 100;
    log(`  auto / sequential: ${ratio.toFixed(1)}×, request overhead ${overheadPercent.toFixed(1)} %`);
    return {
      keys,
      concurrency,
      latencyMs,
      sequential,
      auto,
      ratio,
      overheadPercent,
      loadAverage,
      loadAverageMiddle,
      loadAverageEnd,
      at: new Date().toISOString(),
    };
  } finally {
    await sim.close();
  }
}

/** The layouts of the simulator's key generator, as the layouts bench names them. */
export const LAYOUTS = {
  flat: 'flat random names',
  skewed: '90 % of keys under one sub-prefix',
  'long-prefix': 'all keys sharing a 200-byte prefix',
  dated: 'date-stamped names',
  handful: 'a handful of keys (5)',
};

/**
 * Sequential against auto at `concurrency` on each of `layouts` (names of the simulator's generated layouts), `keys`
 * keys each (`handful`: the generator's 5), one simulator process serving a bucket per layout.
 */
export async function benchAutoListingLayouts({
  layouts = ['skewed', 'long-prefix', 'dated', 'handful'],
  keys = 1_000_000,
  concurrency = 16,
  latencyMs = 50,
  log = () => {},
} = {}) {
  const { createS3Client } = await minioTesting();
  for (const layout of layouts) if (!(layout in LAYOUTS)) throw new Error(`unknown layout ${layout}`);
  const buckets = Object.fromEntries(
    layouts.map((layout) => [`${layout}-${keys}`, layout === 'handful' ? { layout } : { layout, count: keys }]),
  );
  const sim = await spawnS3Simulator({ buckets, latencyMs, jitterMs: 10, store: 'count' });
  const runs = [];
  const loadAverage = loadavg()[0];
  try {
    const client = createS3Client(sim);
    const tracker = trackInFlight(client);
    for (const layout of layouts) {
      const bucket = `${layout}-${keys}`;
      const loadBefore = loadavg()[0];
      const sequential = await listOnce(sim, client, tracker, bucket, undefined);
      const auto = await listOnce(sim, client, tracker, bucket, { by: 'auto', concurrency });
      const loadAfter = loadavg()[0];
      if (auto.keys !== sequential.keys) throw new Error(`${layout}: listed ${sequential.keys} / ${auto.keys} keys`);
      const run = {
        layout,
        keys: sequential.keys,
        sequential,
        auto,
        ratio: sequential.wallMs / auto.wallMs,
        overheadPercent: ((auto.lists - sequential.lists) / sequential.lists) * 100,
        loadBefore,
        loadAfter,
      };
      log(
        `  ${layout}: ${run.keys} keys, sequential ${(sequential.wallMs / 1000).toFixed(1)} s (${sequential.lists} LIST), ` +
          `auto ×${concurrency} ${(auto.wallMs / 1000).toFixed(1)} s (${auto.lists} LIST, ${auto.throttled} throttled, ` +
          `${auto.inFlight.toFixed(1)} in flight): ${run.ratio.toFixed(1)}×, overhead ${run.overheadPercent.toFixed(1)} % ` +
          `(load average ${loadBefore.toFixed(1)} → ${loadAfter.toFixed(1)})`,
      );
      runs.push(run);
    }
  } finally {
    await sim.close();
  }
  return { mode: 'layouts', keys, concurrency, latencyMs, runs, loadAverage, at: new Date().toISOString() };
}

/** A simulator in its own process serving `keys` flat keys in `bucket`, counting (not storing) uploads. */
function spawnFlatSimulator(bucket, keys, latencyMs) {
  return spawnS3Simulator({
    buckets: { [bucket]: { layout: 'flat', count: keys } },
    latencyMs,
    jitterMs: 10,
    store: 'count',
  });
}

/**
 * One run of `keys` flat keys with auto listing at `concurrency` and no sequential listing beside it (at 10M keys a
 * sequential listing takes ten minutes): wall time, keys/s, LIST requests and the peak RSS of both processes.
 */
export async function benchAutoListingLarge({
  keys = 10_000_000,
  concurrency = 16,
  latencyMs = 50,
  log = () => {},
} = {}) {
  const { createS3Client } = await minioTesting();
  const bucket = `flat-${keys}`;
  const loadAverage = loadavg()[0];
  const sim = await spawnFlatSimulator(bucket, keys, latencyMs);
  try {
    const client = createS3Client(sim);
    const tracker = trackInFlight(client);
    const rssBeforeMb = process.memoryUsage().rss / 2 ** 20;
    const auto = await listOnce(sim, client, tracker, bucket, { by: 'auto', concurrency });
    const counters = await sim.counters();
    const loadAverageEnd = loadavg()[0];
    if (auto.keys !== keys) throw new Error(`listed ${auto.keys} keys of ${keys}`);
    const result = {
      mode: 'large',
      keys,
      concurrency,
      latencyMs,
      auto,
      rssBeforeMb,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      simulatorPeakRssMb: counters.maxRssMb,
      loadAverage,
      loadAverageEnd,
      at: new Date().toISOString(),
    };
    log(
      `  auto ×${concurrency}: ${keys} keys in ${(auto.wallMs / 1000).toFixed(1)} s, ${Math.round(auto.keysPerSecond)} keys/s, ` +
        `${auto.lists} LIST, ${auto.throttled} throttled, ${auto.inFlight.toFixed(1)} in flight; peak RSS ` +
        `${result.peakRssMb.toFixed(0)} MB (simulator ${result.simulatorPeakRssMb.toFixed(0)} MB) ` +
        `(load average ${loadAverage.toFixed(1)} → ${loadAverageEnd.toFixed(1)})`,
    );
    return result;
  } finally {
    await sim.close();
  }
}

/**
 * A listing of `keys` flat keys with auto listing at `concurrency`, cut after every `pagesPerRun` pages (the loop
 * stops pulling: the source aborts what it has in flight) and resumed from the page's resume token, until a page
 * says it is the last. The union of the runs is checked against a sequential listing of the same bucket: every key
 * exactly once.
 */
export async function benchAutoListingResume({
  keys = 1_000_000,
  concurrency = 16,
  runs: targetRuns = 6,
  latencyMs = 50,
  log = () => {},
} = {}) {
  const { createS3Client } = await minioTesting();
  const { s3ListSource } = core();
  const bucket = `flat-${keys}`;
  const loadAverage = loadavg()[0];
  const sim = await spawnFlatSimulator(bucket, keys, latencyMs);
  try {
    const client = createS3Client(sim);
    const tracker = trackInFlight(client);
    const expected = [];
    const reference = await listOnce(sim, client, tracker, bucket, undefined, expected);
    log(`  sequential reference: ${reference.keys} keys in ${(reference.wallMs / 1000).toFixed(1)} s`);
    // Auto listing takes about 5 % more pages than sequential; cut so that at least `targetRuns` runs are needed.
    const pagesPerRun = Math.max(1, Math.floor(reference.lists / targetRuns));
    const listed = [];
    const perRun = [];
    let token;
    await sim.resetCounters();
    const started = performance.now();
    for (;;) {
      const source = s3ListSource({
        client,
        bucket,
        pageSize: 1000,
        partitions: { by: 'auto', concurrency },
        ...(token === undefined ? {} : { resumeToken: token }),
      });
      let pages = 0;
      let runKeys = 0;
      let last;
      for await (const page of source.pages({ signal: new AbortController().signal })) {
        for (const key of page.keys) listed.push(key);
        runKeys += page.keys.length;
        pages += 1;
        last = page;
        if (pages >= pagesPerRun) break;
      }
      const done = last === undefined || last.last === true;
      token = done ? undefined : source.resumeToken?.(last);
      perRun.push({ pages, keys: runKeys, tokenBytes: token === undefined ? 0 : Buffer.byteLength(token) });
      if (done) break;
      if (token === undefined) throw new Error('a cut run returned no resume token');
    }
    const wallMs = performance.now() - started;
    const counters = await sim.counters();
    const unique = new Set(listed);
    const missing = expected.filter((key) => !unique.has(key)).length;
    const extra = listed.length - expected.length + missing; // keys listed beyond the expected ones, duplicates included
    const exactlyOnce = listed.length === expected.length && unique.size === listed.length && missing === 0;
    const loadAverageEnd = loadavg()[0];
    const result = {
      mode: 'resume',
      keys,
      concurrency,
      latencyMs,
      pagesPerRun,
      runs: perRun.length,
      perRun,
      listed: listed.length,
      unique: unique.size,
      missing,
      extra,
      exactlyOnce,
      wallMs,
      lists: counters.byOperation.ListObjectsV2 ?? 0,
      sequentialLists: reference.lists,
      maxTokenBytes: Math.max(...perRun.map((run) => run.tokenBytes)),
      loadAverage,
      loadAverageEnd,
      at: new Date().toISOString(),
    };
    log(
      `  ${result.runs} runs of up to ${pagesPerRun} pages at concurrency ${concurrency}: ${result.listed} keys listed, ` +
        `${result.unique} distinct, ${missing} missing, ${extra} extra: exactly once ${exactlyOnce ? 'yes' : 'NO'}; ` +
        `${result.lists} LIST (sequential ${reference.lists}), largest token ${result.maxTokenBytes} bytes, ` +
        `${(wallMs / 1000).toFixed(1)} s (load average ${loadAverage.toFixed(1)} → ${loadAverageEnd.toFixed(1)})`,
    );
    return result;
  } finally {
    await sim.close();
  }
}

export const SECTION_START = '<!-- auto-listing:start -->';
export const SECTION_END = '<!-- auto-listing:end -->';

const TARGET_RATIO = 10;
const TARGET_KEYS_PER_SECOND = 150_000;

/** The performance page's section for one run of this bench. */
export function renderAutoListingSection(bench) {
  const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
  const row = (name, run) =>
    `| ${name} | ${seconds(run.wallMs)} | ${Math.round(run.keysPerSecond).toLocaleString('en-US')} | ${run.lists} | ` +
    `${run.throttled} | ${run.inFlight === undefined ? '—' : run.inFlight.toFixed(1)} | ` +
    `${run.cpuMs === undefined ? '—' : seconds(run.cpuMs)} | ${run.simulatorCpuMs === undefined ? '—' : seconds(run.simulatorCpuMs)} |`;
  const { auto, sequential } = bench;
  const verdict = (met) => (met ? '✅ met' : '❌ missed');
  const ratioMet = bench.ratio >= TARGET_RATIO;
  const rateMet = auto.keysPerSecond >= TARGET_KEYS_PER_SECOND;
  const load =
    bench.loadAverageEnd === undefined
      ? `load average ${bench.loadAverage?.toFixed(1) ?? 'unknown'} at the start`
      : `load average (1 min) ${bench.loadAverage.toFixed(1)} at the start, ${bench.loadAverageMiddle.toFixed(1)} between the ` +
        `two listings, ${bench.loadAverageEnd.toFixed(1)} at the end`;
  const lines = [
    SECTION_START,
    '## Auto-partitioned listing on the S3 simulator',
    '',
    `${bench.keys.toLocaleString('en-US')} flat keys of random names on \`startS3Simulator()\` (${bench.latencyMs} ms a LIST + up to ` +
      `10 ms jitter, page size 1000) in a process of its own, listed by \`s3ListSource\` sequentially and with ` +
      `\`partitions: { by: 'auto', concurrency: ${bench.concurrency} }\` (\`node scripts/bench/auto-listing.mjs --write\`; ` +
      `section \`autolisting\` of \`npm run bench\`). One run${bench.at ? ` at ${bench.at}` : ''} on a shared 2-core machine, ${load}.`,
    '',
    '| Listing | Wall | keys/s | LIST requests | 503 SlowDown | Requests in flight (mean) | CPU, listing process | CPU, simulator |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    row('sequential', sequential),
    row(`auto, concurrency ${bench.concurrency}`, auto),
    '',
    `Auto against sequential: **${bench.ratio.toFixed(1)}×** faster (target ≥ ${TARGET_RATIO}×: ${verdict(ratioMet)}), ` +
      `**${Math.round(auto.keysPerSecond).toLocaleString('en-US')} keys/s** (target ≥ ${TARGET_KEYS_PER_SECOND.toLocaleString('en-US')}: ` +
      `${verdict(rateMet)}), request overhead **${bench.overheadPercent.toFixed(1)} %** more ListObjectsV2 requests (billed per request; target < 10 %).`,
  ];
  if (auto.cpuMs !== undefined) {
    const perPage = (auto.cpuMs + auto.simulatorCpuMs) / auto.lists;
    const bound = (auto.lists / bench.concurrency) * (bench.latencyMs + 5);
    const roundTrip = (auto.wallMs * auto.inFlight) / auto.lists;
    lines.push(
      '',
      `At ${bench.latencyMs} ms (+ 5 ms mean jitter) a page, ${bench.concurrency} requests in flight bound the auto listing at ` +
        `${seconds(bound)} (${Math.round(bench.keys / (bound / 1000)).toLocaleString('en-US')} keys/s). The rest is CPU: the ` +
        `listing process spent ${((auto.cpuMs / auto.keys) * 1000).toFixed(1)} µs a key (requests, reading the answers, ` +
        `splitting) and the simulator ${((auto.simulatorCpuMs / auto.keys) * 1000).toFixed(1)} µs a key (writing the ` +
        `answers), ${perPage.toFixed(1)} ms of CPU a page between them, on two cores the other work on the machine also ` +
        'wanted: each answer waits for a core before it is written, and again before it is read, so the round trip ' +
        `grows past ${bench.latencyMs} ms (here ${roundTrip.toFixed(0)} ms on average: wall time × mean requests in flight ÷ ` +
        `requests) and fewer pages come back per second. ${bench.concurrency} requests in flight at ${perPage.toFixed(1)} ms of ` +
        `CPU a page need ${((perPage * bench.concurrency) / (bench.latencyMs + 5)).toFixed(1)} cores to keep the round trip at ` +
        `${bench.latencyMs + 5} ms. The sequential listing barely notices the load (one request at a time leaves the cores ` +
        'mostly idle), so the ratio falls the busier the machine is.',
    );
  }
  if (bench.otherRuns?.length) {
    lines.push(
      '',
      `Other runs of this section with this code, for the spread on this machine: ${bench.otherRuns
        .map(
          (run) =>
            `${run.ratio.toFixed(1)}× and ${Math.round(run.keysPerSecond).toLocaleString('en-US')} keys/s at load average ` +
            `${run.loadAverage.toFixed(1)} (${run.at})`,
        )
        .join('; ')}.`,
    );
  }
  lines.push(SECTION_END, '');
  return lines.join('\n');
}

const LAYOUTS_START = '<!-- auto-listing-layouts:start -->';
const LAYOUTS_END = '<!-- auto-listing-layouts:end -->';
const LARGE_START = '<!-- auto-listing-large:start -->';
const LARGE_END = '<!-- auto-listing-large:end -->';
const RESUME_START = '<!-- auto-listing-resume:start -->';
const RESUME_END = '<!-- auto-listing-resume:end -->';

const TARGET_LAYOUT_RATIO = 6;
const TARGET_OVERHEAD_PERCENT = 10;

const loadText = (start, end) =>
  end === undefined
    ? `load average (1 min) ${start.toFixed(1)}`
    : `load average (1 min) ${start.toFixed(1)} → ${end.toFixed(1)}`;

/** The section for a run of {@link benchAutoListingLayouts}. */
export function renderAutoListingLayoutsSection(bench) {
  const seconds = (ms) => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);
  const lines = [
    LAYOUTS_START,
    '### Skewed layouts',
    '',
    `The skewed layouts of the simulator's key generator, ${bench.keys.toLocaleString('en-US')} keys each (the handful: ` +
      `5), same simulator settings, each listed sequentially and then with \`partitions: { by: 'auto', concurrency: ` +
      `${bench.concurrency} }\` (\`node scripts/bench/auto-listing.mjs --layouts ${bench.runs.map((run) => run.layout).join(',')} ` +
      `--write\`). One run at ${bench.at} on a shared 2-core machine; the load average is given for each layout. Target: ` +
      `each layout ≥ ${TARGET_LAYOUT_RATIO}× sequential, fewer than ${TARGET_OVERHEAD_PERCENT} % more LIST requests.`,
    '',
    '| Layout | Keys | Sequential | Auto | Auto / sequential | LIST requests (sequential → auto) | Request overhead | 503 SlowDown | Requests in flight (mean) | Load average | Target |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|',
  ];
  for (const run of bench.runs) {
    const onePage = run.sequential.lists <= 1;
    const met = run.ratio >= TARGET_LAYOUT_RATIO && run.overheadPercent < TARGET_OVERHEAD_PERCENT;
    const verdict = onePage
      ? '❌ missed: one page, nothing to split'
      : met
        ? '✅ met'
        : `❌ missed (${run.ratio < TARGET_LAYOUT_RATIO ? 'ratio' : ''}${run.ratio < TARGET_LAYOUT_RATIO && run.overheadPercent >= TARGET_OVERHEAD_PERCENT ? ', ' : ''}${run.overheadPercent >= TARGET_OVERHEAD_PERCENT ? 'overhead' : ''})`;
    lines.push(
      `| ${LAYOUTS[run.layout] ?? run.layout} | ${run.keys.toLocaleString('en-US')} | ${seconds(run.sequential.wallMs)} | ` +
        `${seconds(run.auto.wallMs)} | ${run.ratio.toFixed(1)}× | ${run.sequential.lists} → ${run.auto.lists} | ` +
        `${run.overheadPercent.toFixed(1)} % | ${run.auto.throttled} | ${run.auto.inFlight.toFixed(1)} | ` +
        `${run.loadBefore.toFixed(1)} → ${run.loadAfter.toFixed(1)} | ${verdict} |`,
    );
  }
  if (bench.runs.some((run) => run.sequential.lists <= 1))
    lines.push(
      '',
      'A handful of keys fits one page: both listings make the one request, so no concurrency can make it faster; the ' +
        'row shows that the auto listing costs nothing extra there.',
    );
  lines.push(LAYOUTS_END, '');
  return lines.join('\n');
}

/** The section for a run of {@link benchAutoListingLarge}. */
export function renderAutoListingLargeSection(bench) {
  const { auto } = bench;
  return [
    LARGE_START,
    `### ${bench.keys.toLocaleString('en-US')} keys in one run`,
    '',
    `${bench.keys.toLocaleString('en-US')} flat keys, auto listing at concurrency ${bench.concurrency}, no sequential ` +
      `listing beside it: at this size one would take about ${Math.round(((bench.keys / 1000) * ((bench.latencyMs + 5) / 1000)) / 60)} ` +
      `minutes (\`node scripts/bench/auto-listing.mjs --large --write\`). One run at ${bench.at}, ` +
      `${loadText(bench.loadAverage, bench.loadAverageEnd)}.`,
    '',
    '| Wall | keys/s | LIST requests | 503 SlowDown | Requests in flight (mean) | CPU, listing process | Peak RSS, listing process | Peak RSS, simulator |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| ${(auto.wallMs / 1000).toFixed(1)} s | ${Math.round(auto.keysPerSecond).toLocaleString('en-US')} | ${auto.lists} | ` +
      `${auto.throttled} | ${auto.inFlight.toFixed(1)} | ${(auto.cpuMs / 1000).toFixed(1)} s | ${bench.peakRssMb.toFixed(0)} MB | ` +
      `${bench.simulatorPeakRssMb.toFixed(0)} MB |`,
    '',
    `Against ${(bench.keys / 1000).toLocaleString('en-US')} pages for a sequential listing: ` +
      `${(((auto.lists - bench.keys / 1000) / (bench.keys / 1000)) * 100).toFixed(1)} % more LIST requests. The listing ` +
      'process counts keys and keeps none: its peak RSS is the process itself ' +
      `(${bench.rssBeforeMb.toFixed(0)} MB with Node and the AWS SDK loaded, before the listing) plus what the listing ` +
      'holds, garbage V8 has not collected yet included. The simulator generates its keys and holds none of them.',
    LARGE_END,
    '',
  ].join('\n');
}

/** The section for a run of {@link benchAutoListingResume}. */
export function renderAutoListingResumeSection(bench) {
  const verdict = bench.exactlyOnce && bench.runs >= 5 ? '✅ met' : '❌ missed';
  return [
    RESUME_START,
    '### A listing cut and resumed',
    '',
    `${bench.keys.toLocaleString('en-US')} flat keys, auto listing at concurrency ${bench.concurrency}, each run cut after ` +
      `${bench.pagesPerRun} pages (the run stops pulling; the source aborts its requests in flight) and the next run started ` +
      `from the last page's resume token (\`node scripts/bench/auto-listing.mjs --resume-runs 5 --write\`). The union of ` +
      `the runs is compared with a sequential listing of the same bucket. One run at ${bench.at}, ` +
      `${loadText(bench.loadAverage, bench.loadAverageEnd)}.`,
    '',
    '| Runs | Keys listed | Distinct | Missing | Listed more than once or not in the bucket | LIST requests (sequential) | Largest token | Wall, all runs |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| ${bench.runs} | ${bench.listed.toLocaleString('en-US')} | ${bench.unique.toLocaleString('en-US')} | ${bench.missing} | ` +
      `${bench.extra} | ${bench.lists} (${bench.sequentialLists}) | ${bench.maxTokenBytes} bytes | ${(bench.wallMs / 1000).toFixed(1)} s |`,
    '',
    `Target (≥ 5 resumed runs, every key exactly once): ${verdict}. The LIST requests include those the cut runs had in ` +
      `flight when they stopped (${(((bench.lists - bench.sequentialLists) / bench.sequentialLists) * 100).toFixed(1)} % more than ` +
      'sequential in all): the pages they would have brought are asked for again by the next run.',
    RESUME_END,
    '',
  ].join('\n');
}

/** The markers of the subsections after the auto-listing section: skewed layouts, the large run, the resumed run. */
export const AUTO_LISTING_SUBSECTIONS = {
  layouts: { start: LAYOUTS_START, end: LAYOUTS_END },
  large: { start: LARGE_START, end: LARGE_END },
  resume: { start: RESUME_START, end: RESUME_END },
};

/**
 * Puts a subsection into a performance page: in place of an earlier one, else after the auto-listing section (and the
 * subsections already after it), else as {@link insertSection} does.
 */
export function insertAutoListingSubsection(markdown, section, markers) {
  if (!markdown.includes(markers.start)) {
    const ends = [SECTION_END, LAYOUTS_END, LARGE_END, RESUME_END]
      .map((marker) => ({ marker, at: markdown.indexOf(marker) }))
      .filter(({ at }) => at !== -1);
    if (ends.length > 0) {
      const last = ends.reduce((a, b) => (b.at > a.at ? b : a));
      const cut = last.at + last.marker.length;
      return `${markdown.slice(0, cut)}\n\n${section}${markdown.slice(cut).replace(/^\n+/, '\n')}`;
    }
  }
  return insertSection(markdown, section, markers);
}

/** Writes a result of any of this script's modes into its section of the page. */
export function writeAutoListingResult(markdown, result) {
  if (result.mode === 'layouts')
    return insertAutoListingSubsection(
      markdown,
      renderAutoListingLayoutsSection(result),
      AUTO_LISTING_SUBSECTIONS.layouts,
    );
  if (result.mode === 'large')
    return insertAutoListingSubsection(markdown, renderAutoListingLargeSection(result), AUTO_LISTING_SUBSECTIONS.large);
  if (result.mode === 'resume')
    return insertAutoListingSubsection(
      markdown,
      renderAutoListingResumeSection(result),
      AUTO_LISTING_SUBSECTIONS.resume,
    );
  return insertAutoListingSection(markdown, renderAutoListingSection(result));
}

/** Puts `section` into a performance page: in place of an earlier one, else before "## Reproduce", else at the end. */
export function insertAutoListingSection(markdown, section) {
  return insertSection(markdown, section, { start: SECTION_START, end: SECTION_END });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      keys: { type: 'string' },
      concurrency: { type: 'string', default: '16' },
      // Skewed layouts instead of the flat bucket: a comma-separated list of the simulator's layouts.
      layouts: { type: 'string' },
      // One auto listing of --keys (default 10M) flat keys, no sequential one: time and peak RSS.
      large: { type: 'boolean', default: false },
      // A listing of --keys (default 1M) flat keys cut into at least this many resumed runs, checked exactly once.
      'resume-runs': { type: 'string' },
      write: { type: 'boolean', default: false },
      // A saved result (the JSON line this script prints): render and write it without running.
      render: { type: 'string' },
    },
  });
  const concurrency = Number(values.concurrency);
  const keys = (fallback) => (values.keys === undefined ? fallback : Number(values.keys));
  const log = console.log;
  const result = values.render
    ? JSON.parse(readFileSync(values.render, 'utf8'))
    : values.layouts
      ? await benchAutoListingLayouts({ layouts: values.layouts.split(','), keys: keys(1_000_000), concurrency, log })
      : values.large
        ? await benchAutoListingLarge({ keys: keys(10_000_000), concurrency, log })
        : values['resume-runs']
          ? await benchAutoListingResume({
              keys: keys(1_000_000),
              concurrency,
              runs: Number(values['resume-runs']),
              log,
            })
          : await benchAutoListing({ keys: keys(1_000_000), concurrency, log });
  console.log(JSON.stringify(result));
  if (values.write) {
    const page = fileURLToPath(new URL('../../docs/performance.md', import.meta.url));
    writeFileSync(page, writeAutoListingResult(readFileSync(page, 'utf8'), result));
    console.log(`wrote the section into ${page}`);
  }
}
