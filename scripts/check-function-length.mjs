#!/usr/bin/env node
// Lists every function in packages/*/src whose body is longer than the limit (default 60 lines), longest first.
// Packages named in ENFORCED fail the check; the others are reported only, until their long functions are split.
//   node scripts/check-function-length.mjs [--max 60] [--enforce core,emf] [--all]
// `--all` enforces every package.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const root = new URL('..', import.meta.url).pathname;
const ENFORCED = ['core', 'emf'];

function parseArgs(argv) {
  const options = { max: 60, enforce: ENFORCED };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--max') options.max = Number(argv[++i]);
    else if (argv[i] === '--enforce') options.enforce = argv[++i].split(',').filter(Boolean);
    else if (argv[i] === '--all') options.enforce = null;
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!Number.isInteger(options.max) || options.max < 1) throw new Error('--max must be a positive integer');
  return options;
}

function sourceFiles(dir) {
  const files = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(path));
    else if (/\.(ts|tsx|mts|cts)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) files.push(path);
  }
  return files;
}

function functionName(node) {
  if (node.name && ts.isIdentifier(node.name)) return node.name.text;
  if (node.name) return node.name.getText();
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) {
    return parent.name.getText();
  }
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  return '<anonymous>';
}

/** Lines of a function's body, its braces excluded (an arrow with an expression body counts its expression). */
export function bodyLines(sourceFile, body) {
  const start = sourceFile.getLineAndCharacterOfPosition(body.getStart(sourceFile)).line;
  const end = sourceFile.getLineAndCharacterOfPosition(body.getEnd()).line;
  return ts.isBlock(body) ? Math.max(0, end - start - 1) : end - start + 1;
}

/** Every function-like node in one file with its body's line count. */
export function measureFile(path, text = readFileSync(path, 'utf8')) {
  const sourceFile = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const found = [];
  const visit = (node) => {
    if (ts.isFunctionLike(node) && node.body) {
      const line = sourceFile.getLineAndCharacterOfPosition(node.getStart(sourceFile)).line + 1;
      found.push({ name: functionName(node), line, lines: bodyLines(sourceFile, node.body) });
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return found;
}

function main() {
  const { max, enforce } = parseArgs(process.argv.slice(2));
  const packagesDir = join(root, 'packages');
  const long = [];
  for (const pkg of readdirSync(packagesDir)) {
    let files;
    try {
      files = sourceFiles(join(packagesDir, pkg, 'src'));
    } catch {
      continue;
    }
    for (const file of files) {
      for (const fn of measureFile(file)) {
        if (fn.lines > max) long.push({ pkg, file: relative(root, file), ...fn });
      }
    }
  }
  long.sort((a, b) => b.lines - a.lines);
  const isEnforced = (pkg) => enforce === null || enforce.includes(pkg);
  for (const fn of long) {
    const mark = isEnforced(fn.pkg) ? 'FAIL' : 'note';
    console.log(`${mark} ${String(fn.lines).padStart(4)} lines  ${fn.file}:${fn.line}  ${fn.name}`);
  }
  const failing = long.filter((fn) => isEnforced(fn.pkg));
  const scope = enforce === null ? 'every package' : enforce.join(', ');
  console.log(`${long.length} function(s) over ${max} lines; ${failing.length} in enforced packages (${scope}).`);
  if (failing.length > 0) process.exitCode = 1;
}

if (import.meta.url === `file://${process.argv[1]}`) main();
