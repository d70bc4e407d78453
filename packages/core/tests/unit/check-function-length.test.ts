import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { longFunctions, main, measureFile } from '../../../../scripts/check-function-length.mjs';

const body = (lines: number): string => Array.from({ length: lines }, (_, i) => `  const v${i} = ${i};`).join('\n');

describe('check-function-length', () => {
  it('counts the body lines of declarations, methods, arrows and nested functions, braces excluded', () => {
    // Prepare
    const text = [
      'export function long() {',
      body(61),
      '}',
      'const short = () => {',
      body(3),
      '};',
      'class Store {',
      '  add(): void {',
      body(2),
      '  }',
      '}',
      'const expr = (a: number) =>',
      '  a + 1;',
      'function outer() {',
      '  const inner = function () {',
      body(1),
      '  };',
      '}',
    ].join('\n');

    // Act
    const found = measureFile('sample.ts', text);

    // Assess
    expect(found).toEqual([
      { name: 'long', line: 1, lines: 61 },
      { name: 'short', line: 64, lines: 3 },
      { name: 'add', line: 70, lines: 2 },
      { name: 'expr', line: 75, lines: 1 },
      { name: 'outer', line: 77, lines: 3 },
      { name: 'inner', line: 78, lines: 1 },
    ]);
  });

  describe('over a repository', () => {
    let root: string | undefined;
    afterEach(() => {
      if (root !== undefined) rmSync(root, { recursive: true, force: true });
      root = undefined;
    });

    /** A repository with these files (path → text). */
    const repository = (files: Record<string, string>): string => {
      root = mkdtempSync(join(tmpdir(), 'function-length-'));
      for (const [path, text] of Object.entries(files)) {
        mkdirSync(dirname(join(root, path)), { recursive: true });
        writeFileSync(join(root, path), text);
      }
      return root;
    };

    it('fails for a long function in the sources of any package, and measures no tests or declaration files', () => {
      // Prepare
      const long = `export function long() {\n${body(61)}\n}\n`;
      const dir = repository({
        'packages/alpha/src/a.ts': long,
        'packages/beta/src/deep/b.ts': `const fine = () => {\n${body(60)}\n};\n`,
        'packages/beta/tests/unit/c.test.ts': long,
        'packages/gamma/src/d.d.ts': long,
      });
      const printed: string[] = [];

      // Act
      const code = main([], dir, (line: string) => void printed.push(line));

      // Assess
      expect(longFunctions(dir, 60)).toEqual([
        { pkg: 'alpha', file: 'packages/alpha/src/a.ts', name: 'long', line: 1, lines: 61 },
      ]);
      expect(code).toBe(1);
      expect(printed).toEqual([
        'FAIL   61 lines  packages/alpha/src/a.ts:1  long',
        '1 function(s) over 60 lines in packages/*/src.',
      ]);
    });

    it('passes when every function is within the limit, which --max sets', () => {
      const dir = repository({ 'packages/alpha/src/a.ts': `function f() {\n${body(20)}\n}\n` });
      expect(main([], dir, () => undefined)).toBe(0);
      expect(main(['--max', '19'], dir, () => undefined)).toBe(1);
    });
  });

  it('finds no function over 60 lines in the packages of this repository', () => {
    expect(longFunctions(fileURLToPath(new URL('../../../..', import.meta.url)), 60)).toEqual([]);
  });
});
