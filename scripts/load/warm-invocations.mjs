#!/usr/bin/env node
// Warm-Lambda reuse: one presign handler invoked many times in a row in one process, as a warm Lambda execution
// environment does. Measures what could leak from one invocation to the next: heap (after forced GC), active handles
// (sockets, timers), open connections to the S3 endpoint, process listeners, and warnings (MaxListenersExceeded…).
//
//   node --expose-gc scripts/load/warm-invocations.mjs [--invocations 1000] [--keys 20] [--warmup 100] [--json] [--direct]
//
// The S3 endpoint: S3_ENDPOINT_URL when set, else one started by @presign-pipeline/minio-testing (moto_server here).
// By default the handler reaches it through a transparent keep-alive proxy, so connections are pooled and reused as
// they are with S3 (moto closes every connection); --direct skips the proxy. Uses the built packages (dist/).
// Prints a summary, or one JSON object with --json. Exit code 1 when an invocation fails.
import { readFile, readdir, readlink } from 'node:fs/promises';
import { parseArgs } from 'node:util';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values } = parseArgs({
  options: {
    invocations: { type: 'string', default: '1000' },
    keys: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '100' },
    json: { type: 'boolean', default: false },
    direct: { type: 'boolean', default: false },
  },
});
const invocations = Number(values.invocations);
const keyCount = Number(values.keys);
const warmup = Math.min(Number(values.warmup), invocations);
const gc = globalThis.gc;
if (typeof gc !== 'function') {
  process.stderr.write('warm-invocations: run with node --expose-gc (heap figures need a forced collection)\n');
  process.exit(2);
}

const { createPresignHandler } = await import('@presign-pipeline/lambda');
const { startFaultProxy, startS3Endpoint } = await import('@presign-pipeline/minio-testing');

const warnings = [];
process.on('warning', (warning) => warnings.push(`${warning.name}: ${warning.message}`));

/** Counts of active handles and requests by type, as Node reports them. */
function activeResources() {
  const counts = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/** Listeners on `process`, by event, and in all. */
function processListeners() {
  let total = 0;
  const byEvent = {};
  for (const name of process.eventNames()) {
    const count = process.listenerCount(name);
    byEvent[String(name)] = count;
    total += count;
  }
  return { total, byEvent };
}

/** Established TCP connections from this process to `port` (Linux /proc; undefined elsewhere). */
async function connectionsTo(port) {
  let fds;
  try {
    fds = await readdir('/proc/self/fd');
  } catch {
    return undefined;
  }
  const inodes = new Set();
  for (const fd of fds) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match) inodes.add(match[1]);
  }
  let count = 0;
  for (const table of ['/proc/self/net/tcp', '/proc/self/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      const remotePort = Number.parseInt(fields[2].split(':')[1] ?? '', 16);
      if (remotePort === port && fields[3] === '01' && inodes.has(fields[9])) count++;
    }
  }
  return count;
}

function heap() {
  gc();
  gc();
  const { heapUsed, rss, external } = process.memoryUsage();
  return { heapUsed, rss, external };
}

async function snapshot(port) {
  return {
    memory: heap(),
    resources: activeResources(),
    listeners: processListeners(),
    connections: await connectionsTo(port),
  };
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const s3 = await startS3Endpoint({ log: false });
const proxy = values.direct ? undefined : await startFaultProxy({ target: s3 });
const target = proxy?.endpoint ?? s3.endpoint;
const targetPort = Number(new URL(target).port);
const bucket = `warm-${Date.now().toString(36)}`;
const prefix = 'warm/';
await s3.createBucket(bucket);
await s3.seed(
  bucket,
  Array.from({ length: keyCount }, (_, i) => `${prefix}doc-${String(i).padStart(3, '0')}.pdf`),
);

let lines = 0;
let completeLines = 0;
let emfDocuments = 0;
const handler = createPresignHandler({
  presigner: 'fast',
  idempotency: false,
  // Counted, not kept: keeping every line would itself grow the heap.
  write: (line) => {
    lines++;
    if (line.startsWith('{"event":"complete"')) completeLines++;
    else if (line.includes('"_aws"')) emfDocuments++;
  },
  clientConfig: { region: s3.region, credentials: s3.credentials },
  env: { S3_ENDPOINT_URL: target, AWS_REGION: s3.region },
});

const context = (i) => ({ awsRequestId: `warm-${i}`, functionName: 'warm', getRemainingTimeInMillis: () => 600_000 });
const durations = [];
const series = [];
let failures = 0;
let firstFailure;
let baseline;
const started = Date.now();
for (let i = 1; i <= invocations; i++) {
  const t = performance.now();
  try {
    const response = await handler({ bucket, prefix }, context(i));
    const body = JSON.parse(response.body);
    if (response.statusCode !== 200 || body.count !== keyCount || body.errors !== 0)
      throw new Error(`invocation ${i}: ${response.body}`);
  } catch (error) {
    failures++;
    firstFailure ??= error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
  durations.push(performance.now() - t);
  if (i === warmup) baseline = await snapshot(targetPort);
  if (i % 100 === 0 || i === invocations) series.push({ invocation: i, heapUsed: heap().heapUsed });
}
const totalMs = Date.now() - started;
const final = await snapshot(targetPort);

await proxy?.stop();
await s3.stop();

const sorted = [...durations].sort((a, b) => a - b);
const mib = (bytes) => Math.round((bytes / 1048576) * 100) / 100;
const result = {
  invocations,
  keys: keyCount,
  warmup,
  throughProxy: proxy !== undefined,
  failures,
  ...(firstFailure !== undefined ? { firstFailure } : {}),
  output: { lines, completeLines, emfDocuments },
  durationMs: {
    total: totalMs,
    mean: Math.round((durations.reduce((a, b) => a + b, 0) / durations.length) * 100) / 100,
    p50: Math.round(percentile(sorted, 50) * 100) / 100,
    p95: Math.round(percentile(sorted, 95) * 100) / 100,
  },
  heapUsed: {
    baseline: baseline.memory.heapUsed,
    final: final.memory.heapUsed,
    growthPercent:
      Math.round(((final.memory.heapUsed - baseline.memory.heapUsed) / baseline.memory.heapUsed) * 10000) / 100,
    baselineMiB: mib(baseline.memory.heapUsed),
    finalMiB: mib(final.memory.heapUsed),
    seriesMiB: series.map((s) => [s.invocation, mib(s.heapUsed)]),
  },
  rssMiB: { baseline: mib(baseline.memory.rss), final: mib(final.memory.rss) },
  resources: { baseline: baseline.resources, final: final.resources },
  listeners: { baseline: baseline.listeners, final: final.listeners },
  connections: { baseline: baseline.connections, final: final.connections },
  warnings,
  node: process.version,
};

if (values.json) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  const out = (line) => process.stdout.write(`${line}\n`);
  out(
    `${invocations} invocations of ${keyCount} keys (${result.throughProxy ? 'keep-alive proxy' : 'direct'}), ${failures} failed`,
  );
  out(
    `time: ${totalMs} ms in all, mean ${result.durationMs.mean} ms, p50 ${result.durationMs.p50} ms, p95 ${result.durationMs.p95} ms`,
  );
  out(
    `heapUsed after GC: ${result.heapUsed.baselineMiB} MiB after ${warmup} → ${result.heapUsed.finalMiB} MiB after ${invocations} (${result.heapUsed.growthPercent} %)`,
  );
  out(`heap series (MiB): ${result.heapUsed.seriesMiB.map(([i, m]) => `${i}:${m}`).join(' ')}`);
  out(`rss: ${result.rssMiB.baseline} → ${result.rssMiB.final} MiB`);
  out(`active resources: ${JSON.stringify(result.resources.baseline)} → ${JSON.stringify(result.resources.final)}`);
  out(`process listeners: ${result.listeners.baseline.total} → ${result.listeners.final.total}`);
  out(`connections to the endpoint: ${result.connections.baseline ?? 'n/a'} → ${result.connections.final ?? 'n/a'}`);
  out(`warnings: ${warnings.length === 0 ? 'none' : warnings.join('; ')}`);
}
process.exitCode = failures === 0 ? 0 : 1;
