#!/usr/bin/env node
// `npm run tester`: start a local S3 endpoint, seed it as the demo does, and serve the tester page with the
// baseline handler (examples/baseline) beside the documented one. Stops everything it started on Ctrl+C.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pnpmCommand } from './ensure-install.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { startS3Endpoint } = await import('@presign-pipeline/minio-testing');

const root = fileURLToPath(new URL('..', import.meta.url));
const bucket = process.env.DEMO_BUCKET ?? 'presign-pipeline-demo';
const prefix = '2026/04/';
const samples = Number(process.env.DEMO_OBJECTS ?? 250);

// The baseline example is TypeScript: build it to dist/ so the tester can load it.
const [pnpm, ...pnpmArgs] = pnpmCommand();
const built = spawnSync(pnpm, [...pnpmArgs, '--filter', '@presign-pipeline-examples/baseline', 'run', 'build'], {
  cwd: root,
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (built.status !== 0) process.exit(built.status ?? 1);

const s3 = await startS3Endpoint({ log: (line) => process.stderr.write(`${line}\n`) });
let child;
const stop = async (code) => {
  child?.kill('SIGTERM');
  await s3.stop();
  process.exit(code);
};
process.once('SIGINT', () => void stop(0));
process.once('SIGTERM', () => void stop(0));
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
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  await stop(1);
}

const args = process.argv.slice(2);
const sides =
  args.includes('--handler') || args.includes('--compare')
    ? []
    : ['--handler', 'examples/baseline/dist/handler.js', '--compare', 'documented'];
child = spawn(process.execPath, [`${root}packages/lambda/dist/cli.js`, 'ui', ...sides, ...args], {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    S3_ENDPOINT_URL: s3.endpoint,
    AWS_REGION: s3.region,
    AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    BUCKET_NAME: bucket,
    PREFIX: prefix,
  },
});
child.on('exit', (code) => void stop(code ?? 0));
