#!/usr/bin/env node
// The README's main job on a local default: start an S3 endpoint, seed sample
// PDFs, run the documented handler through the local runner, print the result
// and where the manifest is, and stop everything it started. With --keep, the endpoint stays up after the run (so
// the manifest URL it printed works) until Ctrl-C.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { demoTarget, endpointEnv, seedDemoObjects } from './lib/demo-objects.mjs';

// The AWS SDK prints a Node-version notice once per process on Node 20; set before the SDK loads.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { startS3Endpoint } = await import('@presign-pipeline/minio-testing');

const root = fileURLToPath(new URL('..', import.meta.url));
const target = demoTarget();
const { bucket, prefix } = target;
const keep = process.argv.includes('--keep');
const runnerArgs = process.argv.slice(2).filter((arg) => arg !== '--keep');

const s3 = await startS3Endpoint({ log: (line) => process.stderr.write(`${line}\n`) });
let exitCode = 1;
try {
  await seedDemoObjects(s3, target);

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
          ...endpointEnv(s3),
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
