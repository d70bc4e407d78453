/**
 * Key sets the S3 simulator lists without holding them: each key is a pure function of its index, and the
 * functions are strictly increasing in the byte order S3 lists in, so any position (a `StartAfter`, the end of a
 * prefix, the end of a common prefix) is found by binary search over the index.
 */

/** The generated layouts of {@link SimulatedKeySet}. */
export type SimulatedKeyLayout = 'flat' | 'skewed' | 'long-prefix' | 'dated' | 'handful';

/**
 * The objects one simulated bucket lists. Generated layouts (all names under `prefix`):
 * - `flat`: random-looking names (`3f9a0c1d22e7.pdf`), spread evenly over the key space;
 * - `skewed`: 90 % of the keys under `hot/`, 5 % under `a-cold/` before it and 5 % under `z-cold/` after it;
 * - `long-prefix`: every key shares one 200-byte prefix (`long-shared-prefix-000…0/`), then a flat name;
 * - `dated`: date-stamped names, `2024/01/01/000000000-1a2b3c4d.json` (year/month/day/time-hash), a few seconds apart;
 * - `handful`: a few flat names (default 5).
 *
 * `keys` lists explicit keys instead (for awkward keys: spaces, `+`, `%`, control characters, non-ASCII); they are
 * sorted in UTF-8 byte order and de-duplicated, and they are held in memory.
 */
export type SimulatedKeySet =
  | {
      /** Which generated layout. */
      readonly layout: SimulatedKeyLayout;
      /** How many keys. Default 1,000 (5 for `handful`). */
      readonly count?: number;
      /** What every key starts with, e.g. `data/`. Default none. */
      readonly prefix?: string;
    }
  | {
      /** Explicit keys. */
      readonly layout: 'keys';
      /** The keys, in any order. */
      readonly keys: readonly string[];
    };

/** A sorted key set addressed by index. */
export interface KeySpace {
  /** Number of keys. */
  readonly count: number;
  /** The key at `index` (0 ≤ index < count); strictly increasing in UTF-8 byte order. */
  keyAt(index: number): string;
}

const DEFAULT_COUNT = 1_000;
const DEFAULT_HANDFUL = 5;
/** Generated names are 12 hex digits: 16^12 (2.8e14) values, exact in a double. */
const NAME_SPACE = 16 ** 12;
const MAX_GENERATED = 1_000_000_000;
const LONG_PREFIX = `long-shared-prefix-${'0'.repeat(180)}/`;

/**
 * Compares two strings in UTF-8 byte order (code point order), the order S3 lists keys in. JavaScript's `<`
 * compares UTF-16 code units, which differs for characters above U+FFFF against U+E000–U+FFFF.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i += 1) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

/** A 32-bit integer hash of an index (the murmur3 finaliser): deterministic, well spread. */
export function mixIndex(index: number, seed = 0): number {
  let h = (Math.imul(index ^ seed, 0x9e3779b1) ^ Math.floor(index / 2 ** 32)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const HEX_BYTES = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

/** An unsigned 32-bit integer as 8 hex digits (V8 formats large doubles in hex slowly; this stays fast). */
export function hex8(value: number): string {
  return (
    HEX_BYTES[value >>> 24]! +
    HEX_BYTES[(value >>> 16) & 255]! +
    HEX_BYTES[(value >>> 8) & 255]! +
    HEX_BYTES[value & 255]!
  );
}

/** `count` random-looking, strictly increasing 12-hex-digit names: one per slot of an even split of the space. */
function flatName(index: number, count: number): string {
  const slot = Math.floor(NAME_SPACE / count);
  const value = index * slot + Math.floor((mixIndex(index, 0x5eed) / 2 ** 32) * slot);
  const high = Math.floor(value / 2 ** 24);
  return `${hex8(high).slice(2)}${hex8(value - high * 2 ** 24).slice(2)}.pdf`;
}

function flatSpace(prefix: string, count: number): KeySpace {
  return { count, keyAt: (index) => prefix + flatName(index, count) };
}

/** Segments in key order, each a key space: one key space over all of them. */
function concatSpaces(parts: readonly KeySpace[]): KeySpace {
  const nonEmpty = parts.filter((part) => part.count > 0);
  const starts: number[] = [];
  let total = 0;
  for (const part of nonEmpty) {
    starts.push(total);
    total += part.count;
  }
  return {
    count: total,
    keyAt(index) {
      let s = nonEmpty.length - 1;
      while (starts[s]! > index) s -= 1;
      return nonEmpty[s]!.keyAt(index - starts[s]!);
    },
  };
}

function skewedSpace(prefix: string, count: number): KeySpace {
  const cold = Math.floor(count * 0.05);
  const after = Math.floor(count * 0.05);
  return concatSpaces([
    flatSpace(`${prefix}a-cold/`, cold),
    flatSpace(`${prefix}hot/`, count - cold - after),
    flatSpace(`${prefix}z-cold/`, after),
  ]);
}

const DATED_START_MS = Date.UTC(2024, 0, 1);
const DATED_SPAN_MS = 3 * 365 * 24 * 3600 * 1000;

function datedSpace(prefix: string, count: number): KeySpace {
  const step = Math.max(1, Math.floor(DATED_SPAN_MS / count));
  return {
    count,
    keyAt(index) {
      const iso = new Date(DATED_START_MS + index * step).toISOString(); // 2024-01-01T00:00:00.000Z
      const day = `${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}`;
      const time = `${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}${iso.slice(20, 23)}`;
      return `${prefix}${day}/${time}-${hex8(mixIndex(index, 0xda7e))}.json`;
    },
  };
}

function explicitSpace(keys: readonly string[]): KeySpace {
  const sorted = [...new Set(keys)].sort(compareUtf8);
  return { count: sorted.length, keyAt: (index) => sorted[index]! };
}

/**
 * Builds the key space of a {@link SimulatedKeySet}, checking it first.
 * @throws TypeError naming the bad field.
 */
export function keySpaceOf(spec: SimulatedKeySet, where = 'keys'): KeySpace {
  if (spec === null || typeof spec !== 'object') throw new TypeError(`${where} must be an object with a layout`);
  if (spec.layout === 'keys') {
    if (!Array.isArray(spec.keys) || spec.keys.some((key) => typeof key !== 'string' || key === '')) {
      throw new TypeError(`${where}.keys must be an array of non-empty strings`);
    }
    return explicitSpace(spec.keys);
  }
  const prefix = spec.prefix ?? '';
  if (typeof prefix !== 'string') throw new TypeError(`${where}.prefix must be a string`);
  const count = spec.count ?? (spec.layout === 'handful' ? DEFAULT_HANDFUL : DEFAULT_COUNT);
  if (!Number.isSafeInteger(count) || count < 0 || count > MAX_GENERATED) {
    throw new TypeError(`${where}.count must be an integer from 0 to ${MAX_GENERATED}, got ${String(count)}`);
  }
  switch (spec.layout) {
    case 'flat':
    case 'handful':
      return flatSpace(prefix, count);
    case 'skewed':
      return skewedSpace(prefix, count);
    case 'long-prefix':
      return flatSpace(prefix + LONG_PREFIX, count);
    case 'dated':
      return datedSpace(prefix, count);
    default:
      throw new TypeError(
        `${where}.layout must be one of flat, skewed, long-prefix, dated, handful, keys; got ${JSON.stringify((spec as { layout?: unknown }).layout)}`,
      );
  }
}

/** The first index in [from, to) whose key satisfies `test`, a predicate false then true along the order; else `to`. */
export function firstIndexWhere(space: KeySpace, from: number, to: number, test: (key: string) => boolean): number {
  let low = from;
  let high = to;
  while (low < high) {
    const middle = low + Math.floor((high - low) / 2);
    if (test(space.keyAt(middle))) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** The first index whose key is greater than `after` (in byte order). */
export function firstIndexAfter(space: KeySpace, after: string, from = 0, to = space.count): number {
  return firstIndexWhere(space, from, to, (key) => compareUtf8(key, after) > 0);
}

/** The first index whose key is at or after `prefix`: where the keys under `prefix` start. */
export function firstIndexAtOrAfter(space: KeySpace, prefix: string, from = 0, to = space.count): number {
  return firstIndexWhere(space, from, to, (key) => compareUtf8(key, prefix) >= 0);
}

/** The first index whose key is past every key starting with `prefix` (the keys under it are contiguous). */
export function firstIndexPast(space: KeySpace, prefix: string, from = 0, to = space.count): number {
  return firstIndexWhere(space, from, to, (key) => compareUtf8(key, prefix) > 0 && !key.startsWith(prefix));
}
