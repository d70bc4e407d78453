#!/usr/bin/env node
// Concurrent runs on one S3 endpoint: N pipeline runs at once, each listing the same seeded prefix and writing its
// own manifest, each with its own client (as N concurrent Lambda invocations would). Reports wall time, per-run
// durations, memory, and the connections left once the clients are destroyed; checks every manifest line by line.
//
//   node scripts/load/concurrent-runs.mjs [--runs 20] [--keys 400] [--json]
//
// The S3 endpoint: S3_ENDPOINT_URL when set, else one started by @presign-pipeline/minio-testing (moto_server here),
// reached through a transparent keep-alive proxy. Uses the built packages (dist/). Exit code 1 when a run fails or
// a manifest is not exact.
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    keys: { type: 'string', default: '400' },
    json: { type: 'boolean', default: false },
  },
});
const runCount = Number(values.runs);
const keyCount = Number(values.keys);

const core = await import('@presign-pipeline/core');
const { createS3Client, startFaultProxy, startS3Endpoint } = await import('@presign-pipeline/minio-testing');

const s3 = await startS3Endpoint({ log: false });
const proxy = await startFaultProxy({ target: s3 });
const bucket = `concurrent-${Date.now().toString(36)}`;
const prefix = 'shared/';
const keys = Array.from({ length: keyCount }, (_, i) => `${prefix}${String(i).padStart(5, '0')}.pdf`);
const seedStarted = Date.now();
await s3.createBucket(bucket);
await s3.seed(bucket, keys);
const seedMs = Date.now() - seedStarted;

let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 20);

const runs = Array.from({ length: runCount }, (_, i) => {
  const client = createS3Client({ ...s3, endpoint: proxy.endpoint }, { maxAttempts: 5 });
  return { i, client, keyPrefix: `manifests/concurrent-${i}-${randomUUID()}/` };
});
const started = performance.now();
const outcomes = await Promise.allSettled(
  runs.map(async ({ client, keyPrefix }) => {
    const t = performance.now();
    const result = await core.presignPipeline({
      source: core.s3ListSource({ client, bucket, prefix, pageSize: 100, filter: core.suffixFilter('.pdf') }),
      presigner: core.fastPresigner({ client }),
      manifest: core.s3ManifestWriter({ client, bucket, keyPrefix }),
      concurrency: 8,
    });
    return { result, ms: performance.now() - t };
  }),
);
const wallMs = performance.now() - started;
clearInterval(sampler);
for (const { client } of runs) client.destroy();

let exact = 0;
const problems = [];
for (const [i, outcome] of outcomes.entries()) {
  if (outcome.status === 'rejected') {
    problems.push(`run ${i}: ${outcome.reason?.name}: ${outcome.reason?.message}`);
    continue;
  }
  const { result } = outcome.value;
  // The manifest through its own presigned URL, as a consumer reads it.
  const response = await fetch(result.manifest.url);
  const lines = (await response.text()).trim().split('\n');
  const seen = new Set(lines.map((line) => JSON.parse(line).key));
  if (lines.length === keyCount && seen.size === keyCount && keys.every((k) => seen.has(k))) exact++;
  else problems.push(`run ${i}: manifest has ${lines.length} lines, ${seen.size} distinct keys`);
}

await proxy.stop();
await s3.stop();

const durations = outcomes
  .filter((o) => o.status === 'fulfilled')
  .map((o) => o.value.ms)
  .sort((a, b) => a - b);
const round = (ms) => Math.round(ms);
const report = {
  runs: runCount,
  keysPerRun: keyCount,
  seedMs,
  wallMs: round(wallMs),
  perRunMs: durations.length
    ? {
        min: round(durations[0]),
        median: round(durations[Math.floor(durations.length / 2)]),
        max: round(durations.at(-1)),
      }
    : undefined,
  urlsPerSecond: Math.round((keyCount * durations.length) / (wallMs / 1000)),
  peakRssMiB: Math.round((peakRss / 1048576) * 10) / 10,
  exactManifests: exact,
  problems,
  node: process.version,
};
if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`);
else {
  const out = (line) => process.stdout.write(`${line}\n`);
  out(`${runCount} concurrent runs × ${keyCount} keys: ${exact}/${runCount} manifests exact`);
  out(
    `wall ${report.wallMs} ms; per run min ${report.perRunMs?.min} / median ${report.perRunMs?.median} / max ${report.perRunMs?.max} ms; ${report.urlsPerSecond} URLs/s in all`,
  );
  out(`peak RSS ${report.peakRssMiB} MiB; seeding took ${seedMs} ms`);
  for (const problem of problems) out(`problem: ${problem}`);
}
process.exitCode = exact === runCount ? 0 : 1;
