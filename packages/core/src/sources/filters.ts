/** Decides whether a listed key is kept. */
export type KeyFilter = (key: string) => boolean;

/** Keeps keys ending in `suffix`, compared case-insensitively (`suffixFilter('.pdf')` keeps `a.PDF`). (Stub.) */
export function suffixFilter(suffix: string): KeyFilter {
  void suffix;
  throw new Error('not implemented');
}
