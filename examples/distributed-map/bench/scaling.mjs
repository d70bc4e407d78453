#!/usr/bin/env node
// The measurements behind docs/scaling.md: one invocation, the continuation loop, and the Distributed Map handlers,
// on a moto_server of its own (loopback only). Build the packages first (`pnpm -r --filter ./packages/** run build`).
//
//   node bench/scaling.mjs [--keys 6000] [--json out.json]
//
// moto is an emulator: it stores about 100-180 objects/s and its ListObjectsV2 cost grows with the bucket's size, so
// every number that involves listing says more about moto than about S3. The CPU-only rows do not touch it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { arrayKeySource, fastPresigner, memoryManifestWriter, presignPipeline } from '@presign-pipeline/core';
import { createBatchHandler, createManifestIndexHandler, createPresignHandler } from '@presign-pipeline/lambda';
import { createBucket, seedObjects, startMotoServer } from '@presign-pipeline/minio-testing';

const { values } = parseArgs({ options: { keys: { type: 'string', default: '6000' }, json: { type: 'string' } } });
const TOTAL = Number(values.keys);
if (!Number.isInteger(TOTAL) || TOTAL < 1000) throw new Error('--keys must be an integer of at least 1000');

const quiet = () => {};
const context = (remainingMs, id = `bench-${Math.random().toString(16).slice(2)}`) => ({
  awsRequestId: id,
  getRemainingTimeInMillis: () => remainingMs,
});
const ms = (start) => Number((performance.now() - start).toFixed(1));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p95 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))];

const results = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  cpu: cpus()[0]?.model,
  keys: TOTAL,
};

// ---- CPU only: the presign rate one invocation can sustain when listing is free --------------------------------
{
  const client = new S3Client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'x'.repeat(700) },
  });
  const keys = Array.from({ length: 200_000 }, (_, i) => `2026/04/report-${String(i).padStart(7, '0')}.pdf`);
  const presigner = fastPresigner({ client });
  await presignPipeline({
    source: arrayKeySource(keys.slice(0, 5000), { bucket: 'b' }),
    presigner,
    manifest: memoryManifestWriter(),
  });
  const runs = [];
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    await presignPipeline({
      source: arrayKeySource(keys, { bucket: 'b' }),
      presigner,
      manifest: memoryManifestWriter(),
    });
    runs.push(keys.length / ((performance.now() - start) / 1000));
  }
  results.cpuOnlyKeysPerSecond = Math.round(median(runs));
  client.destroy();
  console.log(
    `presign + JSONL in memory, fastPresigner, 1 process: ${results.cpuOnlyKeysPerSecond} keys/s (median of 3 × 200,000)`,
  );
}

// ---- moto -------------------------------------------------------------------------------------------------------
const moto = await startMotoServer();
const client = new S3Client({
  endpoint: moto.endpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});
let listCalls = 0;
let listMs = 0;
client.middlewareStack.add(
  (next, ctx) => async (args) => {
    if (ctx.commandName !== 'ListObjectsV2Command') return next(args);
    const start = performance.now();
    try {
      return await next(args);
    } finally {
      listCalls++;
      listMs += performance.now() - start;
    }
  },
  { step: 'initialize', name: 'timeLists' },
);

try {
  const bucket = 'scaling-bench';
  const prefix = 'reports/';
  await createBucket(client, bucket);
  const keys = Array.from(
    { length: TOTAL },
    (_, i) => `${prefix}${String(i).padStart(6, '0')}.${i % 2 === 0 ? 'pdf' : 'txt'}`,
  );
  let start = performance.now();
  await seedObjects(
    client,
    bucket,
    keys.map((key) => ({ key, body: 'x' })),
    { concurrency: 48 },
  );
  results.motoSeedObjectsPerSecond = Math.round(TOTAL / ((performance.now() - start) / 1000));
  console.log(`seeded ${TOTAL} objects at ${results.motoSeedObjectsPerSecond} objects/s`);
  const pdfs = TOTAL / 2;

  // One invocation: the whole prefix in one run.
  const handler = createPresignHandler({ s3Client: client, presigner: 'fast', write: quiet, env: {} });
  const single = [];
  for (let i = 0; i < 3; i++) {
    listCalls = 0;
    listMs = 0;
    start = performance.now();
    const body = JSON.parse((await handler({ bucket, prefix }, context(900_000))).body);
    if (!body.complete || body.count !== pdfs)
      throw new Error(`unexpected run: ${JSON.stringify({ count: body.count, complete: body.complete })}`);
    single.push({ totalMs: ms(start), listMs: Number(listMs.toFixed(1)), pages: listCalls });
  }
  const best = single.sort((a, b) => a.totalMs - b.totalMs)[0];
  results.oneInvocation = {
    ...best,
    listedKeysPerSecond: Math.round(TOTAL / (best.totalMs / 1000)),
    presignedKeysPerSecond: Math.round(pdfs / (best.totalMs / 1000)),
    listShare: Number((best.listMs / best.totalMs).toFixed(3)),
  };
  console.log(
    `one invocation, ${TOTAL} listed / ${pdfs} presigned: ${best.totalMs} ms (${best.pages} LIST calls, ${best.listMs} ms of them)`,
  );

  // A run that lists nothing new: the fixed cost of one more invocation in a continuation chain.
  const tail = [];
  for (let i = 0; i < 5; i++) {
    start = performance.now();
    await handler({ bucket, prefix, start_after: keys.at(-1) }, context(900_000));
    tail.push(ms(start));
  }
  results.emptyRunMs = median(tail);

  // The continuation loop: the same prefix in pages of 500, cut into runs of about 0.6 s of listing (1.2 s budgets,
  // the 1 s margin capped at half of each), against one run at the same page size. Three of each, medians: moto's
  // timings wander.
  const chained = createPresignHandler({
    s3Client: client,
    presigner: 'fast',
    write: quiet,
    env: {},
    deadlineMarginMs: 1000,
  });
  const chains = [];
  const singles = [];
  for (let round = 0; round < 3; round++) {
    start = performance.now();
    let startAfter;
    let runs = 0;
    let covered = 0;
    for (;;) {
      const body = JSON.parse(
        (
          await chained(
            { bucket, prefix, page_size: 500, ...(startAfter ? { start_after: startAfter } : {}) },
            context(1200),
          )
        ).body,
      );
      runs++;
      covered += body.count;
      if (body.complete) break;
      startAfter = body.next_start_after;
    }
    if (covered !== pdfs) throw new Error(`the chain covered ${covered} of ${pdfs}`);
    chains.push({ runs, ms: ms(start) });
    start = performance.now();
    await handler({ bucket, prefix, page_size: 500 }, context(900_000));
    singles.push(ms(start));
  }
  const chainMs = median(chains.map((c) => c.ms));
  const runs = median(chains.map((c) => c.runs));
  const singleAt500 = median(singles);
  results.continuation = {
    runs,
    chainMs,
    singleRunSamePageSizeMs: singleAt500,
    overheadPerRunMs: Number(((chainMs - singleAt500) / (runs - 1)).toFixed(1)),
  };
  console.log(
    `continuation: ${runs} runs in ${chainMs} ms vs ${singleAt500} ms in one run → ${results.continuation.overheadPerRunMs} ms per extra run; an empty run ${results.emptyRunMs} ms`,
  );

  // Distributed Map: batches of 1000 listed items, as the ItemReader + ItemBatcher would hand them over.
  const listed = keys.map((Key, i) => ({
    Key,
    Etag: '"x"',
    LastModified: 1775001600 + i,
    Size: 1,
    StorageClass: 'STANDARD',
  }));
  const batchHandler = createBatchHandler({ s3Client: client, presigner: 'fast', write: quiet, env: {} });
  const indexHandler = createManifestIndexHandler({ s3Client: client, presigner: 'fast', write: quiet, env: {} });
  const perBatch = [];
  start = performance.now();
  for (let i = 0; i < listed.length; i += 1000) {
    const t = performance.now();
    await batchHandler(
      { Items: listed.slice(i, i + 1000), BatchInput: { bucket, run: 'bench-run', expiry_seconds: 3600 } },
      context(60_000),
    );
    perBatch.push(ms(t));
  }
  const t = performance.now();
  const index = await indexHandler({ bucket, run: 'bench-run', expiry_seconds: 3600 }, context(300_000));
  results.distributedMap = {
    batches: perBatch.length,
    batchMedianMs: median(perBatch),
    batchP95Ms: p95(perBatch),
    indexMs: ms(t),
    indexParts: index.parts,
    sequentialTotalMs: ms(start),
  };
  console.log(
    `batch handler: ${perBatch.length} batches of 1000 items (500 kept), median ${results.distributedMap.batchMedianMs} ms, p95 ${results.distributedMap.batchP95Ms} ms; index of ${index.parts} parts ${results.distributedMap.indexMs} ms`,
  );
} finally {
  client.destroy();
  await moto.stop();
}

console.log(JSON.stringify(results, null, 2));
if (values.json) writeFileSync(values.json, `${JSON.stringify(results, null, 2)}\n`);
