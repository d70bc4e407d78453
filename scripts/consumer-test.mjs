#!/usr/bin/env node
// The packages as a user gets them: packs every package with pnpm (which turns workspace ranges into versions),
// installs the tarballs with npm into a fresh project outside the repository, then, in that project, imports every
// entry point as ESM and CJS, type-checks a consumer under node16 and bundler resolution with skipLibCheck: false,
// bundles a handler with esbuild (ESM and CJS, one copy of client-s3) and runs the bundles against an S3 endpoint.
// Also installs lambda with pnpm and hoist=false. `--runtimes 22,24` repeats the imports and the bundle runs on those
// Node.js versions (scripts/node-runtime.mjs); `--skip-pnpm` leaves out the pnpm install, `--keep` the temp directory.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pnpmCommand } from './ensure-install.mjs';
import { nodeRuntime } from './node-runtime.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const fixtures = join(root, 'scripts', 'consumer');
const PACKAGES = ['core', 'emf', 'lambda', 'minio-testing'];
const args = process.argv.slice(2);
const node = process.execPath;
const runtimes = args.includes('--runtimes') ? args[args.indexOf('--runtimes') + 1].split(',') : [];
const skipPnpm = args.includes('--skip-pnpm');
const keep = args.includes('--keep');
const started = Date.now();

function run(cmd, cmdArgs, cwd, env = {}) {
  const result = spawnSync(cmd, cmdArgs, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
  });
  if (result.status !== 0) {
    process.stderr.write(`${result.stdout ?? ''}${result.stderr ?? ''}`);
    throw new Error(`${[cmd, ...cmdArgs].join(' ')} failed in ${cwd} (exit ${result.status ?? result.signal})`);
  }
  return result.stdout;
}

const step = (label) => process.stdout.write(`\n[consumer ${((Date.now() - started) / 1000).toFixed(0)} s] ${label}\n`);
const version = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
const repoDevVersion = (pkg, name) =>
  JSON.parse(readFileSync(join(root, pkg, 'package.json'), 'utf8')).devDependencies[name];

/** Packs every package into `dir` with the pinned pnpm; returns the tarball paths by package name. */
export function packAll(dir) {
  const [pnpm, ...pnpmArgs] = pnpmCommand();
  const tarballs = {};
  for (const name of PACKAGES) {
    const pkgDir = join(root, 'packages', name);
    run(pnpm, [...pnpmArgs, 'pack', '--pack-destination', dir], pkgDir);
    tarballs[`@presign-pipeline/${name}`] = join(dir, `presign-pipeline-${name}-${version(pkgDir)}.tgz`);
  }
  const packed = readdirSync(dir).filter((file) => file.endsWith('.tgz'));
  if (packed.length !== PACKAGES.length) throw new Error(`expected ${PACKAGES.length} tarballs, found ${packed}`);
  return tarballs;
}

function npmConsumer(dir, tarballs) {
  const fileDeps = Object.fromEntries(Object.entries(tarballs).map(([name, path]) => [name, `file:${path}`]));
  const manifest = {
    name: 'presign-consumer',
    private: true,
    type: 'module',
    dependencies: {
      ...fileDeps,
      // The consumer's own AWS SDK, the newest release: the packages' caret ranges and peer range accept it.
      '@aws-sdk/client-s3': 'latest',
      '@aws-sdk/s3-request-presigner': 'latest',
      '@aws-lambda-powertools/idempotency': repoDevVersion('packages/lambda', '@aws-lambda-powertools/idempotency'),
      '@aws-sdk/client-dynamodb': 'latest',
      '@aws-sdk/util-dynamodb': 'latest',
    },
    devDependencies: {
      '@types/node': repoDevVersion('.', '@types/node'),
      esbuild: repoDevVersion('.', 'esbuild'),
      typescript: repoDevVersion('.', 'typescript'),
      vitest: repoDevVersion('.', 'vitest'),
    },
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  cpSync(fixtures, dir, { recursive: true });
  // --ignore-scripts: the install scripts in the tree are testcontainers' (ssh2, cpu-features, protobufjs: native code
  // for Docker transports, skipped by the repository's own install too) and esbuild's check of its binary, which comes
  // as an optional dependency anyway. They took most of a minute on a 2-core machine.
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', '--ignore-scripts'], dir);
}

function pnpmStrictConsumer(dir, tarballs) {
  const fileDeps = Object.fromEntries(Object.entries(tarballs).map(([name, path]) => [name, `file:${path}`]));
  const { '@presign-pipeline/minio-testing': _, ...needed } = fileDeps;
  const manifest = {
    name: 'presign-strict-consumer',
    private: true,
    type: 'module',
    dependencies: {
      ...needed,
      '@aws-sdk/client-s3': 'latest',
      '@aws-lambda-powertools/idempotency': repoDevVersion('packages/lambda', '@aws-lambda-powertools/idempotency'),
      '@aws-sdk/client-dynamodb': 'latest',
      '@aws-sdk/util-dynamodb': 'latest',
    },
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  // No hoisting at all: a package reaches only what it declares. The overrides point lambda's `^0.1.0` ranges at the
  // tarballs; the packageExtensions block is the one docs/installing.md gives for Powertools idempotency.
  const overrides = Object.entries(needed).map(([name, spec]) => `  "${name}": "${spec}"`);
  writeFileSync(
    join(dir, 'pnpm-workspace.yaml'),
    [
      'hoist: false',
      'overrides:',
      ...overrides,
      'packageExtensions:',
      '  "@aws-lambda-powertools/idempotency":',
      '    dependencies:',
      '      "@aws-sdk/util-dynamodb": "^3.996.9"',
      '',
    ].join('\n'),
  );
  const [pnpm, ...pnpmArgs] = pnpmCommand();
  run(pnpm, [...pnpmArgs, 'install', '--prefer-offline', '--config.hoist=false', '--reporter=silent'], dir);
  for (const specifier of ['@presign-pipeline/lambda', '@presign-pipeline/lambda/idempotency']) {
    const check = `const m = await import('${specifier}'); if (typeof m.handler !== 'function') process.exit(1);`;
    run(node, ['--input-type=module', '-e', check], dir);
    run(node, ['-e', `if (typeof require('${specifier}').handler !== 'function') process.exit(1)`], dir);
    console.log(`pnpm hoist=false: ${specifier} loads (ESM and CJS)`);
  }
}

function importEverything(binary, app) {
  process.stdout.write(run(binary, ['imports.mjs'], app) + run(binary, ['imports.cjs'], app));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const scratch = mkdtempSync(join(tmpdir(), 'presign-consumer-'));
  try {
    const tarballDir = join(scratch, 'tarballs');
    mkdirSync(tarballDir);
    step(`node ${run(node, ['--version'], scratch).trim()}; packing ${PACKAGES.join(', ')} with pnpm`);
    const tarballs = packAll(tarballDir);
    const app = join(scratch, 'app');
    mkdirSync(app);
    step('npm install of the tarballs into a fresh project');
    npmConsumer(app, tarballs);
    const own = version(join(app, 'node_modules', '@aws-sdk', 'client-s3'));
    console.log(
      `the consumer's @aws-sdk/client-s3: ${own} (the repository tests with ${repoDevVersion('packages/core', '@aws-sdk/client-s3')})`,
    );
    step('every entry point as ESM and as CJS');
    importEverything(node, app);
    for (const config of ['tsconfig.node16.json', 'tsconfig.bundler.json']) {
      step(`tsc -p ${config} (skipLibCheck: false)`);
      run(node, ['node_modules/typescript/bin/tsc', '-p', config], app);
    }
    step('esbuild bundles of the handler');
    process.stdout.write(run(node, ['bundle.mjs'], app));
    step('the bundles against an S3 endpoint');
    process.stdout.write(run(node, ['run.mjs'], app));
    for (const major of runtimes) {
      const other = nodeRuntime(major);
      step(`node ${run(other, ['--version'], app).trim()}: every entry point, then the bundles against S3`);
      importEverything(other, app);
      process.stdout.write(run(other, ['run.mjs'], app));
    }
    if (!skipPnpm) {
      step('pnpm install with hoist=false');
      const strict = join(scratch, 'strict');
      mkdirSync(strict);
      pnpmStrictConsumer(strict, tarballs);
    }
    step('consumer test passed');
  } finally {
    if (keep) console.log(`kept ${scratch}`);
    else rmSync(scratch, { recursive: true, force: true });
  }
}
