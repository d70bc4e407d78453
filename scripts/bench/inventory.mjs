#!/usr/bin/env node
// Reading keys from an S3 Inventory report (s3InventorySource), and the handler end to end from one.
//
//   node scripts/bench/inventory.mjs [--keys 10000000] [--handler-keys 1000000] [--files 10] [--quick] [--json FILE]
//
// A CSV-gzip inventory (no header; Bucket, Key, Size, LastModifiedDate, ETag, StorageClass; keys URL-encoded, one in
// sixteen with a space or a '+') is generated once into a scratch folder (reused by later runs of the same size). Each
// measurement runs in a child process of its own, so its peak RSS is its own, against startS3Simulator()
// (@presign-pipeline/minio-testing) in another process, as S3 runs on other machines: it serves the report's files
// (GetObject) and takes the handler's multipart manifest, counting its bytes and lines instead of keeping them.
//   (1) source: s3InventorySource alone, every key pulled (no presigning): keys/s and peak RSS.
//   (2) handler: createPresignHandler with inventory_manifest, fastPresigner, the JSONL manifest uploaded to the
//       simulator: keys/s (keys presigned / the invocation's wall time) and peak RSS.
// Imports the built packages (packages/*/dist): rebuild first (`npm run build`), as `npm run bench` does.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { once } from 'node:events';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createGzip } from 'node:zlib';
import { core, minioTesting, endpointClient } from './load.mjs';
import { runJsonChild } from '../lib/json-child.mjs';

const SOURCE_BUCKET = 'bench-inventoried';
const DEST_BUCKET = 'bench-inventory-reports';
const root = fileURLToPath(new URL('../..', import.meta.url));
export const SECTION_START = '<!-- inventory:start -->';
export const SECTION_END = '<!-- inventory:end -->';

/** The i-th key: dated folders, customer folders, one in sixteen with a space, one in sixteen with a '+'. */
function keyAt(i) {
  const name = i % 16 === 3 ? `scan ${i}` : i % 16 === 7 ? `v1+${i}` : `document-${i}`;
  return `reports/2026/04/${String((i % 30) + 1).padStart(2, '0')}/customer-${i % 5000}/${name}.pdf`;
}

/** S3 Inventory's CSV encoding of a key (form-style: a space becomes '+'). */
const encodeKey = (key) => encodeURIComponent(key).replaceAll('%2F', '/').replaceAll('%20', '+');

async function writeDataFile(path, from, to) {
  const gzip = createGzip({ level: 1 });
  const out = createWriteStream(path);
  gzip.pipe(out);
  const hash = createHash('md5');
  gzip.on('data', (chunk) => hash.update(chunk));
  const CHUNK = 20_000;
  for (let start = from; start < to; start += CHUNK) {
    let text = '';
    for (let i = start; i < Math.min(to, start + CHUNK); i++) {
      text += `"${SOURCE_BUCKET}","${encodeKey(keyAt(i))}","${1000 + (i % 90_000)}","2026-04-0${(i % 9) + 1}T10:00:00.000Z","d41d8cd98f00b204e9800998ecf8427e","STANDARD"\n`;
    }
    if (!gzip.write(text)) await once(gzip, 'drain');
  }
  gzip.end();
  await once(out, 'finish');
  return { size: statSync(path).size, md5: hash.digest('hex') };
}

/** Generates (or reuses) an inventory of `keys` keys in `files` data files under `dir`; returns the manifest key. */
export async function generateInventory(dir, keys, files) {
  const manifestPath = join(dir, 'manifest.json');
  if (existsSync(manifestPath)) return 'manifest.json';
  mkdirSync(join(dir, 'data'), { recursive: true });
  const entries = [];
  for (let f = 0; f < files; f++) {
    const key = `data/part-${f}.csv.gz`;
    const { size, md5 } = await writeDataFile(
      join(dir, key),
      Math.floor((f * keys) / files),
      Math.floor(((f + 1) * keys) / files),
    );
    entries.push({ key, size, MD5checksum: md5 });
  }
  const manifest = {
    sourceBucket: SOURCE_BUCKET,
    destinationBucket: `arn:aws:s3:::${DEST_BUCKET}`,
    version: '2016-11-30',
    fileFormat: 'CSV',
    fileSchema: 'Bucket, Key, Size, LastModifiedDate, ETag, StorageClass',
    files: entries,
  };
  writeFileSync(manifestPath, JSON.stringify(manifest));
  return 'manifest.json';
}

/**
 * The S3 side: `startS3Simulator()` (@presign-pipeline/minio-testing) holding the report's files in DEST_BUCKET and
 * answering like S3 (its default latency and per-prefix limits), the manifest's bytes counted, not kept.
 */
async function startSimulator(dir) {
  const { startS3Simulator } = await minioTesting();
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const objects = { 'manifest.json': readFileSync(join(dir, 'manifest.json')) };
  for (const file of manifest.files) objects[file.key] = readFileSync(join(dir, file.key));
  const sim = await startS3Simulator({
    buckets: { [SOURCE_BUCKET]: { layout: 'handful' } },
    objects: { [DEST_BUCKET]: objects },
    store: 'count',
  });
  return {
    endpoint: sim.endpoint,
    report: () => {
      const stored = [...sim.objects(SOURCE_BUCKET).values()];
      return {
        uploaded: sim.counters.bytesReceived,
        lines: stored.reduce((n, o) => n + o.lines, 0),
        openUploads: sim.uploads().length,
        requests: sim.counters.byOperation,
      };
    },
    stop: () => sim.close(),
  };
}

function clientFor(endpoint) {
  return endpointClient({
    endpoint,
    credentials: { accessKeyId: 'AKIAEXAMPLEBENCHKEY1', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
  });
}

const peakRssMB = () => process.resourceUsage().maxRSS / 1024;

async function childSource(dir) {
  const sim = await spawnSimulator(dir);
  const { s3InventorySource } = core();
  const source = s3InventorySource({
    client: clientFor(sim.endpoint),
    manifest: { bucket: DEST_BUCKET, key: 'manifest.json' },
  });
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  let keys = 0;
  let pages = 0;
  for await (const page of source.pages({ signal: new AbortController().signal })) {
    keys += page.keys.length;
    pages += 1;
  }
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuStart);
  await sim.stop();
  return {
    keys,
    pages,
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    keysPerSec: keys / (ms / 1000),
    peakRssMB: peakRssMB(),
  };
}

/** The simulator alone, in a process of its own: prints its endpoint, serves until stdin closes. */
async function childSimulator(dir) {
  const sim = await startSimulator(dir);
  process.stdout.write(`${JSON.stringify({ endpoint: sim.endpoint })}\n`);
  process.stdin.resume();
  await once(process.stdin, 'end');
  process.stdout.write(`${JSON.stringify(sim.report())}\n`);
  await sim.stop();
}

/** Starts the simulator in a child process; `stop()` resolves with what it received (bytes, manifest lines, open uploads). */
async function spawnSimulator(dir) {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', 'simulator', '--dir', dir], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = [];
  let buffered = '';
  let notify;
  child.stdout.on('data', (chunk) => {
    buffered += chunk;
    for (let nl = buffered.indexOf('\n'); nl !== -1; nl = buffered.indexOf('\n')) {
      lines.push(JSON.parse(buffered.slice(0, nl)));
      buffered = buffered.slice(nl + 1);
      notify?.();
    }
  });
  const next = async () => {
    while (lines.length === 0) await new Promise((r) => (notify = r));
    return lines.shift();
  };
  const { endpoint } = await next();
  return {
    endpoint,
    async stop() {
      child.stdin.end();
      return next();
    },
  };
}

async function childHandler(dir) {
  // The S3 side runs in a process of its own, as S3 runs on other machines: its work is not the handler's.
  const sim = await spawnSimulator(dir);
  const { createPresignHandler } = await import('@presign-pipeline/lambda');
  const handler = createPresignHandler({
    s3Client: clientFor(sim.endpoint),
    presigner: 'fast',
    write: () => {},
    env: { AWS_REGION: 'us-east-1' },
  });
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  const response = await handler({
    bucket: SOURCE_BUCKET,
    inventory_manifest: `s3://${DEST_BUCKET}/manifest.json`,
    prefix: '',
  });
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuStart);
  const body = JSON.parse(response.body);
  if (response.statusCode !== 200) throw new Error(`handler answered ${response.statusCode}: ${response.body}`);
  const received = await sim.stop();
  if (received.lines !== body.count || received.openUploads !== 0) {
    throw new Error(
      `the simulator holds ${received.lines} manifest lines for ${body.count} keys, ${received.openUploads} multipart uploads left open`,
    );
  }
  return {
    keys: body.count,
    errors: body.errors,
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    keysPerSec: body.count / (ms / 1000),
    peakRssMB: peakRssMB(),
    manifestMiB: received.uploaded / 2 ** 20,
  };
}

function runSelf(args) {
  return runJsonChild(fileURLToPath(import.meta.url), args, { label: 'inventory bench child' });
}

/** Runs both measurements (generating the reports first); `log` prints progress. */
export async function benchInventory({
  keys = 10_000_000,
  handlerKeys = 1_000_000,
  files = 10,
  repeats = 2,
  log = () => {},
} = {}) {
  const scratch = join(root, '.bench', 'inventory');
  const sourceDir = join(scratch, `csv-${keys}-${files}`);
  const handlerDir = join(scratch, `csv-${handlerKeys}-${Math.max(1, Math.round(files / 4))}`);
  let t = performance.now();
  await generateInventory(sourceDir, keys, files);
  await generateInventory(handlerDir, handlerKeys, Math.max(1, Math.round(files / 4)));
  log(`  reports ready in ${((performance.now() - t) / 1000).toFixed(1)} s (reused when already generated)`);
  const compressedMiB =
    JSON.parse(readFileSync(join(sourceDir, 'manifest.json'), 'utf8')).files.reduce((s, f) => s + f.size, 0) / 2 ** 20;
  const best = (runs) => ({
    ...runs.reduce((a, b) => (b.keysPerSec > a.keysPerSec ? b : a)),
    peakRssMB: Math.max(...runs.map((r) => r.peakRssMB)),
    allKeysPerSec: runs.map((r) => Math.round(r.keysPerSec)),
  });
  const sourceRuns = [];
  for (let i = 0; i < repeats; i++) sourceRuns.push(await runSelf(['--child', 'source', '--dir', sourceDir]));
  const source = { ...best(sourceRuns), files, compressedMiB };
  log(
    `  source: ${source.keys.toLocaleString('en-US')} keys from ${files} CSV-gzip files (${compressedMiB.toFixed(0)} MiB): ` +
      `${Math.round(source.keysPerSec).toLocaleString('en-US')} keys/s, ${(source.ms / 1000).toFixed(1)} s, peak RSS ${source.peakRssMB.toFixed(0)} MB ` +
      `(targets ≥ 300,000 keys/s ${source.keysPerSec >= 300_000 ? 'met' : 'MISSED'}, < 150 MB ${source.peakRssMB < 150 ? 'met' : 'MISSED'})`,
  );
  t = performance.now();
  const handlerRuns = [];
  for (let i = 0; i < repeats; i++) handlerRuns.push(await runSelf(['--child', 'handler', '--dir', handlerDir]));
  const handler = best(handlerRuns);
  log(
    `  handler: ${handler.keys.toLocaleString('en-US')} keys presigned end to end: ${Math.round(handler.keysPerSec).toLocaleString('en-US')} keys/s, ` +
      `${(handler.ms / 1000).toFixed(1)} s, peak RSS ${handler.peakRssMB.toFixed(0)} MB, manifest ${handler.manifestMiB.toFixed(0)} MiB ` +
      `(target ≥ 100,000 keys/s ${handler.keysPerSec >= 100_000 ? 'met' : 'MISSED'})`,
  );
  return { source, handler, repeats, loadAverage: loadavg()[0], cores: cpus().length };
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');

/** The "Reading an S3 Inventory" section of docs/performance.md. */
export function renderInventorySection(r) {
  return `${SECTION_START}
## Reading an S3 Inventory

[\`scripts/bench/inventory.mjs\`](../scripts/bench/inventory.mjs): a generated CSV-gzip inventory (no header; Bucket, Key,
Size, LastModifiedDate, ETag, StorageClass; keys URL-encoded, one in eight with a space or a \`+\`), served by a small S3
simulator on loopback (\`startS3Simulator()\`, 50 ms a request, in a process of its own: its memory and CPU are not
the measured process's, though it shares the machine's cores). Best of ${r.repeats} runs for keys/s, highest peak RSS of them.

| What | Keys | Wall time | Keys/s (wall) | CPU time | Keys per CPU-second | Peak RSS | Target |
|---|---:|---:|---:|---:|---:|---:|---|
| \`s3InventorySource\` alone, ${r.source.files} data files (${r.source.compressedMiB.toFixed(0)} MiB gzipped), every key pulled | ${fmt(r.source.keys)} | ${(r.source.ms / 1000).toFixed(1)} s | **${fmt(r.source.keysPerSec)}** | ${(r.source.cpuMs / 1000).toFixed(1)} s | ${fmt(r.source.keys / (r.source.cpuMs / 1000))} | ${r.source.peakRssMB.toFixed(0)} MB | ≥ 300,000 keys/s, < 150 MB |
| the handler with \`inventory_manifest\`, \`fastPresigner\`, manifest uploaded (${r.handler.manifestMiB.toFixed(0)} MiB) | ${fmt(r.handler.keys)} | ${(r.handler.ms / 1000).toFixed(1)} s | **${fmt(r.handler.keysPerSec)}** | ${(r.handler.cpuMs / 1000).toFixed(1)} s | ${fmt(r.handler.keys / (r.handler.cpuMs / 1000))} | ${r.handler.peakRssMB.toFixed(0)} MB | ≥ 100,000 keys/s |

Load average when the run started: ${r.loadAverage?.toFixed(1) ?? 'unknown'} on ${r.cores ?? '?'} cores. On a shared machine the wall
time includes the time other processes held the CPU; the CPU time is the measured process's own (the simulator's is
not in it). ${r.handler.keysPerSec >= 100_000 ? '' : `The handler's wall-time rate misses its target in this run; its CPU time says it needs about ${((r.handler.cpuMs / r.handler.keys) * 1000).toFixed(1)} µs per key (reading the report, presigning, writing and uploading the manifest), which is about ${fmt(r.handler.keys / (r.handler.cpuMs / 1000))} keys/s on a core of its own. That is an inference from CPU time, not a measurement on an idle machine.`}

Runs: source ${r.source.allKeysPerSec.map(fmt).join(', ')} keys/s; handler ${r.handler.allKeysPerSec.map(fmt).join(', ')} keys/s.
The source's time is gunzip, CSV parsing, URL-decoding and MD5, on one thread; reading a data file while the previous
one is parsed overlaps only the network. Listing the same keys costs one ListObjectsV2 request per 1,000 keys.
${SECTION_END}
`;
}

/** Puts the section into the page: replaces the previous one, else appends it. */
export function insertInventorySection(markdown, section) {
  const start = markdown.indexOf(SECTION_START);
  const end = markdown.indexOf(SECTION_END);
  if (start !== -1 && end > start)
    return markdown.slice(0, start) + section.trimEnd() + markdown.slice(end + SECTION_END.length);
  return `${markdown.trimEnd()}\n\n${section}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { values } = parseArgs({
    options: {
      child: { type: 'string' },
      dir: { type: 'string' },
      keys: { type: 'string', default: '10000000' },
      'handler-keys': { type: 'string', default: '1000000' },
      files: { type: 'string', default: '10' },
      quick: { type: 'boolean', default: false },
      json: { type: 'string' },
      write: { type: 'boolean', default: false },
    },
  });
  if (values.child === 'source') process.stdout.write(`${JSON.stringify(await childSource(values.dir))}\n`);
  else if (values.child === 'handler') process.stdout.write(`${JSON.stringify(await childHandler(values.dir))}\n`);
  else if (values.child === 'simulator') await childSimulator(values.dir);
  else {
    const log = (line) => process.stdout.write(`${line}\n`);
    const results = await benchInventory({
      keys: values.quick ? 200_000 : Number(values.keys),
      handlerKeys: values.quick ? 50_000 : Number(values['handler-keys']),
      files: Number(values.files),
      repeats: values.quick ? 1 : 2,
      log,
    });
    if (values.json) writeFileSync(values.json, `${JSON.stringify(results, null, 2)}\n`);
    if (values.write) {
      const page = join(root, 'docs/performance.md');
      writeFileSync(page, insertInventorySection(readFileSync(page, 'utf8'), renderInventorySection(results)));
      log('wrote the inventory section of docs/performance.md');
    }
  }
}
