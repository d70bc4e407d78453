#!/usr/bin/env node
// Writes or checks api/<package>.api.md: every public entry point of each package (its `exports` map), the names it
// exports and their declarations as the built .d.ts files give them (doc comments left out), and the other modules
// those declarations take types from. A change to the surface then shows in a reviewed diff of api/.
//   node scripts/api-report.mjs            rewrite api/*.api.md from packages/*/dist (npm run api:update)
//   node scripts/api-report.mjs --check    fail, naming each difference, when a report is out of date (npm run api:check)
// Build first (`npm run build`): the reports are read from dist/.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The type file of each public subpath of a package's `exports` map (`./package.json` left out). */
function typeEntries(packageJson) {
  const exportsMap = packageJson.exports ?? { '.': { types: packageJson.types } };
  const entries = [];
  for (const [subpath, target] of Object.entries(exportsMap)) {
    if (subpath === './package.json') continue;
    const types = typeFileOf(target);
    if (types !== undefined) entries.push({ subpath, types });
  }
  return entries;
}

function typeFileOf(target) {
  if (typeof target === 'string') return target.endsWith('.d.ts') ? target : undefined;
  if (target === null || typeof target !== 'object') return undefined;
  if (typeof target.types === 'string') return target.types;
  return typeFileOf(target.import ?? target.default);
}

const printer = ts.createPrinter({ removeComments: true, newLine: ts.NewLineKind.LineFeed });

/** The node to print for one declaration: a variable's whole statement, any other declaration itself. */
function printable(declaration) {
  if (ts.isVariableDeclaration(declaration)) return declaration.parent.parent;
  return declaration;
}

function printDeclaration(declaration) {
  const text = printer.printNode(ts.EmitHint.Unspecified, printable(declaration), declaration.getSourceFile());
  // Chunk files export under short aliases (`export { X as a }`); the declaration keeps its own name, which is what a
  // reader wants. Indentation is the printer's, four spaces.
  return text.trim();
}

/** The modules outside the package that a .d.ts file and the chunks it imports take types from. */
function externalModules(file, seen = new Set(), found = new Set()) {
  if (seen.has(file)) return found;
  seen.add(file);
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  for (const statement of source.statements) {
    const specifier =
      (ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) &&
      statement.moduleSpecifier !== undefined
        ? statement.moduleSpecifier.text
        : undefined;
    if (specifier === undefined) continue;
    if (specifier.startsWith('.')) {
      const next = join(dirname(file), specifier.replace(/\.js$/, '.d.ts'));
      if (existsSync(next)) externalModules(next, seen, found);
    } else {
      found.add(specifier);
    }
  }
  return found;
}

/**
 * The report of one package directory (its package.json and built dist/), as Markdown.
 * @param {string} packageDir
 */
export function renderApiReport(packageDir) {
  const packageJson = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
  const entries = typeEntries(packageJson).map((entry) => ({ ...entry, file: join(packageDir, entry.types) }));
  for (const entry of entries) {
    if (!existsSync(entry.file))
      throw new Error(`${packageJson.name}: ${entry.types} does not exist; run npm run build first`);
  }
  const program = ts.createProgram(
    entries.map((entry) => entry.file),
    {
      noEmit: true,
      skipLibCheck: true,
      // Only the declarations are printed, never checked: the standard library is not needed, and loading it is slow.
      noLib: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      types: [],
    },
  );
  const checker = program.getTypeChecker();
  const lines = [
    `# API report: ${packageJson.name}`,
    '',
    '<!-- Written by `npm run api:update` from the built .d.ts files; `npm run api:check` fails when it is out of date. -->',
  ];
  for (const entry of entries) {
    const specifier = entry.subpath === '.' ? packageJson.name : `${packageJson.name}/${entry.subpath.slice(2)}`;
    const source = program.getSourceFile(entry.file);
    const moduleSymbol = source === undefined ? undefined : checker.getSymbolAtLocation(source);
    const exported = moduleSymbol === undefined ? [] : checker.getExportsOfModule(moduleSymbol);
    lines.push('', `## \`${specifier}\``, '');
    const external = [...externalModules(entry.file)].sort();
    lines.push(
      `Types from other modules: ${external.length === 0 ? 'none' : external.map((m) => `\`${m}\``).join(', ')}`,
      '',
    );
    lines.push('```ts');
    for (const symbol of [...exported].sort(byName)) {
      lines.push(...renderExport(checker, symbol), '');
    }
    if (lines[lines.length - 1] === '') lines.pop();
    lines.push('```');
  }
  return `${lines.join('\n')}\n`;
}

/** Case-insensitive order, then by code unit: the same on every machine, whatever its locale. */
function byName(a, b) {
  const [x, y] = [a.name.toLowerCase(), b.name.toLowerCase()];
  if (x !== y) return x < y ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function renderExport(checker, symbol) {
  const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  const declarations = target.declarations ?? [];
  const header = `// ${symbol.name}${target.name !== symbol.name && target.name !== 'default' ? ` (declared as ${target.name})` : ''}`;
  if (declarations.length === 0) return [header, '// (no declaration found)'];
  return [header, ...declarations.map(printDeclaration)];
}

/** Splits a report into its exported names, each with the text under its `// name` header, per entry point. */
export function parseApiReport(text) {
  const items = new Map();
  let entry = '';
  let current;
  for (const line of text.split('\n')) {
    const heading = /^## `(.+)`$/.exec(line);
    if (heading !== null) {
      entry = heading[1];
      current = undefined;
      continue;
    }
    const imports = /^Types from other modules: (.*)$/.exec(line);
    if (imports !== null) {
      items.set(`${entry}: types from other modules`, imports[1]);
      continue;
    }
    const name = /^\/\/ (\S+)/.exec(line);
    if (name !== null && entry !== '') {
      current = `${entry}: ${name[1]}`;
      items.set(current, '');
      continue;
    }
    if (line === '```' || line === '```ts') {
      current = undefined;
      continue;
    }
    if (current !== undefined && line !== '') items.set(current, `${items.get(current)}${line}\n`);
  }
  return items;
}

/**
 * The differences between a checked-in report and the current one, one sentence each (empty when they agree).
 * @param {string} expected the checked-in report
 * @param {string} actual the report of the current build
 */
export function compareApiReports(expected, actual) {
  const before = parseApiReport(expected);
  const after = parseApiReport(actual);
  const differences = [];
  for (const [name, text] of after) {
    if (!before.has(name)) differences.push(`added: ${name}`);
    else if (before.get(name) !== text)
      differences.push(`changed: ${name}\n  was:\n${indent(before.get(name))}\n  now:\n${indent(text)}`);
  }
  for (const name of before.keys()) if (!after.has(name)) differences.push(`removed: ${name}`);
  if (differences.length === 0 && expected !== actual) differences.push('the report differs in layout only');
  return differences;
}

function indent(text) {
  return text
    .trimEnd()
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}

function packageDirs(base) {
  return readdirSync(join(base, 'packages'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(base, 'packages', entry.name, 'package.json')))
    .map((entry) => ({ name: entry.name, dir: join(base, 'packages', entry.name) }));
}

/**
 * Rewrites (or, with `check`, compares) every package's report under `<base>/api`. Returns the problems found.
 * @param {{ base?: string, check?: boolean }} [options]
 */
export function runApiReport({ base = root, check = false } = {}) {
  const problems = [];
  const apiDir = join(base, 'api');
  if (!check) mkdirSync(apiDir, { recursive: true });
  for (const { name, dir } of packageDirs(base)) {
    const file = join(apiDir, `${name}.api.md`);
    const packageName = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name;
    const actual = renderApiReport(dir);
    if (!check) {
      writeFileSync(file, actual);
      continue;
    }
    if (!existsSync(file)) {
      problems.push(`${relative(base, file)} is missing: run npm run api:update and commit it`);
      continue;
    }
    const differences = compareApiReports(readFileSync(file, 'utf8'), actual);
    if (differences.length > 0) {
      problems.push(
        `${relative(base, file)} is out of date: the public API of ${packageName} changed:\n${differences.map((d) => `- ${d}`).join('\n')}`,
      );
    }
  }
  if (check) {
    const known = new Set(packageDirs(base).map(({ name }) => `${name}.api.md`));
    for (const file of existsSync(apiDir) ? readdirSync(apiDir) : []) {
      if (file.endsWith('.api.md') && !known.has(file)) problems.push(`api/${file} has no package: delete it`);
    }
  }
  return problems;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const unknown = args.filter((arg) => arg !== '--check');
  if (unknown.length > 0) {
    console.error(`unknown argument ${unknown[0]}; usage: node scripts/api-report.mjs [--check]`);
    process.exit(2);
  }
  const check = args.includes('--check');
  const problems = runApiReport({ check });
  if (problems.length > 0) {
    console.error(problems.join('\n\n'));
    console.error(
      '\nIf the change is meant, run npm run api:update and commit api/ with it (see CONTRIBUTING.md, "Changing the public API").',
    );
    process.exit(1);
  }
  console.log(check ? 'api: every report matches the built packages' : 'api: reports written to api/');
}
