#!/usr/bin/env node
// Fails when a function in packages/*/src has a body longer than the limit (default 60 lines), listing each one,
// longest first. Tests are not measured.
//   node scripts/check-function-length.mjs [--max 60]
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const repoRoot = new URL('..', import.meta.url).pathname;

function parseArgs(argv) {
  const options = { max: 60 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--max') options.max = Number(argv[++i]);
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

/** The functions of `<root>/packages/<package>/src` longer than `max` lines, longest first. */
export function longFunctions(root, max) {
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
  return long.sort((a, b) => b.lines - a.lines);
}

/** Prints the long functions of `root` and returns the exit code: 1 when there is any. */
export function main(argv, root = repoRoot, print = console.log) {
  const { max } = parseArgs(argv);
  const long = longFunctions(root, max);
  for (const fn of long) print(`FAIL ${String(fn.lines).padStart(4)} lines  ${fn.file}:${fn.line}  ${fn.name}`);
  print(`${long.length} function(s) over ${max} lines in packages/*/src.`);
  return long.length > 0 ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = main(process.argv.slice(2));
