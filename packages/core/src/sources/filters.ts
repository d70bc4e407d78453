import { invalidType } from '../validate.js';

/** Decides whether a listed key is kept. */
export type KeyFilter = (key: string) => boolean;

/**
 * Keeps keys ending in `suffix`, compared case-insensitively (`suffixFilter('.pdf')` keeps `a.PDF`), as S3 keys
 * written by different tools rarely agree on case.
 *
 * @example
 * ```ts
 * const onlyPdfs = suffixFilter('.pdf');
 * onlyPdfs('2026/04/report.PDF'); // true
 * ```
 */
export function suffixFilter(suffix: string): KeyFilter {
  if (typeof suffix !== 'string') invalidType('suffixFilter', 'suffix', 'a string', suffix);
  const lower = suffix.toLowerCase();
  return (key: string): boolean => typeof key === 'string' && key.toLowerCase().endsWith(lower);
}
