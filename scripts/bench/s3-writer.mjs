// (h) The S3 manifest writer alone: what s3ManifestWriter (its pool of part buffers, default partSize 8 MiB and
// queueSize 4) holds while N synthetic 1.7 KB lines stream through it to the S3 simulator. Each size runs in its own
// child (scripts/bench/s3-writer-run.mjs), once with the writer and once with a writer that keeps nothing, so the
// difference is the writer's. The simulator runs here, in the parent, counting the manifest's bytes and lines.
//   node scripts/bench/s3-writer.mjs [--sizes 100000,1000000] [--write]   (--render: from the saved JSON)
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { minioTesting } from './load.mjs';
import { runJsonChild } from '../lib/json-child.mjs';
import { insertSection } from '../lib/performance-page.mjs';

function runChild(args, env = {}) {
  return runJsonChild(fileURLToPath(new URL('./s3-writer-run.mjs', import.meta.url)), args, { env });
}

/** Runs each size with the S3 writer and with the null writer; checks the stored manifest line for line. */
export async function benchS3Writer({ sizes = [100_000, 1_000_000], libStorage, log = () => {} } = {}) {
  const { startS3Simulator } = await minioTesting();
  const bucket = 'writer';
  const sim = await startS3Simulator({
    buckets: { [bucket]: { layout: 'flat', count: 1 } },
    latencyMs: 0,
    jitterMs: 0,
    store: 'count',
  });
  const runs = [];
  try {
    for (const n of sizes) {
      sim.resetCounters();
      const run = await runChild(['--lines', String(n), '--bucket', bucket], { S3_ENDPOINT_URL: sim.endpoint });
      const stored = sim.objects(bucket).get(run.manifestKey);
      if (!stored || stored.lines !== n || stored.size !== run.manifestBytes) {
        throw new Error(
          `manifest of ${n} lines: expected ${run.manifestBytes} bytes, got ${JSON.stringify(stored && { lines: stored.lines, size: stored.size })}`,
        );
      }
      if (sim.uploads().length !== 0) throw new Error(`${sim.uploads().length} multipart uploads left open`);
      sim.objects(bucket).clear?.();
      const bare = await runChild(['--lines', String(n), '--bucket', bucket, '--manifest', 'null'], {});
      runs.push({ ...run, parts: stored.parts, withoutWriter: bare });
      log(
        `  ${String(n).padStart(9)} lines (${(run.manifestBytes / 2 ** 20).toFixed(0)} MiB, ${stored.parts} parts): ` +
          `peak RSS ${run.peakRssMB.toFixed(1)} MB (${bare.peakRssMB.toFixed(1)} MB without the writer), ` +
          `peak ArrayBuffers ${run.peakArrayBuffersMB.toFixed(1)} MB, at the end ${run.endArrayBuffersMB.toFixed(1)} MB; ` +
          `${Math.round(run.mibPerSec)} MiB/s`,
      );
      if (n === sizes.at(-1)) {
        // The smallest settings S3 allows: what the writer's share comes down to.
        const small = await runChild(
          ['--lines', String(n), '--bucket', bucket, '--part-size-mib', '5', '--queue-size', '1'],
          {
            S3_ENDPOINT_URL: sim.endpoint,
          },
        );
        sim.objects(bucket).clear?.();
        runs.at(-1).smallest = small;
        log(
          `  ${String(n).padStart(9)} lines, partSize 5 MiB, queueSize 1: peak RSS ${small.peakRssMB.toFixed(1)} MB, peak ArrayBuffers ${small.peakArrayBuffersMB.toFixed(1)} MB, ${Math.round(small.mibPerSec)} MiB/s`,
        );
      }
    }
  } finally {
    await sim.close();
  }
  return { partSizeMiB: 8, queueSize: 4, runs, ...(libStorage ? { libStorage } : {}) };
}

export const SECTION_START = '<!-- s3-writer:start -->';
export const SECTION_END = '<!-- s3-writer:end -->';

/** The markdown section of docs/performance.md for these numbers. */
export function renderS3WriterSection(bench) {
  const md = [SECTION_START, '## The S3 manifest writer alone', ''];
  md.push(
    'One process per size writes N synthetic manifest lines of about 1.7 KB (a URL with a session token) through ' +
      `\`s3ManifestWriter\` (defaults: partSize ${bench.partSizeMiB} MiB, queueSize ${bench.queueSize}) to ` +
      "`startS3Simulator({ store: 'count' })` running in another process with no added latency, in batches of 1,000 " +
      'entries as the pipeline hands them. The same process with a writer that keeps nothing is the baseline. Memory ' +
      "is sampled with `process.memoryUsage()` every 20 ms, with no forced collection; peak RSS is the child's `maxRSS`. " +
      'Each stored manifest was checked to hold one line per entry, and no multipart upload was left open.',
  );
  md.push('');
  md.push(
    "| Lines | Manifest | Parts | MiB/s | Peak RSS | Peak RSS, no writer | Writer's share | Peak ArrayBuffers | ArrayBuffers at the end |",
  );
  md.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const run of bench.runs) {
    md.push(
      `| ${run.lines.toLocaleString('en-US')} | ${(run.manifestBytes / 2 ** 20).toFixed(0)} MiB | ${run.parts} | ${run.mibPerSec.toFixed(0)} | ` +
        `${run.peakRssMB.toFixed(1)} MB | ${run.withoutWriter.peakRssMB.toFixed(1)} MB | ${(run.peakRssMB - run.withoutWriter.peakRssMB).toFixed(1)} MB | ` +
        `${run.peakArrayBuffersMB.toFixed(1)} MB | ${run.endArrayBuffersMB.toFixed(1)} MB |`,
    );
  }
  md.push('');
  for (const run of bench.runs.filter((r) => r.smallest)) {
    const small = run.smallest;
    md.push(
      `At ${run.lines.toLocaleString('en-US')} lines with the smallest settings (partSize 5 MiB, queueSize 1): peak RSS ` +
        `${small.peakRssMB.toFixed(1)} MB (writer's share ${(small.peakRssMB - run.withoutWriter.peakRssMB).toFixed(1)} MB), ` +
        `peak ArrayBuffers ${small.peakArrayBuffersMB.toFixed(1)} MB, ${small.mibPerSec.toFixed(0)} MiB/s.`,
    );
    md.push('');
  }
  md.push(explain(bench));
  md.push('');
  md.push('```sh');
  md.push('node scripts/bench/s3-writer.mjs --write   # this section only');
  md.push('```');
  md.push('');
  md.push(SECTION_END);
  md.push('');
  return md.join('\n');
}

/** Why the writer holds what it holds, with this run's numbers. */
function explain(bench) {
  const first = bench.runs[0];
  const last = bench.runs.at(-1);
  const share = (run) => run.peakRssMB - run.withoutWriter.peakRssMB;
  const growth =
    first && last && first !== last
      ? ` From ${first.lines.toLocaleString('en-US')} to ${last.lines.toLocaleString('en-US')} lines (${(last.lines / first.lines).toFixed(0)} times ` +
        `the manifest) the peak RSS grows by ${((last.peakRssMB / first.peakRssMB - 1) * 100).toFixed(1)} %, the baseline without ` +
        `a writer by ${((last.withoutWriter.peakRssMB / first.withoutWriter.peakRssMB - 1) * 100).toFixed(1)} %, the writer's share ` +
        `from ${share(first).toFixed(0)} to ${share(last).toFixed(0)} MB.`
      : '';
  const before = bench.libStorage
    ? " With `@aws-sdk/lib-storage`'s `Upload` (the writer before its part pool), the same measurement gave peak RSS " +
      `${bench.libStorage.map((run) => `${run.peakRssMB.toFixed(1)} MB (writer's share ${share(run).toFixed(0)} MB, peak ArrayBuffers ${run.peakArrayBuffersMB.toFixed(0)} MB) at ${run.lines.toLocaleString('en-US')} lines`).join(' and ')}: ` +
      "its chunker gathers a streamed body's buffers and copies them with `Buffer.concat` into a fresh part-sized buffer " +
      'per part (only a body given whole, the entire manifest in memory, is cut without a copy; handing it part-sized ' +
      'buffers makes it concatenate two of them per part), and those copies are external memory that V8 frees only at ' +
      'a full collection, after tens of MB have piled up.'
    : '';
  return (
    `The writer fills a fixed pool of queueSize + 1 part buffers (${bench.partSizeMiB * (bench.queueSize + 1)} MiB by default), each reused once its ` +
    'UploadPart settles, so no part-sized copy is left for the garbage collector; what remains above the pool is the ' +
    `1 MiB chunks lines are encoded into before they are copied into a part.${before}${growth}`
  );
}

/** The lib-storage writer's runs kept in the saved JSON (measured before the part pool replaced it). */
export function savedLibStorage(root) {
  try {
    return JSON.parse(readFileSync(`${root}docs/images/s3-writer.json`, 'utf8')).libStorage;
  } catch {
    return undefined;
  }
}

/** Puts `section` into a performance page: in place of an earlier one, else before "## Reproduce", else at the end. */
export function insertS3WriterSection(markdown, section) {
  return insertSection(markdown, section, { start: SECTION_START, end: SECTION_END });
}

/** Writes the section into docs/performance.md and its numbers into docs/images/s3-writer.json. */
export function writeS3WriterSection(root, bench) {
  const page = `${root}docs/performance.md`;
  writeFileSync(`${root}docs/images/s3-writer.json`, `${JSON.stringify(bench, null, 2)}\n`);
  writeFileSync(page, insertS3WriterSection(readFileSync(page, 'utf8'), renderS3WriterSection(bench)));
}

// ---- run alone ----
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '100000,1000000' },
      write: { type: 'boolean', default: false },
      render: { type: 'boolean', default: false },
    },
  });
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const log = (line) => process.stdout.write(`${line}\n`);
  const bench = values.render
    ? JSON.parse(readFileSync(`${root}docs/images/s3-writer.json`, 'utf8'))
    : await benchS3Writer({ sizes: values.sizes.split(',').map(Number), libStorage: savedLibStorage(root), log });
  if (values.write || values.render) {
    writeS3WriterSection(root, bench);
    log('wrote the S3 writer section of docs/performance.md and docs/images/s3-writer.json');
  }
}
