// (i) Auto-partitioned listing on the S3 simulator: one flat bucket of random names (50 ms a LIST + up to 10 ms
// jitter, page size 1000), listed sequentially and with s3ListSource({ partitions: { by: 'auto', concurrency } }).
// The simulator runs in a process of its own (scripts/bench/simulator-process.mjs): against S3 it is another
// machine, so its CPU time and garbage are not the listing's (it still shares this machine's cores). Prints the
// speed-up, keys/s, the LIST request overhead of the auto run against the sequential one, the CPU time of the
// listing process and of the simulator, and the requests in flight on average.
//   node scripts/bench/auto-listing.mjs [--keys 1000000] [--concurrency 16] [--write]
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
async function listOnce(sim, client, tracker, bucket, partitions) {
  const { s3ListSource } = core();
  const before = await sim.resetCounters();
  const source = s3ListSource({ client, bucket, pageSize: 1000, ...(partitions ? { partitions } : {}) });
  tracker.reset();
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  let keys = 0;
  for await (const page of source.pages({ signal: new AbortController().signal })) keys += page.keys.length;
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
  const sim = await spawnS3Simulator({
    buckets: { [bucket]: { layout: 'flat', count: keys } },
    latencyMs,
    jitterMs: 10,
    store: 'count',
  });
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

/** Puts `section` into a performance page: in place of an earlier one, else before "## Reproduce", else at the end. */
export function insertAutoListingSection(markdown, section) {
  return insertSection(markdown, section, { start: SECTION_START, end: SECTION_END });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      keys: { type: 'string', default: '1000000' },
      concurrency: { type: 'string', default: '16' },
      write: { type: 'boolean', default: false },
      // A saved result (the JSON line this script prints): render and write it without running.
      render: { type: 'string' },
    },
  });
  const result = values.render
    ? JSON.parse(readFileSync(values.render, 'utf8'))
    : await benchAutoListing({
        keys: Number(values.keys),
        concurrency: Number(values.concurrency),
        log: console.log,
      });
  console.log(JSON.stringify(result));
  if (values.write) {
    const page = fileURLToPath(new URL('../../docs/performance.md', import.meta.url));
    writeFileSync(page, insertAutoListingSection(readFileSync(page, 'utf8'), renderAutoListingSection(result)));
    console.log(`wrote the section into ${page}`);
  }
}
