#!/usr/bin/env node
// One end-to-end run in its own process (its peak RSS is its own), against the S3 simulator the parent started
// (S3_ENDPOINT_URL): s3ListSource over a flat bucket of N keys → fastPresigner with a session token (about 1.7 KB
// URLs) → s3ManifestWriter (multipart) on the simulator. The parts are composed as the handler composes them; the
// listing is sequential, or auto-partitioned at concurrency `--partitions` (by: 'auto', as the handler's
// list_concurrency), or `--listing range` (key ranges from the flat layout's hex names). Prints one JSON line.
//   node scripts/bench/simulator-run.mjs --keys 1000000 --bucket flat-1000000 [--partitions 16] [--concurrency 4]
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import { parseArgs } from 'node:util';
import { sessionCredentials, core, endpointClient } from './load.mjs';

const { values } = parseArgs({
  options: {
    keys: { type: 'string' },
    bucket: { type: 'string' },
    partitions: { type: 'string', default: '16' },
    concurrency: { type: 'string', default: '4' },
    // `null`: a writer that only counts bytes, to tell the S3 writer's memory from the listing's and presigning's.
    manifest: { type: 'string', default: 's3' },
    listing: { type: 'string', default: 'auto' },
    // The S3 writer's part pool (default: the writer's own defaults, 8 MiB parts, 4 in flight).
    'part-size': { type: 'string' },
    'queue-size': { type: 'string' },
  },
});
const n = Number(values.keys);
const partitions = Number(values.partitions);
const { presignPipeline, s3ListSource, s3ManifestWriter, fastPresigner } = core();

// Lambda-like temporary credentials: the session token makes each URL about 1.7 KB. The simulator accepts any.
const client = endpointClient({ endpoint: process.env.S3_ENDPOINT_URL, credentials: sessionCredentials() });

/** Flat names are 12 hex digits spread evenly: p − 1 boundaries at even steps split them into p ranges. */
function rangeBoundaries(count) {
  const out = [];
  for (let i = 1; i < count; i += 1)
    out.push(
      Math.floor((i * 16 ** 12) / count)
        .toString(16)
        .padStart(12, '0'),
    );
  return out;
}

// `--listing auto` (default): no hints, as the handler lists with list_concurrency; `range`: the flat layout's boundaries.
const byRange = { by: 'range', boundaries: rangeBoundaries(partitions), concurrency: partitions };
const source = s3ListSource({
  client,
  bucket: values.bucket,
  pageSize: 1000,
  ...(partitions > 1
    ? { partitions: values.listing === 'range' ? byRange : { by: 'auto', concurrency: partitions } }
    : {}),
});
/** Counts the manifest's bytes (a JSON line per entry) and keeps nothing. */
function countingWriter() {
  let bytes = 0;
  return {
    open() {},
    async write(entries) {
      for (const entry of entries) bytes += Buffer.byteLength(JSON.stringify({ key: entry.key, url: entry.url })) + 1;
    },
    async close() {
      return { key: 'null', url: '', bytes, location: 'null' };
    },
    async abort() {},
  };
}

let peakRss = 0;
// MEMORY_TIMELINE=1: one line of memoryUsage() to stderr every 2 s (where the memory goes, over the run).
let ticks = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  if (process.env.MEMORY_TIMELINE && ++ticks % Number(process.env.MEMORY_TIMELINE_TICKS ?? 20) === 0) {
    const m = process.memoryUsage();
    const mb = (n) => (n / 2 ** 20).toFixed(0);
    // V8's spaces: new (young objects), old, and large_object (each object over 128 KiB, such as a whole
    // ListObjectsV2 answer as one string, goes there directly and leaves only at a full collection).
    const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((space) => [space.space_name, space.space_size]));
    process.stderr.write(
      `rss ${mb(m.rss)} heapTotal ${mb(m.heapTotal)} heapUsed ${mb(m.heapUsed)} external ${mb(m.external)} arrayBuffers ${mb(m.arrayBuffers)} ` +
        `new ${mb(spaces.new_space ?? 0)} old ${mb(spaces.old_space ?? 0)} large ${mb(spaces.large_object_space ?? 0)} ` +
        `new-large ${mb(spaces.new_large_object_space ?? 0)} code ${mb(spaces.code_space ?? 0)}\n`,
    );
  }
}, 100);
try {
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const result = await presignPipeline({
    source,
    presigner: fastPresigner({ client }),
    manifest:
      values.manifest === 'null'
        ? countingWriter()
        : s3ManifestWriter({
            client,
            bucket: values.bucket,
            keyPrefix: 'bench-manifests/',
            ...(values['part-size'] ? { partSize: Number(values['part-size']) } : {}),
            ...(values['queue-size'] ? { queueSize: Number(values['queue-size']) } : {}),
          }),
    concurrency: Number(values.concurrency),
    expiresIn: 3600,
  });
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  if (result.count !== n || result.errors !== 0)
    throw new Error(`expected ${n} URLs, got ${result.count} (${result.errors} errors)`);
  const memory = process.memoryUsage();
  process.stdout.write(
    `${JSON.stringify({
      keys: n,
      partitions,
      ms,
      keysPerSec: n / (ms / 1000),
      cpuMs: (cpu.user + cpu.system) / 1000,
      peakRssMB: process.resourceUsage().maxRSS / 1024,
      sampledPeakRssMB: peakRss / 2 ** 20,
      endHeapUsedMB: memory.heapUsed / 2 ** 20,
      endArrayBuffersMB: memory.arrayBuffers / 2 ** 20,
      manifest: values.manifest,
      manifestKey: result.manifest.key,
      manifestBytes: result.manifest.bytes,
    })}\n`,
  );
} finally {
  clearInterval(sampler);
  client.destroy();
}
