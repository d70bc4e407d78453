import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The page's files, served from memory: a fixed list, so no request path ever reaches the file system. */
const FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'panels.js': 'text/javascript; charset=utf-8',
  'compare.js': 'text/javascript; charset=utf-8',
  'editor.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

/** One file of the page. */
export interface Asset {
  /** Its content type. */
  readonly type: string;
  /** Its bytes. */
  readonly body: Buffer;
}

/** The folder of the page's files: `tester-ui/` at the package root, seen from `src/tester/` or from `dist/`. */
function uiFolder(): string {
  const here = typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, '..', 'tester-ui'), join(here, '..', '..', 'tester-ui')];
  const found = candidates.find((folder) => existsSync(join(folder, 'index.html')));
  if (found === undefined)
    throw new Error(`presign-local ui: the page's files are missing (looked in ${candidates.join(', ')})`);
  return found;
}

/** Reads the page's files once, at start. */
export function loadAssets(): ReadonlyMap<string, Asset> {
  const folder = uiFolder();
  return new Map(Object.entries(FILES).map(([name, type]) => [name, { type, body: readFileSync(join(folder, name)) }]));
}
