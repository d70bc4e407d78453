/** One function-like node: its name (or `<anonymous>`), its 1-based line, and its body's line count. */
export interface MeasuredFunction {
  name: string;
  line: number;
  lines: number;
}

export function measureFile(path: string, text?: string): MeasuredFunction[];
