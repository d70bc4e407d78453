#!/usr/bin/env node
// Runs every project of vitest.workspace.ts and fails unless at least one test
// passed and none failed: Vitest exits 0 when every collected test was skipped.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const report = join(root, '.vitest', 'report.json');
rmSync(report, { force: true });
mkdirSync(join(root, '.vitest'), { recursive: true });

const extra = process.argv.slice(2);
const dirIndex = extra.indexOf('--dir');
const filters = dirIndex >= 0 ? [extra[dirIndex + 1]] : [];
const passthrough = dirIndex >= 0 ? extra.filter((_, i) => i !== dirIndex && i !== dirIndex + 1) : extra;

const vitest = join(root, 'node_modules', '.bin', 'vitest');
const result = spawnSync(
  vitest,
  [
    'run',
    '--config',
    'vitest.workspace.ts',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${report}`,
    ...filters,
    ...passthrough,
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } },
);

let summary;
try {
  summary = JSON.parse(readFileSync(report, 'utf8'));
} catch {
  console.error('vitest wrote no report: treating the run as failed');
  process.exit(result.status || 1);
}
const passed = summary.numPassedTests;
const failed = summary.numFailedTests;
const skipped = summary.numPendingTests + summary.numTodoTests;
console.log(`vitest: ${passed} passed, ${failed} failed, ${skipped} skipped`);
if (result.status !== 0) process.exit(result.status ?? 1);
if (passed === 0 || failed > 0) {
  console.error(passed === 0 ? 'No test passed: a run that tests nothing is a failure.' : 'Some tests failed.');
  process.exit(1);
}
