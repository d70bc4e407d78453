#!/usr/bin/env node
// The S3 manifest writer alone, in its own process (its memory is its own): N synthetic manifest entries of about
// 1.7 KB a line (a session-token URL's size) written through s3ManifestWriter to the S3 simulator the parent started
// (S3_ENDPOINT_URL), in batches as the pipeline hands them. `--manifest null` writes nothing: the baseline of the
// process and the entry generator. Memory is sampled with process.memoryUsage() (no forced collections). Prints one
// JSON line.
//   node scripts/bench/s3-writer-run.mjs --lines 1000000 --bucket writer [--manifest s3|null] [--batch 1000]
//        [--part-size-mib 8] [--queue-size 4]
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { core, endpointClient } from './load.mjs';

const { values } = parseArgs({
  options: {
    lines: { type: 'string' },
    bucket: { type: 'string' },
    manifest: { type: 'string', default: 's3' },
    batch: { type: 'string', default: '1000' },
    'part-size-mib': { type: 'string' },
    'queue-size': { type: 'string' },
  },
});
const lines = Number(values.lines);
const batch = Number(values.batch);
const { s3ManifestWriter } = core();

const client = endpointClient({
  endpoint: process.env.S3_ENDPOINT_URL,
  credentials: { accessKeyId: 'AKIAEXAMPLEBENCHKEY1', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
});

// A URL shaped like a presigned one with a session token (about 1.65 KB); the key makes each line distinct.
const token = `IQoJb3JpZ2luX2VjE${'Abc123%2F%2B%3D'.repeat(90)}`;
const urlTail = `?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAEXAMPLEBENCHKEY1%2F20261204%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261204T000000Z&X-Amz-Expires=3600&X-Amz-Security-Token=${token}&X-Amz-Signature=`;
function entries(from, count) {
  const out = new Array(count);
  for (let i = 0; i < count; i += 1) {
    const key = `data/${(from + i).toString(16).padStart(12, '0')}.pdf`;
    out[i] = {
      key,
      url: `https://bench.s3.us-east-1.amazonaws.com/${key}${urlTail}${(from + i).toString(16).padStart(64, '0')}`,
    };
  }
  return out;
}

/** Keeps nothing: the process and the generator without a writer. */
function nullWriter() {
  let bytes = 0;
  return {
    open() {},
    async write(batchEntries) {
      for (const entry of batchEntries) bytes += entry.key.length + entry.url.length + 19;
    },
    async close() {
      return { key: 'null', url: '', bytes, location: 'null' };
    },
    async abort() {},
  };
}

const peak = { rss: 0, arrayBuffers: 0, external: 0, heapUsed: 0 };
function sample() {
  const m = process.memoryUsage();
  for (const name of Object.keys(peak)) peak[name] = Math.max(peak[name], m[name]);
}
const mb = (value) => value / 2 ** 20;
const startRss = process.memoryUsage.rss();
const sampler = setInterval(sample, 20);
try {
  const writer =
    values.manifest === 'null'
      ? nullWriter()
      : s3ManifestWriter({
          client,
          bucket: values.bucket,
          keyPrefix: 'bench-writer/',
          ...(values['part-size-mib'] ? { partSize: Number(values['part-size-mib']) * 2 ** 20 } : {}),
          ...(values['queue-size'] ? { queueSize: Number(values['queue-size']) } : {}),
        });
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  writer.open({ expiresIn: 3600 });
  for (let from = 0; from < lines; from += batch) {
    await writer.write(entries(from, Math.min(batch, lines - from)));
  }
  const manifest = await writer.close();
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  sample();
  const end = process.memoryUsage();
  process.stdout.write(
    `${JSON.stringify({
      lines,
      manifest: values.manifest,
      partSizeMiB: Number(values['part-size-mib'] ?? 8),
      queueSize: Number(values['queue-size'] ?? 4),
      ms,
      linesPerSec: lines / (ms / 1000),
      mibPerSec: mb(manifest.bytes) / (ms / 1000),
      cpuMs: (cpu.user + cpu.system) / 1000,
      startRssMB: mb(startRss),
      peakRssMB: process.resourceUsage().maxRSS / 1024,
      sampledPeakRssMB: mb(peak.rss),
      peakArrayBuffersMB: mb(peak.arrayBuffers),
      peakExternalMB: mb(peak.external),
      peakHeapUsedMB: mb(peak.heapUsed),
      endArrayBuffersMB: mb(end.arrayBuffers),
      endHeapUsedMB: mb(end.heapUsed),
      manifestKey: manifest.key,
      manifestBytes: manifest.bytes,
    })}\n`,
  );
} finally {
  clearInterval(sampler);
  client.destroy();
}
