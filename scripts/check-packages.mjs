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
let failed = false;
for (const name of readdirSync(join(root, 'packages'))) {
  const dir = join(root, 'packages', name);
  for (const [label, cmd, args] of [
    ['publint', bin('publint'), ['--strict']],
    ['attw', bin('attw'), ['--pack', '.', '--profile', 'node16', '--format', 'table-flipped']],
  ]) {
    const result = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8' });
    const ok = result.status === 0;
    failed ||= !ok;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${label} @presign-pipeline/${name}`);
    if (!ok) console.log(`${result.stdout}${result.stderr}`);
  }
}
process.exit(failed ? 1 : 0);
