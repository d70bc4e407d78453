import { describe, expect, it } from 'vitest';
import { measureFile } from '../../../../scripts/check-function-length.mjs';

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
});
