// The sections of docs/performance.md: each benchmark renders its own between a start and an end marker, and writes
// it into the page in place of the previous one.
import { readFileSync } from 'node:fs';

/**
 * Puts `section` into a performance page: in place of an earlier one (between the markers), else before
 * "## Reproduce", else at the end.
 */
export function insertSection(markdown, section, { start: startMarker, end: endMarker }) {
  const start = markdown.indexOf(startMarker);
  const end = markdown.indexOf(endMarker);
  if (start !== -1 && end > start) {
    const after = markdown.slice(end + endMarker.length).replace(/^\n+/, '');
    return `${markdown.slice(0, start)}${section}\n${after}`;
  }
  const reproduce = markdown.indexOf('\n## Reproduce');
  if (reproduce !== -1) return `${markdown.slice(0, reproduce + 1)}${section}\n${markdown.slice(reproduce + 1)}`;
  return `${markdown.replace(/\n*$/, '\n\n')}${section}`;
}

/** The section already on the page at `path` (markers included, with a newline), or undefined: no page, no section. */
export function sectionOnPage(path, { start: startMarker, end: endMarker }) {
  let page;
  try {
    page = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const start = page.indexOf(startMarker);
  const end = page.indexOf(endMarker);
  return start !== -1 && end > start ? `${page.slice(start, end + endMarker.length)}\n` : undefined;
}
