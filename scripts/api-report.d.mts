/** The report of one package directory (its package.json and built dist/), as Markdown. */
export function renderApiReport(packageDir: string): string;

/** A report's items: `<entry point>: <exported name>` to its declaration text, plus each entry's other modules. */
export function parseApiReport(text: string): Map<string, string>;

/** The differences between a checked-in report and the current one, one sentence each (empty when they agree). */
export function compareApiReports(expected: string, actual: string): string[];

/** Rewrites (or, with `check`, compares) every package's report under `<base>/api`; returns the problems found. */
export function runApiReport(options?: { base?: string; check?: boolean }): string[];
