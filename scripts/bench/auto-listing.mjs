// (i) Auto-partitioned listing on the S3 simulator: one flat bucket of random names (50 ms a LIST + up to 10 ms
// jitter, page size 1000), listed sequentially and with s3ListSource({ partitions: { by: 'auto', concurrency } }).
// Prints the speed-up, keys/s and the LIST request overhead of the auto run against the sequential one.
//   node scripts/bench/auto-listing.mjs [--keys 1000000] [--concurrency 16]
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { core, minioTesting } from './load.mjs';

/** Lists the whole bucket once, counting keys (each must be new) and the simulator's LIST requests. */
async function listOnce(sim, client, bucket, partitions) {
  const { s3ListSource } = core();
  sim.resetCounters();
  const source = s3ListSource({ client, bucket, pageSize: 1000, ...(partitions ? { partitions } : {}) });
  const started = performance.now();
  let keys = 0;
  for await (const page of source.pages({ signal: new AbortController().signal })) keys += page.keys.length;
  const wallMs = performance.now() - started;
  return {
    keys,
    wallMs,
    keysPerSecond: keys / (wallMs / 1000),
    lists: sim.counters.byOperation.ListObjectsV2 ?? 0,
    throttled: sim.counters.throttled,
  };
}

/** Runs the section: sequential, then auto at `concurrency`, on `keys` flat keys. */
export async function benchAutoListing({ keys = 1_000_000, concurrency = 16, latencyMs = 50, log = () => {} } = {}) {
  const { startS3Simulator, createS3Client } = await minioTesting();
  const loadAverage = loadavg()[0];
  const bucket = `flat-${keys}`;
  const sim = await startS3Simulator({
    buckets: { [bucket]: { layout: 'flat', count: keys } },
    latencyMs,
    jitterMs: 10,
    store: 'count',
  });
  try {
    const client = createS3Client(sim);
    const sequential = await listOnce(sim, client, bucket, undefined);
    log(
      `  sequential: ${sequential.keys} keys in ${(sequential.wallMs / 1000).toFixed(1)} s, ${Math.round(sequential.keysPerSecond)} keys/s, ${sequential.lists} LIST`,
    );
    const auto = await listOnce(sim, client, bucket, { by: 'auto', concurrency });
    log(
      `  auto ×${concurrency}: ${auto.keys} keys in ${(auto.wallMs / 1000).toFixed(1)} s, ${Math.round(auto.keysPerSecond)} keys/s, ${auto.lists} LIST, ${auto.throttled} throttled`,
    );
    if (auto.keys !== keys || sequential.keys !== keys)
      throw new Error(`listed ${sequential.keys} / ${auto.keys} keys of ${keys}`);
    const ratio = sequential.wallMs / auto.wallMs;
    const overheadPercent = ((auto.lists - sequential.lists) / sequential.lists) * 100;
    log(`  auto / sequential: ${ratio.toFixed(1)}×, request overhead ${overheadPercent.toFixed(1)} %`);
    return { keys, concurrency, latencyMs, sequential, auto, ratio, overheadPercent, loadAverage };
  } finally {
    await sim.close();
  }
}

export const SECTION_START = '<!-- auto-listing:start -->';
export const SECTION_END = '<!-- auto-listing:end -->';

/** The performance page's section for one run of this bench. */
export function renderAutoListingSection(bench) {
  const row = (name, run) =>
    `| ${name} | ${(run.wallMs / 1000).toFixed(1)} s | ${Math.round(run.keysPerSecond).toLocaleString('en-US')} | ${run.lists} | ${run.throttled} |`;
  return [
    SECTION_START,
    '## Auto-partitioned listing on the S3 simulator',
    '',
    `${bench.keys.toLocaleString('en-US')} flat keys of random names on \`startS3Simulator()\` (${bench.latencyMs} ms a LIST + up to ` +
      `10 ms jitter, page size 1000), listed by \`s3ListSource\` sequentially and with \`partitions: { by: 'auto', ` +
      `concurrency: ${bench.concurrency} }\` (\`node scripts/bench/auto-listing.mjs\`; section \`autolisting\` of \`npm run bench\`).`,
    '',
    '| Listing | Wall | keys/s | LIST requests | 503 SlowDown |',
    '|---|---|---|---|---|',
    row('sequential', bench.sequential),
    row(`auto, concurrency ${bench.concurrency}`, bench.auto),
    '',
    `Auto against sequential: **${bench.ratio.toFixed(1)}×** faster, request overhead **${bench.overheadPercent.toFixed(1)} %** ` +
      'more ListObjectsV2 requests (billed per request). One run on a shared 2-core machine' +
      (bench.loadAverage === undefined
        ? '.'
        : ` (load average ${bench.loadAverage.toFixed(1)} around it): both listings wait for a core, so the ratio is far under what 16 requests in flight give on an idle machine.`),
    SECTION_END,
    '',
  ].join('\n');
}

/** Puts `section` into a performance page: in place of an earlier one, else before "## Reproduce", else at the end. */
export function insertAutoListingSection(markdown, section) {
  const start = markdown.indexOf(SECTION_START);
  const end = markdown.indexOf(SECTION_END);
  if (start !== -1 && end > start) {
    const after = markdown.slice(end + SECTION_END.length).replace(/^\n+/, '');
    return `${markdown.slice(0, start)}${section}\n${after}`;
  }
  const reproduce = markdown.indexOf('\n## Reproduce');
  if (reproduce !== -1) return `${markdown.slice(0, reproduce + 1)}${section}\n${markdown.slice(reproduce + 1)}`;
  return `${markdown.replace(/\n*$/, '\n\n')}${section}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { keys: { type: 'string', default: '1000000' }, concurrency: { type: 'string', default: '16' } },
  });
  const result = await benchAutoListing({
    keys: Number(values.keys),
    concurrency: Number(values.concurrency),
    log: console.log,
  });
  console.log(JSON.stringify(result));
}
