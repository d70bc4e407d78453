#!/usr/bin/env node
// Checks what each package would publish: publint (package.json and files) and
// "are the types wrong" (every exports branch resolves to matching types for
// ESM and CJS consumers under node16 resolution).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name) => join(root, 'node_modules', '.bin', name);
const attw = ['--pack', '.', '--profile', 'node16', '--format', 'table-flipped'];
// Entry points that are ES modules on purpose: minio-testing's vitest helpers import vitest, which cannot be
// require()d, so a CommonJS consumer reaches them with import() only. Checked on their own, with only that allowed.
const esmOnly = { 'minio-testing': ['./vitest'] };
let failed = false;
for (const name of readdirSync(join(root, 'packages'))) {
  const dir = join(root, 'packages', name);
  const only = esmOnly[name] ?? [];
  const checks = [
    ['publint', bin('publint'), ['--strict']],
    ['attw', bin('attw'), only.length ? [...attw, '--exclude-entrypoints', ...only] : attw],
    ...only.map((entry) => [
      `attw ${entry} (ESM only)`,
      bin('attw'),
      [...attw, '--entrypoints', entry, '--ignore-rules', 'cjs-resolves-to-esm'],
    ]),
  ];
  for (const [label, cmd, args] of checks) {
    const result = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8' });
    const ok = result.status === 0;
    failed ||= !ok;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${label} @presign-pipeline/${name}`);
    if (!ok) console.log(`${result.stdout}${result.stderr}`);
  }
}
process.exit(failed ? 1 : 0);
