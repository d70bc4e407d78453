#!/usr/bin/env node
// `npm run tester`: start a local S3 endpoint, seed it as the demo does, and serve the tester page with the
// baseline handler (examples/baseline) beside the documented one. Stops everything it started on Ctrl+C.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pnpmCommand } from './ensure-install.mjs';
import { demoTarget, endpointEnv, seedDemoObjects } from './lib/demo-objects.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { startS3Endpoint } = await import('@presign-pipeline/minio-testing');

const root = fileURLToPath(new URL('..', import.meta.url));
const target = demoTarget();
const { bucket, prefix } = target;

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
  await seedDemoObjects(s3, target);
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
    ...endpointEnv(s3),
    BUCKET_NAME: bucket,
    PREFIX: prefix,
  },
});
child.on('exit', (code) => void stop(code ?? 0));
