import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packages = fileURLToPath(new URL('../../../', import.meta.url));

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

function textOf(kind: 'src' | 'tests'): string {
  const texts: string[] = [];
  for (const name of readdirSync(packages)) {
    const dir = join(packages, name, kind);
    try {
      for (const file of filesUnder(dir)) texts.push(readFileSync(file, 'utf8'));
    } catch {
      // A package without that folder.
    }
  }
  return texts.join('\n');
}

describe('PresignPipelineErrorCode', () => {
  const errors = readFileSync(join(packages, 'core', 'src', 'errors.ts'), 'utf8');
  const union = /export type PresignPipelineErrorCode =([^;]*);/.exec(errors)?.[1] ?? '';
  const codes = [...union.matchAll(/'([A-Z_]+)'/g)].map((m) => m[1] ?? '');
  // The sources without the declaration itself and its doc comment, which name every code.
  const sources = textOf('src')
    .replace(union, '')
    .replace(/\/\*\*\n \* Every error code[\s\S]*?\*\//, '');
  const tests = textOf('tests');

  it('is read from errors.ts', () => {
    expect(codes.length).toBeGreaterThanOrEqual(20);
    expect(codes).toContain('INVALID_OPTION');
  });

  it('has every code raised somewhere in the sources and named in a test', () => {
    const notRaised = codes.filter((code) => !sources.includes(`'${code}'`));
    const untested = codes.filter((code) => !tests.includes(code));
    expect(notRaised).toEqual([]);
    expect(untested).toEqual([]);
  });
});
