#!/usr/bin/env node
// One pipeline run in its own process, so its peak RSS is its own: N generated keys from arrayKeySource (lazy, never
// materialised) through a presigner into fileManifestWriter (or, with --manifest s3, s3ManifestWriter on the endpoint
// named by S3_ENDPOINT_URL). Prints one JSON line with the result.
//   node scripts/bench/pipeline-run.mjs --keys 1000000 [--presigner fast|sdk|remote|constant] [--latency-ms 1] [--concurrency 4]
//        [--manifest file|s3] [--no-token]   (--no-token: long-term credentials, so no X-Amz-Security-Token)
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { sessionCredentials, coreRequire, core, endpointClient } from './load.mjs';

const { values } = parseArgs({
  options: {
    keys: { type: 'string', default: '100000' },
    presigner: { type: 'string', default: 'fast' },
    'latency-ms': { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '4' },
    'queue-max': { type: 'string' },
    manifest: { type: 'string', default: 'file' },
    'no-token': { type: 'boolean', default: false },
  },
});
const n = Number(values.keys);
const concurrency = Number(values.concurrency);
const latencyMs = Number(values['latency-ms']);

const { S3Client } = coreRequire('@aws-sdk/client-s3');
const { presignPipeline, arrayKeySource, fileManifestWriter, s3ManifestWriter, fastPresigner, sdkPresigner } = core();

/** The same keys without a session token (`--no-token`). */
function longTermCredentials() {
  const { sessionToken: _, ...keys } = sessionCredentials();
  return keys;
}

const toS3 = values.manifest === 's3';
if (toS3 && !process.env.S3_ENDPOINT_URL)
  throw new Error('--manifest s3 needs S3_ENDPOINT_URL (and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)');
// On the S3 endpoint: its own credentials (no session token). Otherwise: Lambda-like temporary credentials, whose
// session token makes every URL about 1.7 KB long.
const client = toS3
  ? endpointClient({
      endpoint: process.env.S3_ENDPOINT_URL,
      region: process.env.AWS_REGION ?? 'us-east-1',
      credentials: {
        accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
        secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
      },
    })
  : new S3Client({
      region: 'eu-west-1',
      credentials: values['no-token'] ? longTermCredentials() : sessionCredentials(),
    });
const bucket = process.env.BENCH_BUCKET ?? 'bench-reports';

/** A stand-in for a remote signer (a KMS- or service-backed presigner): local work plus `latencyMs` of waiting. */
function remotePresigner(inner, ms) {
  return {
    async presign(object, options) {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return inner.presign(object, options);
    },
  };
}

function makePresigner(kind) {
  if (kind === 'fast') return fastPresigner({ client });
  if (kind === 'sdk') return sdkPresigner({ client });
  if (kind === 'remote') return remotePresigner(fastPresigner({ client }), latencyMs);
  if (kind === 'constant') {
    // The pipeline's own cost: a presigner that returns one fixed URL of the real length, without signing.
    const url = `https://bench-reports.s3.eu-west-1.amazonaws.com/k?${'X'.repeat(1600)}`;
    return { presignSync: () => url, presign: async () => url };
  }
  throw new Error(`unknown presigner ${kind}`);
}

function* keys(count) {
  for (let i = 0; i < count; i += 1) yield `reports/2026/04/${i % 1000}/document-${i}.pdf`;
}

const dir = mkdtempSync(join(tmpdir(), 'presign-bench-'));
const path = join(dir, 'manifest.jsonl');
try {
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const result = await presignPipeline({
    source: arrayKeySource(keys(n), { bucket }),
    presigner: makePresigner(values.presigner),
    manifest: toS3 ? s3ManifestWriter({ client, bucket, keyPrefix: 'bench-manifests/' }) : fileManifestWriter(path),
    concurrency,
    ...(values['queue-max'] === undefined ? {} : { queueMax: Number(values['queue-max']) }),
    expiresIn: 3600,
  });
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  if (result.count !== n || result.errors !== 0)
    throw new Error(`expected ${n} URLs, got ${result.count} (${result.errors} errors)`);
  process.stdout.write(
    `${JSON.stringify({
      keys: n,
      presigner: values.presigner,
      concurrency,
      latencyMs: values.presigner === 'remote' ? latencyMs : 0,
      ms,
      keysPerSec: n / (ms / 1000),
      cpuMs: (cpu.user + cpu.system) / 1000,
      peakRssMB: process.resourceUsage().maxRSS / 1024,
      manifest: values.manifest,
      sessionToken: !toS3 && !values['no-token'],
      manifestBytes: result.manifest.bytes,
    })}\n`,
  );
  if (!toS3 && statSync(path).size !== result.manifest.bytes) throw new Error('manifest size mismatch');
} finally {
  rmSync(dir, { recursive: true, force: true });
  client.destroy();
}
