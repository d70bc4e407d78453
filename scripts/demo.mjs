#!/usr/bin/env node
// The README's main job on a local default: start an S3 endpoint, seed sample
// PDFs, run the documented handler through the local runner, print the result
// and where the manifest is, and stop everything it started. With --keep, the endpoint stays up after the run (so
// the manifest URL it printed works) until Ctrl-C.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// The AWS SDK prints a Node-version notice once per process on Node 20; set before the SDK loads.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { startS3Endpoint } = await import('@presign-pipeline/minio-testing');

const root = fileURLToPath(new URL('..', import.meta.url));
const bucket = process.env.DEMO_BUCKET ?? 'presign-pipeline-demo';
const prefix = '2026/04/';
const samples = Number(process.env.DEMO_OBJECTS ?? 250);
const keep = process.argv.includes('--keep');
const runnerArgs = process.argv.slice(2).filter((arg) => arg !== '--keep');

const s3 = await startS3Endpoint({ log: (line) => process.stderr.write(`${line}\n`) });
let exitCode = 1;
try {
  await s3.createBucket(bucket);
  const entries = [];
  for (let i = 0; i < samples; i++) {
    const name = `${prefix}report-${String(i).padStart(4, '0')}${i % 10 === 9 ? '.txt' : '.pdf'}`;
    entries.push({ key: name, body: `%PDF-1.4 sample ${i}\n` });
  }
  entries.push({ key: `${prefix}Quarterly Summary (final).PDF`, body: '%PDF-1.4 summary\n' });
  process.stderr.write(`Seeding ${entries.length} objects into s3://${bucket}/${prefix} on the ${s3.kind} endpoint…\n`);
  await s3.seed(bucket, entries);

  const event = JSON.stringify({ bucket, prefix, expiry_seconds: 900 });
  exitCode = await new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [`${root}packages/lambda/dist/cli.js`, '--event-json', event, ...runnerArgs],
      {
        cwd: root,
        stdio: 'inherit',
        env: {
          ...process.env,
          S3_ENDPOINT_URL: s3.endpoint,
          AWS_REGION: s3.region,
          AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
      },
    );
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
  });
  if (keep && exitCode === 0) await untilInterrupted();
} finally {
  await s3.stop();
}
process.exit(exitCode);

/** Keeps the endpoint serving the manifest until Ctrl-C (SIGINT) or SIGTERM. */
function untilInterrupted() {
  process.stderr.write(
    `\nThe S3 endpoint stays up at ${s3.endpoint}: the manifest URL above works until it expires. Press Ctrl-C to stop it.\n`,
  );
  return new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}
