import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runApiReport } from '../../../../scripts/api-report.mjs';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A repository with one package whose built types are `types`. */
function fakeRepository(types: string): { base: string; setTypes(text: string): void } {
  const base = mkdtempSync(join(tmpdir(), 'api-report-'));
  dirs.push(base);
  const dist = join(base, 'packages', 'widget', 'dist');
  mkdirSync(dist, { recursive: true });
  const exportsMap = { '.': { import: { types: './dist/index.d.ts', default: './dist/index.js' } } };
  writeFileSync(
    join(base, 'packages', 'widget', 'package.json'),
    JSON.stringify({ name: '@example/widget', exports: exportsMap }),
  );
  const setTypes = (text: string): void => writeFileSync(join(dist, 'index.d.ts'), text);
  setTypes(types);
  return { base, setTypes };
}

const V1 = [
  '/** Makes a widget. */',
  'declare function widget(size: number): Widget;',
  'interface Widget { readonly size: number }',
  'export { type Widget, widget };',
].join('\n');

describe('api-report', () => {
  it('writes the exported names and their declarations, without doc comments', () => {
    // Prepare
    const repo = fakeRepository(V1);

    // Act
    expect(runApiReport({ base: repo.base })).toEqual([]);

    // Assess
    const report = readFileSync(join(repo.base, 'api', 'widget.api.md'), 'utf8');
    expect(report).toContain('## `@example/widget`');
    expect(report).toContain('// widget\ndeclare function widget(size: number): Widget;');
    expect(report).toContain('// Widget\ninterface Widget {');
    expect(report).not.toContain('Makes a widget');
    expect(runApiReport({ base: repo.base, check: true })).toEqual([]);
  });

  it('fails the check naming each added, removed and changed export, and ignores doc comments', () => {
    // Prepare: a report of V1, then a build whose surface changed.
    const repo = fakeRepository(V1);
    runApiReport({ base: repo.base });
    repo.setTypes(
      [
        '/** Makes a widget, now with a colour. */',
        'declare function widget(size: number, colour?: string): Widget;',
        'declare function gadget(): void;',
        'export { gadget, widget };',
        'interface Widget { readonly size: number }',
      ].join('\n'),
    );

    // Act
    const problems = runApiReport({ base: repo.base, check: true });

    // Assess
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('api/widget.api.md is out of date: the public API of @example/widget changed');
    expect(problems[0]).toContain('- added: @example/widget: gadget');
    expect(problems[0]).toContain('- removed: @example/widget: Widget');
    expect(problems[0]).toContain('- changed: @example/widget: widget');
    expect(problems[0]).toContain('declare function widget(size: number, colour?: string): Widget;');

    // A doc comment alone is not a change of the surface.
    repo.setTypes(`/** Other words. */\n${V1}`);
    expect(runApiReport({ base: repo.base, check: true })).toEqual([]);
  });

  it('fails the check when a package has no report', () => {
    const repo = fakeRepository(V1);
    expect(runApiReport({ base: repo.base, check: true })).toEqual([
      'api/widget.api.md is missing: run npm run api:update and commit it',
    ]);
  });

  it("keeps eventemitter3 out of every package's published types", () => {
    // The checked-in reports list, per entry point, every module whose types the .d.ts files take.
    for (const name of ['core', 'emf', 'lambda', 'minio-testing']) {
      const report = readFileSync(join(root, 'api', `${name}.api.md`), 'utf8');
      expect(report).toMatch(/^Types from other modules: /m);
      expect(report, name).not.toContain('eventemitter3');
    }
  });
});
