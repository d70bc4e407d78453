import type { KeySource } from '../types.js';

/** Options of {@link arrayKeySource}. */
export interface ArrayKeySourceOptions {
  /** The bucket the keys live in. */
  bucket: string;
  /** Keys per page, 1..1000. Default 1000. */
  pageSize?: number;
}

/** A lazy key source over any iterable or async iterable of keys. (Stub.) */
export function arrayKeySource(keys: Iterable<string> | AsyncIterable<string>, options: ArrayKeySourceOptions): KeySource {
  void keys;
  void options;
  throw new Error('not implemented');
}
