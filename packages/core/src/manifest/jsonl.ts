import type { ManifestEntry } from '../types.js';

/**
 * Characters JSON.stringify would escape in a string: quote, backslash, controls, and (any) surrogates, since lone
 * ones get escaped. Strings without them, such as every presigned URL, are quoted directly: same output, less work.
 * @internal
 */
export const NEEDS_ESCAPING = /["\\\u0000-\u001f\ud800-\udfff]/;

/** `JSON.stringify(value)` for a string, skipping the escaping pass when nothing needs escaping. @internal */
export function quoteJson(value: string): string {
  return NEEDS_ESCAPING.test(value) ? JSON.stringify(value) : `"${value}"`;
}

/**
 * One manifest line, `{"key":…,"url":…}` plus a newline: byte for byte what `JSON.stringify({ key, url })` gives,
 * built without the intermediate object.
 * @internal
 */
export function jsonlLine(entry: ManifestEntry): string {
  return `{"key":${quoteJson(entry.key)},"url":${quoteJson(entry.url)}}\n`;
}

/** The JSONL text of a batch of entries. @internal */
export function jsonlText(entries: readonly ManifestEntry[]): string {
  let text = '';
  for (let i = 0; i < entries.length; i++) text += jsonlLine(entries[i] as ManifestEntry);
  return text;
}
