// (c) End to end against a real S3 API over HTTP (startS3Endpoint: S3_ENDPOINT_URL, MinIO, or moto_server here):
// listing, presigning and uploading timed apart, then the whole pipeline.
//
// moto stores about 180 objects/s, so seeding 100,000 objects would take ten minutes. Instead `objects` keys are
// seeded once and the source lists that prefix `passes` times over (really listing, page by page, over HTTP), which
// gives objects × passes listed keys. Listing cost per page is the same whether the page repeats or not.
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { core, minioTesting, endpointClient } from './load.mjs';
import { runJsonChild } from '../lib/json-child.mjs';

/** A key source that lists `inner` again and again: `passes` full listings of the same prefix. */
function repeatedSource(makeInner, passes) {
  const first = makeInner();
  return {
    bucket: first.bucket,
    async *pages(context) {
      for (let pass = 0; pass < passes; pass += 1) {
        if (context.signal.aborted) return;
        yield* (pass === 0 ? first : makeInner()).pages(context);
      }
    },
  };
}

/** Wraps the three parts of a run to add up the time spent inside each (they overlap, so the sums exceed the wall time). */
function instrument(source, presigner, manifest) {
  const totals = { listWaitMs: 0, presignMs: 0, uploadWaitMs: 0 };
  const now = () => performance.now();
  return {
    totals,
    source: {
      bucket: source.bucket,
      async *pages(context) {
        const iterator = source.pages(context)[Symbol.asyncIterator]();
        try {
          for (;;) {
            const start = now();
            const next = await iterator.next();
            totals.listWaitMs += now() - start;
            if (next.done) return;
            yield next.value;
          }
        } finally {
          await iterator.return?.();
        }
      },
    },
    presigner: {
      presignSync(object, options) {
        const start = now();
        try {
          return presigner.presignSync(object, options);
        } finally {
          totals.presignMs += now() - start;
        }
      },
      async presign(object, options) {
        const start = now();
        try {
          return await presigner.presign(object, options);
        } finally {
          totals.presignMs += now() - start;
        }
      },
      credentialsExpiration: () => presigner.credentialsExpiration(),
    },
    manifest: {
      open: (context) => manifest.open?.(context),
      async write(entries) {
        const start = now();
        try {
          await manifest.write(entries);
        } finally {
          totals.uploadWaitMs += now() - start;
        }
      },
      async close() {
        const start = now();
        try {
          return await manifest.close();
        } finally {
          totals.uploadWaitMs += now() - start;
        }
      },
      abort: (reason) => manifest.abort(reason),
    },
  };
}

async function drain(source) {
  const controller = new AbortController();
  let keys = 0;
  let pages = 0;
  const all = [];
  for await (const page of source.pages({ signal: controller.signal })) {
    pages += 1;
    keys += page.keys.length;
    for (const key of page.keys) all.push(key);
  }
  return { keys, pages, all };
}

/** Runs one pipeline in a child process (its peak RSS is its own) writing to the S3 endpoint. */
export function runChild(args, env = {}) {
  return runJsonChild(fileURLToPath(new URL('./pipeline-run.mjs', import.meta.url)), args, { env });
}

export async function benchEndToEnd({ objects = 5_000, passes = 20, bigKeys = 1_000_000, log = () => {} } = {}) {
  const { startS3Endpoint } = await minioTesting();
  const { presignPipeline, s3ListSource, s3ManifestWriter, fastPresigner } = core();
  const s3 = await startS3Endpoint({ log });
  const client = endpointClient(s3);
  try {
    const bucket = 'presign-bench';
    const prefix = 'bench/';
    await s3.createBucket(bucket);
    const seedStart = performance.now();
    const keys = Array.from(
      { length: objects },
      (_, i) => `${prefix}${String(i % 50).padStart(2, '0')}/document-${i}.pdf`,
    );
    await s3.seed(bucket, keys);
    const seedMs = performance.now() - seedStart;
    log(`  seeded ${objects} objects in ${(seedMs / 1000).toFixed(1)} s (${s3.kind})`);

    const source = () => repeatedSource(() => s3ListSource({ client, bucket, prefix, pageSize: 1000 }), passes);

    // 1. Listing alone.
    let start = performance.now();
    const listed = await drain(source());
    const listMs = performance.now() - start;
    log(`  listing:    ${listed.keys} keys, ${listed.pages} pages in ${(listMs / 1000).toFixed(2)} s`);

    // 2. Presigning alone (the same keys, in memory).
    const presigner = fastPresigner({ client });
    await presigner.presign({ bucket, key: listed.all[0] }, { expiresIn: 900 });
    const entries = [];
    start = performance.now();
    for (const key of listed.all) {
      const url =
        presigner.presignSync({ bucket, key }, { expiresIn: 900 }) ??
        (await presigner.presign({ bucket, key }, { expiresIn: 900 }));
      entries.push({ key, url });
    }
    const presignMs = performance.now() - start;
    log(`  presigning: ${entries.length} URLs in ${(presignMs / 1000).toFixed(2)} s`);

    // 3. Uploading alone: the manifest through s3ManifestWriter, in the pipeline's batch size.
    const writer = s3ManifestWriter({ client, bucket, keyPrefix: 'bench-manifests/' });
    const controller = new AbortController();
    start = performance.now();
    await writer.open?.({ requestId: 'bench-upload', expiresIn: 900, signal: controller.signal });
    for (let i = 0; i < entries.length; i += 1000) await writer.write(entries.slice(i, i + 1000));
    const uploaded = await writer.close();
    const uploadMs = performance.now() - start;
    log(`  uploading:  ${uploaded.bytes} bytes in ${(uploadMs / 1000).toFixed(2)} s`);
    entries.length = 0;

    // 4. The whole pipeline: listing, presigning and uploading overlap.
    // The parts are wrapped to see, inside the run, how long the producer waited for pages, how long presigning
    // took, and how long the workers waited on the manifest writer.
    const parts = instrument(
      source(),
      fastPresigner({ client }),
      s3ManifestWriter({ client, bucket, keyPrefix: 'bench-manifests/' }),
    );
    start = performance.now();
    const result = await presignPipeline({
      source: parts.source,
      presigner: parts.presigner,
      manifest: parts.manifest,
      expiresIn: 900,
    });
    const pipelineMs = performance.now() - start;
    if (result.count !== objects * passes) throw new Error(`expected ${objects * passes} URLs, got ${result.count}`);
    log(
      `  pipeline:   ${result.count} keys in ${(pipelineMs / 1000).toFixed(2)} s (inside it: waiting for pages ` +
        `${(parts.totals.listWaitMs / 1000).toFixed(2)} s, presigning ${(parts.totals.presignMs / 1000).toFixed(2)} s, ` +
        `waiting on the upload ${(parts.totals.uploadWaitMs / 1000).toFixed(2)} s)`,
    );

    // 5. 1M generated keys to the S3 endpoint (no listing), in a child process: the S3 writer's pace and memory.
    // At a tenth and at three tenths of the size too, to see whether memory grows with N.
    const big = [];
    for (const n of bigKeys > 0 ? [Math.round(bigKeys / 10), Math.round((3 * bigKeys) / 10), bigKeys] : []) {
      const run = await runChild(['--keys', String(n), '--manifest', 's3'], {
        S3_ENDPOINT_URL: s3.endpoint,
        AWS_REGION: s3.region,
        AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
        BENCH_BUCKET: bucket,
      });
      big.push(run);
      log(`  ${n} keys → S3 manifest: ${Math.round(run.keysPerSec)} keys/s, peak RSS ${run.peakRssMB.toFixed(0)} MB`);
    }

    return {
      endpoint: s3.kind,
      objects,
      passes,
      seedMs,
      list: { keys: listed.keys, pages: listed.pages, ms: listMs, msPerPage: listMs / listed.pages },
      presign: { urls: listed.keys, ms: presignMs },
      upload: { bytes: uploaded.bytes, ms: uploadMs },
      pipeline: {
        keys: result.count,
        pages: result.pages,
        ms: pipelineMs,
        bytes: result.manifest.bytes,
        inside: parts.totals,
      },
      big,
    };
  } finally {
    client.destroy();
    await s3.stop();
  }
}
