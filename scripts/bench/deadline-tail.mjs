#!/usr/bin/env node
// The post-deadline tail: how long a run takes between its deadline and its answer. At the deadline the page request
// in flight is aborted; what remains is presigning the keys already queued (at most queueMax plus one page) and
// completing the manifest (the last part, CompleteMultipartUpload or PutObject, presigning the manifest). This is
// the time DEADLINE_MARGIN_MS must cover.
//
//   node scripts/bench/deadline-tail.mjs [--repeats 5] [--queue-max 2000,10000,100000] [--presigner fast,sdk]
//                                        [--list-concurrency 1,16]
//
// Each run: a source that yields pages of 1000 keys at once until queueMax + one page are handed out, then a page that
// only ends with the abort; with a list concurrency above 1, the source holds that many answered pages when the
// deadline comes and hands them on (`drainsAtDeadline`, as the auto listing at LIST_CONCURRENCY does), and the run
// presigns them too; the manifest's first write is held until the deadline (a lagging upload), so the queue is
// full when the deadline comes: the worst case the queue allows.
// The manifest goes to s3ManifestWriter on a real S3 API (startS3Endpoint: S3_ENDPOINT_URL, MinIO, or moto_server).
// Prints one line per configuration (median and worst of the repeats) and a JSON summary. Not a test: nothing
// passes or fails on speed.
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { core, minioTesting, endpointClient } from './load.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values } = parseArgs({
  options: {
    repeats: { type: 'string', default: '5' },
    'queue-max': { type: 'string', default: '2000,10000,100000' },
    presigner: { type: 'string', default: 'fast,sdk' },
    'list-concurrency': { type: 'string', default: '1' },
  },
});
const repeats = Number(values.repeats);
const queueMaxes = values['queue-max'].split(',').map(Number);
const presigners = values.presigner.split(',');
const listConcurrencies = values['list-concurrency'].split(',').map(Number);
const PAGE = 1000;

const { presignPipeline, s3ManifestWriter, fastPresigner, sdkPresigner } = core();

const pageOf = (bucket, page) => ({
  bucket,
  keys: Array.from(
    { length: PAGE },
    (_, i) => `2026/04/${String(page).padStart(5, '0')}/report-${String(i).padStart(4, '0')}.pdf`,
  ),
});

/**
 * Pages of 1000 keys until `limit` keys were handed out, then a page request that only ends with the abort; with
 * `heldPages` > 1, a source that drains at the deadline: it then hands on the `heldPages` pages it holds and ends.
 */
function heldSource(bucket, limit, heldPages) {
  const drains = heldPages > 1;
  return {
    bucket,
    ...(drains ? { drainsAtDeadline: true } : {}),
    async *pages({ signal, deadline }) {
      let page = 0;
      for (; page * PAGE < limit; page++) yield pageOf(bucket, page);
      const stop = drains ? deadline : signal;
      if (!stop.aborted) await new Promise((resolve) => stop.addEventListener('abort', resolve, { once: true }));
      if (!drains) return;
      for (const end = page + heldPages; page < end; page++) yield pageOf(bucket, page);
    },
  };
}

/**
 * The S3 manifest writer, with its first write held until the deadline (an upload that lags: the workers wait, so
 * the queue fills to queueMax plus one page) and its close timed.
 */
function heldWriter(inner, deadline) {
  let first = true;
  const timing = { closeMs: 0 };
  return {
    timing,
    open: (context) => inner.open?.(context),
    async write(entries) {
      if (first) {
        first = false;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())));
      }
      return inner.write(entries);
    },
    async close() {
      const started = performance.now();
      try {
        return await inner.close();
      } finally {
        timing.closeMs = performance.now() - started;
      }
    },
    abort: (reason) => inner.abort(reason),
  };
}

async function oneRun({ client, bucket, presigner, queueMax, heldPages = 1 }) {
  // Time for the source to fill the queue before the deadline comes (about 1 ms per 1000 keys, with room).
  const deadline = Date.now() + 100 + Math.ceil(queueMax / 1000) * 5;
  const writer = heldWriter(s3ManifestWriter({ client, bucket, keyPrefix: 'tail/', presigner }), deadline);
  const result = await presignPipeline({
    source: heldSource(bucket, queueMax + PAGE, heldPages),
    presigner,
    manifest: writer,
    queueMax,
    deadline,
  });
  const tailMs = Date.now() - deadline;
  if (result.complete) throw new Error('the run was expected to stop at its deadline');
  return { tailMs, closeMs: Math.round(writer.timing.closeMs), count: result.count, bytes: result.manifest.bytes };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const { startS3Endpoint } = await minioTesting();
  const s3 = await startS3Endpoint({ log: () => {} });
  const client = endpointClient(s3);
  const summary = [];
  try {
    const bucket = 'deadline-tail';
    await s3.createBucket(bucket);
    process.stdout.write(`S3 endpoint: ${s3.kind}; ${repeats} runs per configuration; queue full at the deadline\n`);
    for (const name of presigners) {
      const presigner = name === 'sdk' ? sdkPresigner({ client }) : fastPresigner({ client });
      await oneRun({ client, bucket, presigner, queueMax: 10 }); // warm-up: signing keys, sockets, JIT
      for (const queueMax of queueMaxes)
        for (const listConcurrency of listConcurrencies) {
          const runs = [];
          for (let i = 0; i < repeats; i++) {
            runs.push(await oneRun({ client, bucket, presigner, queueMax, heldPages: listConcurrency }));
          }
          const tails = runs.map((r) => r.tailMs);
          const row = {
            presigner: name,
            queueMax,
            listConcurrency,
            keysPresignedAfterDeadline: median(runs.map((r) => r.count)),
            manifestBytes: median(runs.map((r) => r.bytes)),
            tailMsMedian: median(tails),
            tailMsMax: Math.max(...tails),
            closeMsMedian: median(runs.map((r) => r.closeMs)),
          };
          summary.push(row);
          process.stdout.write(
            `${name.padEnd(4)} queueMax ${String(queueMax).padStart(6)}, list concurrency ${String(listConcurrency).padStart(2)}: ${String(row.keysPresignedAfterDeadline).padStart(6)} keys, ` +
              `manifest ${(row.manifestBytes / 1024 / 1024).toFixed(1)} MiB, tail median ${row.tailMsMedian} ms (max ${row.tailMsMax}), ` +
              `of which completing the manifest ${row.closeMsMedian} ms\n`,
          );
        }
    }
  } finally {
    client.destroy();
    await s3.stop();
  }
  process.stdout.write(`${JSON.stringify({ tail: summary })}\n`);
}

await main();
