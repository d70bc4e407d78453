#!/usr/bin/env node
// Makes a fresh clone runnable with nothing but Node.js and npm: installs the
// workspace with the pinned pnpm (through npx when it is not on PATH), and with
// --build rebuilds every package whose sources are newer than its dist/.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PNPM_VERSION = '10.34.9';
const root = fileURLToPath(new URL('..', import.meta.url));

/** The command prefix that runs the pinned pnpm. */
export function pnpmCommand() {
  const probe = spawnSync('pnpm', ['--version'], { encoding: 'utf8' });
  if (probe.status === 0 && probe.stdout.trim() === PNPM_VERSION) return ['pnpm'];
  return ['npx', '-y', `pnpm@${PNPM_VERSION}`];
}

function run(argv, options = {}) {
  const [cmd, ...args] = argv;
  const result = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], ...options });
  if (result.status !== 0) {
    process.stderr.write(`\n${argv.join(' ')} failed (exit ${result.status ?? result.signal})\n`);
    process.exit(result.status ?? 1);
  }
}

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

function needsInstall() {
  const marker = join(root, 'node_modules', '.modules.yaml');
  if (!existsSync(marker)) return true;
  const installedAt = statSync(marker).mtimeMs;
  const manifests = [join(root, 'pnpm-lock.yaml'), join(root, 'package.json')];
  for (const dir of ['packages', 'examples']) {
    const base = join(root, dir);
    if (!existsSync(base)) continue;
    for (const name of readdirSync(base)) manifests.push(join(base, name, 'package.json'));
  }
  return manifests.some((file) => existsSync(file) && statSync(file).mtimeMs > installedAt);
}

const BUILD_ORDER = ['core', 'emf', 'minio-testing', 'lambda'];

function stalePackages() {
  return BUILD_ORDER.filter((name) => {
    const dir = join(root, 'packages', name);
    const built = existsSync(join(dir, 'dist', 'index.js')) ? statSync(join(dir, 'dist', 'index.js')).mtimeMs : 0;
    const inputs = Math.max(
      newestMtime(join(dir, 'src')),
      newestMtime(join(dir, 'package.json')),
      newestMtime(join(dir, 'tsup.config.ts')),
    );
    return inputs > built;
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const pnpm = pnpmCommand();
  if (needsInstall()) {
    process.stderr.write(`Installing the workspace with pnpm ${PNPM_VERSION}…\n`);
    run([...pnpm, 'install', '--frozen-lockfile']);
  }
  if (process.argv.includes('--build')) {
    const stale = process.argv.includes('--force') ? BUILD_ORDER : stalePackages();
    // A rebuilt package can change what its dependants compile against, so rebuild everything after the first stale one.
    const from = stale.length ? BUILD_ORDER.indexOf(stale[0]) : BUILD_ORDER.length;
    for (const name of BUILD_ORDER.slice(from)) {
      process.stderr.write(`Building @presign-pipeline/${name}…\n`);
      run([...pnpm, '--filter', `@presign-pipeline/${name}`, 'run', 'build'], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
    }
  }
  // `--recursive <script>` runs a script in every workspace package with the same pnpm, so no global pnpm is needed.
  const recursive = process.argv.indexOf('--recursive');
  if (recursive !== -1) run([...pnpm, '-r', 'run', process.argv[recursive + 1]]);
}
