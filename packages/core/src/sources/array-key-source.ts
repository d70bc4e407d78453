import type { KeyPage, KeySource, KeySourceContext } from '../types.js';
import { checkInteger, checkNonEmptyString, checkObject, invalidType } from '../validate.js';

const OWNER = 'arrayKeySource';

/** Options of {@link arrayKeySource}. */
export interface ArrayKeySourceOptions {
  /** The bucket the keys live in. */
  bucket: string;
  /** Keys per page, 1..1000 (the ListObjectsV2 page limit, so runs behave alike whatever the source). Default 1000. */
  pageSize?: number;
}

function isAsyncIterable(value: object): value is AsyncIterable<unknown> {
  return typeof (value as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function';
}

function isIterable(value: object): value is Iterable<unknown> {
  return typeof (value as Partial<Iterable<unknown>>)[Symbol.iterator] === 'function';
}

/**
 * A key source over any iterable or async iterable of keys: arrays, sets, generators, streams of lines. It is lazy:
 * keys are read one page at a time, as the pipeline pulls, so a generator of ten million keys is never materialised.
 * Each page's `cursor` is its last key. Each call to `pages()` starts a fresh iteration (a generator object, which
 * can be iterated once only, continues where it stopped).
 *
 * @example
 * ```ts
 * const source = arrayKeySource(['a.pdf', 'b.pdf'], { bucket: 'reports', pageSize: 500 });
 * ```
 */
export function arrayKeySource(
  keys: Iterable<string> | AsyncIterable<string>,
  options: ArrayKeySourceOptions,
): KeySource {
  if (typeof keys !== 'object' || keys === null || !(isIterable(keys) || isAsyncIterable(keys))) {
    if (typeof keys !== 'string') invalidType(OWNER, 'keys', 'an iterable or async iterable of keys', keys);
    invalidType(OWNER, 'keys', 'an iterable or async iterable of keys (not a single string)', keys);
  }
  const opts = checkObject(OWNER, 'options', options);
  const bucket = checkNonEmptyString(OWNER, 'bucket', opts.bucket);
  const pageSize = opts.pageSize === undefined ? 1000 : checkInteger(OWNER, 'pageSize', opts.pageSize, 1, 1000);
  const iterable: Iterable<unknown> | AsyncIterable<unknown> = keys;

  async function* pages(context?: KeySourceContext): AsyncGenerator<KeyPage, void, undefined> {
    const signal = context?.signal;
    let page: unknown[] = [];
    // Sync iterables are read with for...of (no await per key); early exit closes the underlying iterator.
    if (isAsyncIterable(iterable)) {
      for await (const key of iterable) {
        if (signal?.aborted === true) return;
        if (page.push(key) === pageSize) {
          yield makePage(bucket, page);
          page = [];
        }
      }
    } else {
      for (const key of iterable) {
        if (page.push(key) === pageSize) {
          if (signal?.aborted === true) return;
          yield makePage(bucket, page);
          page = [];
        }
      }
    }
    // The remainder is known to be the last page; a last page that came out full is only known as such one pull later.
    if (page.length > 0 && signal?.aborted !== true) yield { ...makePage(bucket, page), last: true };
  }

  return { bucket, pages };
}

function makePage(bucket: string, keys: unknown[]): KeyPage {
  const last = keys[keys.length - 1];
  // Keys are typed as strings; anything else a caller smuggles in is reported per item by the pipeline.
  return typeof last === 'string'
    ? { bucket, keys: keys as string[], cursor: last }
    : { bucket, keys: keys as string[] };
}
