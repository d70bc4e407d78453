#!/usr/bin/env node
// Each example as a user copies it: the folder alone, out of the repository, its @presign-pipeline dependencies
// pointed at the packed tarballs (the packages are not on the registry yet), installed with npm. Then its own
// typecheck and tests, and its build: the esbuild build its template's Metadata asks `sam build` for (see
// examples/sam-esbuild-build.mjs; SAM CLI cannot be installed here), or its `build` script when it has no template.
// `node scripts/examples-test.mjs [name…]` tests the named examples only; `--keep` keeps the temp directory.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packAll } from './consumer-test.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const keep = args.includes('--keep');
const named = args.filter((arg) => !arg.startsWith('--'));
const examples = readdirSync(join(root, 'examples'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(root, 'examples', entry.name, 'package.json')))
  .map((entry) => entry.name)
  .filter((name) => named.length === 0 || named.includes(name));
const started = Date.now();
const step = (label) => process.stdout.write(`[examples ${((Date.now() - started) / 1000).toFixed(0)} s] ${label}\n`);

function run(cmd, cmdArgs, cwd) {
  const result = spawnSync(cmd, cmdArgs, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  if (result.status !== 0) {
    process.stderr.write(`${result.stdout ?? ''}${result.stderr ?? ''}`);
    throw new Error(`${[cmd, ...cmdArgs].join(' ')} failed in ${cwd} (exit ${result.status ?? result.signal})`);
  }
  return result.stdout;
}

/** The example's package.json with its @presign-pipeline ranges pointed at the tarballs, as docs/installing.md says. */
export function pointAtTarballs(manifest, tarballs) {
  const direct = new Set();
  for (const section of ['dependencies', 'devDependencies']) {
    for (const name of Object.keys(manifest[section] ?? {})) {
      if (!name.startsWith('@presign-pipeline/')) continue;
      if (!/^\^\d/.test(manifest[section][name])) {
        throw new Error(`${manifest.name}: ${name} is "${manifest[section][name]}", not a published range`);
      }
      manifest[section][name] = `file:${tarballs[name]}`;
      direct.add(name);
    }
  }
  // npm refuses an override of a direct dependency unless it refers to that dependency's own spec ($name).
  const overrides = Object.entries(tarballs).map(([name, path]) => [
    name,
    direct.has(name) ? `$${name}` : `file:${path}`,
  ]);
  return { ...manifest, overrides: Object.fromEntries(overrides) };
}

function testExample(name, scratch, tarballs) {
  const copy = join(scratch, name);
  cpSync(join(root, 'examples', name), copy, {
    recursive: true,
    filter: (source) => !/[/\\](node_modules|dist|\.aws-sam[^/\\]*)$/.test(source),
  });
  const manifest = JSON.parse(readFileSync(join(copy, 'package.json'), 'utf8'));
  writeFileSync(join(copy, 'package.json'), `${JSON.stringify(pointAtTarballs(manifest, tarballs), null, 2)}\n`);
  step(`${name}: npm install`);
  // --ignore-scripts: see scripts/consumer-test.mjs (testcontainers' native transports, esbuild's binary check).
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', '--ignore-scripts'], copy);
  if (manifest.scripts?.typecheck) {
    step(`${name}: npm run typecheck`);
    run('npm', ['run', 'typecheck'], copy);
  }
  step(`${name}: npm test`);
  const tests = run('npm', ['test'], copy);
  const summary = /Tests\s+(\d+) passed[^\n]*/.exec(tests.replace(/\x1b\[[0-9;]*m/g, ''));
  if (!summary || Number(summary[1]) === 0) throw new Error(`${name}: npm test passed no test:\n${tests}`);
  if (existsSync(join(copy, 'template.yaml'))) {
    step(`${name}: the esbuild build of template.yaml's Metadata`);
    cpSync(join(root, 'scripts', 'examples', 'sam-esbuild-build.mjs'), join(copy, '.sam-esbuild-build.mjs'));
    process.stdout.write(run(process.execPath, ['.sam-esbuild-build.mjs'], copy));
  } else if (manifest.scripts?.build) {
    step(`${name}: npm run build`);
    run('npm', ['run', 'build'], copy);
  }
  step(`${name}: ${summary[0].trim()}, built where it was copied`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (examples.length === 0) throw new Error(`no example named ${named.join(', ')}`);
  const scratch = mkdtempSync(join(tmpdir(), 'presign-examples-'));
  try {
    const tarballDir = join(scratch, 'tarballs');
    mkdirSync(tarballDir);
    step(`packing the packages; examples: ${examples.join(', ')}`);
    const tarballs = packAll(tarballDir);
    for (const name of examples) testExample(name, scratch, tarballs);
    step('every example installed, tested and built outside the repository');
  } finally {
    if (keep) console.log(`kept ${scratch}`);
    else rmSync(scratch, { recursive: true, force: true });
  }
}
