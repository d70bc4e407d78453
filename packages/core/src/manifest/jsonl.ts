import type { ManifestEntry } from '../types.js';

/**
 * One manifest line, `{"key":…,"url":…}` plus a newline: byte for byte what `JSON.stringify({ key, url })` gives,
 * built without the intermediate object.
 * @internal
 */
export function jsonlLine(entry: ManifestEntry): string {
  return `{"key":${JSON.stringify(entry.key)},"url":${JSON.stringify(entry.url)}}\n`;
}

/** The JSONL text of a batch of entries. @internal */
export function jsonlText(entries: readonly ManifestEntry[]): string {
  let text = '';
  for (let i = 0; i < entries.length; i++) text += jsonlLine(entries[i] as ManifestEntry);
  return text;
}
