#!/usr/bin/env node
// What `npm publish` would upload, checked package by package: each package is packed with pnpm (which turns the
// workspace ranges into versions, as `pnpm publish` does), `npm publish --dry-run` is run on that tarball, and its
// contents are checked: README, LICENSE and package.json present, every file the manifest points at (exports, main,
// module, types, bin) present, no tests and no sources, every source map carrying its sources (it cannot point at
// files the tarball lacks), no `workspace:` range left, and publishConfig asking for public access with provenance.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { packAll } from './consumer-test.mjs';

/** Every relative path a manifest points at: exports (any condition), main, module, types, bin. */
export function manifestTargets(manifest) {
  const targets = new Set();
  const visit = (value) => {
    if (typeof value === 'string' && value.startsWith('./')) targets.add(value.slice(2));
    else if (value && typeof value === 'object') Object.values(value).forEach(visit);
  };
  visit(manifest.exports);
  for (const field of ['main', 'module', 'types'])
    visit(manifest[field] && `./${manifest[field].replace(/^\.\//, '')}`);
  for (const bin of Object.values(manifest.bin ?? {})) visit(`./${bin.replace(/^\.\//, '')}`);
  return [...targets];
}

/** The problems of one packed package: its file list (as `npm publish --dry-run` reports it) and unpacked tree. */
export function problemsOf(files, unpacked) {
  const problems = [];
  const manifest = JSON.parse(readFileSync(join(unpacked, 'package.json'), 'utf8'));
  const has = new Set(files);
  for (const required of ['package.json', 'README.md', 'LICENSE']) {
    if (!has.has(required)) problems.push(`${required} is missing`);
  }
  for (const target of manifestTargets(manifest)) {
    if (!has.has(target)) problems.push(`package.json points at ${target}, which is not in the tarball`);
  }
  for (const file of files) {
    if (/(^|\/)(tests?|__tests__)\/|\.(test|spec)\.[cm]?[jt]s$/.test(file))
      problems.push(`a test is published: ${file}`);
    if (/^src\//.test(file)) problems.push(`a source file is published: ${file}`);
    if (file.endsWith('.map')) {
      const map = JSON.parse(readFileSync(join(unpacked, file), 'utf8'));
      const withoutContent = map.sources.filter((_source, i) => typeof map.sourcesContent?.[i] !== 'string');
      const missing = withoutContent.filter((source) => !has.has(join(dirname(file), source)));
      if (missing.length) problems.push(`${file} points at sources the tarball lacks: ${missing.join(', ')}`);
    }
  }
  if (JSON.stringify(manifest).includes('"workspace:')) problems.push('a workspace: range is left in package.json');
  if (manifest.publishConfig?.access !== 'public') problems.push('publishConfig.access is not "public"');
  if (manifest.publishConfig?.provenance !== true) problems.push('publishConfig.provenance is not true');
  if (readFileSync(join(unpacked, 'README.md'), 'utf8').trim().length < 200) problems.push('README.md is a stub');
  return problems;
}

function dryRun(tarball) {
  const result = spawnSync('npm', ['publish', '--dry-run', '--json', tarball], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`npm publish --dry-run ${tarball} failed:\n${result.stderr}`);
  const report = JSON.parse(result.stdout);
  return Object.values(report)[0];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const scratch = mkdtempSync(join(tmpdir(), 'presign-publish-'));
  let failed = false;
  try {
    const tarballs = packAll(scratch);
    for (const [name, tarball] of Object.entries(tarballs)) {
      const report = dryRun(tarball);
      const unpacked = join(scratch, name.replace('/', '+'));
      mkdirSync(unpacked);
      const untar = spawnSync('tar', ['-xzf', tarball, '-C', unpacked, '--strip-components=1']);
      if (untar.status !== 0 || !existsSync(join(unpacked, 'package.json')))
        throw new Error(`cannot unpack ${tarball}`);
      const problems = problemsOf(
        report.files.map((file) => file.path),
        unpacked,
      );
      failed ||= problems.length > 0;
      const size = `${report.files.length} files, ${(report.size / 1024).toFixed(0)} KiB packed`;
      console.log(`${problems.length ? 'FAIL' : 'ok  '} npm publish --dry-run ${report.id} (${size})`);
      for (const problem of problems) console.log(`     ${problem}`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  process.exit(failed ? 1 : 0);
}
