/** One function-like node: its name (or `<anonymous>`), its 1-based line, and its body's line count. */
export interface MeasuredFunction {
  name: string;
  line: number;
  lines: number;
}

export function measureFile(path: string, text?: string): MeasuredFunction[];

/** A function over the limit: its package and file (relative to the repository) besides what it measured. */
export interface LongFunction extends MeasuredFunction {
  pkg: string;
  file: string;
}

export function longFunctions(root: string, max: number): LongFunction[];

export function main(argv: readonly string[], root?: string, print?: (line: string) => void): number;
