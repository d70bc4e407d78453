/**
 * An estimate of how keys spread over the key space, learned from the pages a listing has seen, used to pick the
 * `StartAfter` points at which auto-partitioned listing splits a range. It only guides splitting: a poor estimate
 * costs requests, never correctness.
 *
 * Keys are read as numbers in [0, 1) by arithmetic coding: past the common prefix of every key seen (`base`), each
 * code point position has a histogram, and a key's value is the interval its code points narrow down to. The
 * mapping is monotone in S3's order (code point order), so the value halfway between two keys lies between them and
 * keys that spread evenly under the histograms map to evenly spread values. Unseen members of a seen character class
 * (digits, lowercase, uppercase) get a share, so the model can reach past what it has seen (next year's dates).
 * @internal
 */
import { compareKeys } from './partitioned-listing.js';

/** Code point positions past the base that the model distinguishes (a double keeps ~52 bits of them). */
const POSITIONS = 10;
/** Stands for "the key ends here", which sorts before every code point. */
const END = -1;
/** Keys of each page the model learns from, spread over the page. */
const SAMPLES_PER_PAGE = 32;
/** Share of its class's observed count that each unseen member of a seen character class gets. */
const CLASS_SHARE = 0.5;

const CLASSES: readonly (readonly [number, number])[] = [
  [0x30, 0x39], // 0-9
  [0x41, 0x5a], // A-Z
  [0x61, 0x7a], // a-z
];

interface Position {
  /** Observed count per code point (END included). */
  readonly counts: Map<number, number>;
  /** Sorted code points with their (smoothed) weight and the sum of weights before them; rebuilt lazily. */
  table:
    | { readonly cps: number[]; readonly weights: number[]; readonly before: number[]; readonly total: number }
    | undefined;
}

/** Code points of `key` from string index `from`, at most `max` of them. */
function codePoints(key: string, from: number, max: number): number[] {
  const out: number[] = [];
  for (let i = from; i < key.length && out.length < max; ) {
    const cp = key.codePointAt(i) as number;
    out.push(cp);
    i += cp > 0xffff ? 2 : 1;
  }
  return out;
}

function commonPrefix(a: string, b: string): string {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  // Never cut a surrogate pair in two.
  if (i > 0 && i < a.length && (a.charCodeAt(i - 1) & 0xfc00) === 0xd800) i--;
  return a.slice(0, i);
}

function buildTable(counts: Map<number, number>): NonNullable<Position['table']> {
  const weights = new Map(counts);
  for (const [lo, hi] of CLASSES) {
    let observed = 0;
    for (const [cp, count] of counts) if (cp >= lo && cp <= hi) observed += count;
    if (observed === 0) continue;
    const share = (observed * CLASS_SHARE) / (hi - lo + 1);
    for (let cp = lo; cp <= hi; cp++) if (!counts.has(cp)) weights.set(cp, share);
  }
  const cps = [...weights.keys()].sort((a, b) => a - b);
  const before: number[] = [];
  const ws: number[] = [];
  let total = 0;
  for (const cp of cps) {
    before.push(total);
    const w = weights.get(cp) as number;
    ws.push(w);
    total += w;
  }
  return { cps, weights: ws, before, total };
}

/** @internal */
export class KeySpaceModel {
  /** The longest prefix every observed key shares, at least the listing prefix. */
  private base: string | undefined;
  private positions: Position[] = [];

  constructor(private readonly prefix: string) {}

  /** Length of the prefix every key seen shares (0 before any). */
  get baseLength(): number {
    return this.base?.length ?? 0;
  }

  /**
   * The least key past every key that starts with the base (the base with its last code point raised by one), or
   * undefined while the base is the listing prefix, past which no listed key lies. The model sees nothing beyond
   * it: keys there do not share the base, and every one of them values 1. A listing learns what lies there by
   * listing from this point.
   */
  pastBase(): string | undefined {
    const base = this.base;
    if (base === undefined || base.length <= this.prefix.length) return undefined;
    const lastIndex = base.length - ((base.charCodeAt(base.length - 1) & 0xfc00) === 0xdc00 ? 2 : 1);
    if (lastIndex < this.prefix.length) return undefined;
    const cp = base.codePointAt(lastIndex) as number;
    if (cp >= 0x10ffff) return undefined;
    const next = cp === 0xd7ff ? 0xe000 : cp + 1;
    return base.slice(0, lastIndex) + String.fromCodePoint(next);
  }

  /** Learns from the keys of one page (listing order). */
  observe(keys: readonly string[]): void {
    if (keys.length === 0) return;
    const first = keys[0] as string;
    const last = keys[keys.length - 1] as string;
    const shared = commonPrefix(commonPrefix(this.base ?? first, first), last);
    if (shared !== this.base) {
      this.base = shared.length >= this.prefix.length ? shared : this.prefix;
      this.positions = Array.from({ length: POSITIONS }, () => ({ counts: new Map(), table: undefined }));
    }
    const step = Math.max(1, Math.floor(keys.length / SAMPLES_PER_PAGE));
    for (let i = 0; i < keys.length; i += step) this.learn(keys[i] as string);
    this.learn(last);
  }

  private learn(key: string): void {
    const base = this.base as string;
    if (!key.startsWith(base)) return;
    const cps = codePoints(key, base.length, POSITIONS);
    for (let i = 0; i < POSITIONS; i++) {
      const position = this.positions[i] as Position;
      const cp = i < cps.length ? (cps[i] as number) : END;
      position.counts.set(cp, (position.counts.get(cp) ?? 0) + 1);
      position.table = undefined;
      if (cp === END) break;
    }
  }

  private table(i: number): Position['table'] {
    const position = this.positions[i];
    if (position === undefined || position.counts.size === 0) return undefined;
    position.table ??= buildTable(position.counts);
    return position.table;
  }

  /** The value of a key in [0, 1]; `undefined` as a lower bound is 0, as an upper bound 1. */
  value(key: string | undefined, bound: 'lower' | 'upper'): number {
    if (key === undefined) return bound === 'lower' ? 0 : 1;
    const base = this.base;
    if (base === undefined) return bound === 'lower' ? 0 : 1;
    if (!key.startsWith(base)) return compareKeys(key, base) < 0 ? 0 : 1;
    const cps = codePoints(key, base.length, POSITIONS);
    let value = 0;
    let width = 1;
    for (let i = 0; i < POSITIONS; i++) {
      const table = this.table(i);
      if (table === undefined) break;
      const cp = i < cps.length ? (cps[i] as number) : END;
      // Code points sorting before cp, and cp's own weight (0 when unseen: the key sits at a boundary).
      let lo = 0;
      let hi = table.cps.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((table.cps[mid] as number) < cp) lo = mid + 1;
        else hi = mid;
      }
      const below = lo < table.cps.length ? (table.before[lo] as number) : table.total;
      const own = table.cps[lo] === cp ? (table.weights[lo] as number) : 0;
      value += (width * below) / table.total;
      width *= own / table.total;
      if (own === 0 || cp === END) break;
    }
    return value;
  }

  /** A short key whose value is about `value`, or undefined when the model has seen nothing. */
  keyAt(value: number): string | undefined {
    const base = this.base;
    if (base === undefined) return undefined;
    let key = base;
    let v = Math.min(Math.max(value, 0), 1);
    for (let i = 0; i < POSITIONS; i++) {
      const table = this.table(i);
      if (table === undefined) break;
      const target = v * table.total;
      let j = 0;
      while (j + 1 < table.cps.length && (table.before[j + 1] as number) <= target) j++;
      const cp = table.cps[j] as number;
      if (cp === END) break;
      key += String.fromCodePoint(cp);
      v = Math.min(Math.max((target - (table.before[j] as number)) / (table.weights[j] as number), 0), 1);
    }
    return key;
  }
}
