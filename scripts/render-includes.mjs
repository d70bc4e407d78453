#!/usr/bin/env node
// Code the guides show lives in the examples (compiled and tested there) and is copied into docs/*.md between
// `<!-- includeCode: <path>[#region,…] -->` and `<!-- /includeCode -->`, so it reads as code on GitHub and in typedoc
// alike (a `{@includeCode}` tag shows as raw text on GitHub). A region is the lines between `// #region name` and
// `// #endregion name` (`# #region` in YAML). `node scripts/render-includes.mjs` rewrites the copies (and turns any
// `{@includeCode path}` line into a marked block); `--check` fails when a copy differs from its source.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const LANGUAGES = {
  '.ts': 'ts',
  '.mts': 'ts',
  '.cts': 'ts',
  '.js': 'js',
  '.mjs': 'js',
  '.yaml': 'yaml',
  '.yml': 'yaml',
  '.json': 'json',
};
const BLOCK = /<!-- includeCode: (\S+) -->\n[\s\S]*?<!-- \/includeCode -->/g;
const TAG = /^\{@includeCode (\S+)\}$/gm;
const MARKER = /^\s*(?:\/\/|#)\s*#(?:end)?region\b/;

function regionLines(lines, name, file) {
  const start = lines.findIndex((line) => new RegExp(`^\\s*(?://|#)\\s*#region ${name}\\s*$`).test(line));
  const end = lines.findIndex(
    (line, i) => i > start && new RegExp(`^\\s*(?://|#)\\s*#endregion ${name}\\s*$`).test(line),
  );
  if (start === -1 || end === -1) throw new Error(`${file} has no region "${name}"`);
  return lines.slice(start + 1, end);
}

function dedent(lines) {
  const indents = lines.filter((line) => line.trim()).map((line) => /^ */.exec(line)[0].length);
  const cut = Math.min(...indents);
  return lines.map((line) => line.slice(cut));
}

/** The fenced code block for `spec` (a path relative to the markdown file, optionally `#region[,region…]`). */
export function renderInclude(spec, fromDir) {
  const [path, regions] = spec.split('#');
  const file = resolve(fromDir, path);
  const lines = readFileSync(file, 'utf8').replace(/\n$/, '').split('\n');
  const parts = regions ? regions.split(',').map((name) => dedent(regionLines(lines, name, path))) : [lines];
  const code = parts
    .map((part) => part.filter((line) => !MARKER.test(line)).join('\n'))
    .join('\n\n')
    .replace(/\n{3,}/g, '\n\n');
  const fence = code.includes('```') ? '````' : '```';
  const language = LANGUAGES[extname(path)] ?? '';
  return `<!-- includeCode: ${spec} -->\n${fence}${language}\n${code}\n${fence}\n<!-- /includeCode -->`;
}

/** The markdown with every include block (and `{@includeCode}` tag) rendered from its source. */
export function renderMarkdown(markdown, fromDir) {
  return markdown
    .replace(TAG, (_, spec) => renderInclude(spec, fromDir))
    .replace(BLOCK, (_, spec) => renderInclude(spec, fromDir));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const check = process.argv.includes('--check');
  const docs = join(root, 'docs');
  const stale = [];
  for (const name of readdirSync(docs).filter((file) => file.endsWith('.md'))) {
    const file = join(docs, name);
    const before = readFileSync(file, 'utf8');
    const after = renderMarkdown(before, dirname(file));
    if (after === before) continue;
    stale.push(`docs/${name}`);
    if (!check) writeFileSync(file, after);
  }
  if (check && stale.length) {
    console.error(`code copied into ${stale.join(', ')} differs from its source: run node scripts/render-includes.mjs`);
    process.exit(1);
  }
  console.log(
    check ? 'every included snippet matches its source' : `rendered ${stale.length ? stale.join(', ') : 'nothing new'}`,
  );
}
