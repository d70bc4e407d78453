import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { ListObjectsV2CommandInput, ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { memoryManifestWriter } from '../../src/manifest/memory-manifest-writer.js';
import { presignPipeline } from '../../src/pipeline.js';
import { compareKeys, rangePartitions } from '../../src/s3/partitioned-listing.js';
import { s3ListSource } from '../../src/s3/s3-list-source.js';
import type { S3ListSourceOptions } from '../../src/s3/s3-list-source.js';
import type { KeyPage, KeySource } from '../../src/types.js';
import { fakePresigner, sleep, within } from './pipeline-helpers.js';

// ---- a model of ListObjectsV2 over an in-memory bucket ----------------------------------------------------------

const utf8Order = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

interface StoredObject {
  readonly key: string;
  readonly size: number;
}

interface FakeS3Options {
  /** Called before each response; may wait (a hang is ended by the request's abort signal). */
  readonly before?: (input: ListObjectsV2CommandInput, call: number) => Promise<void> | void;
  /**
   * Answer `EncodingType=url` as S3 does (keys and common prefixes encoded like form fields, the parameter echoed).
   * Default true; false plays a server that ignores the parameter.
   */
  readonly encode?: boolean;
}

/** Encodes a key as S3 does for `EncodingType=url`: `/` kept, a space as `+`, everything else escaped. */
const s3UrlEncode = (key: string): string =>
  encodeURIComponent(key)
    .replace(/%2F/g, '/')
    .replace(/%20/g, '+')
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

interface FakeS3 {
  readonly client: S3Client;
  /** Inputs of every request, in the order they were sent. */
  readonly inputs: ListObjectsV2CommandInput[];
  /** The abort signal each request was given. */
  readonly signals: (AbortSignal | undefined)[];
  /** Whether each request was answered (the others failed or were aborted). */
  readonly answered: boolean[];
  /** Requests sent and not settled yet. */
  inFlight: number;
  /** The most requests in flight at once. */
  maxInFlight: number;
}

/**
 * ListObjectsV2 as S3 documents it: keys in UTF-8 byte order, `StartAfter` exclusive, `Delimiter` rolling keys up
 * into CommonPrefixes (each counted once against MaxKeys), opaque continuation tokens, `EncodingType=url`.
 */
function fakeS3(objects: readonly (string | StoredObject)[], options: FakeS3Options = {}): FakeS3 {
  const stored = objects
    .map((o) => (typeof o === 'string' ? { key: o, size: 10 } : o))
    .sort((a, b) => utf8Order(a.key, b.key));
  const tokens = new Map<string, { after: string; common: boolean }>();
  const state: FakeS3 = {
    client: undefined as unknown as S3Client,
    inputs: [],
    signals: [],
    answered: [],
    inFlight: 0,
    maxInFlight: 0,
  };

  const list = (input: ListObjectsV2CommandInput): Partial<ListObjectsV2CommandOutput> => {
    const prefix = input.Prefix ?? '';
    const max = input.MaxKeys ?? 1000;
    let after: string | undefined = input.StartAfter;
    let afterCommon = false;
    if (input.ContinuationToken !== undefined) {
      const token = tokens.get(input.ContinuationToken);
      if (token === undefined) throw new Error(`fake S3: unknown continuation token ${input.ContinuationToken}`);
      ({ after, common: afterCommon } = token);
    }
    const contents: StoredObject[] = [];
    const commonPrefixes: string[] = [];
    let last: { after: string; common: boolean } | undefined;
    let truncated = false;
    for (const object of stored) {
      if (!object.key.startsWith(prefix)) continue;
      if (after !== undefined && utf8Order(object.key, after) <= 0) continue;
      // After a common prefix, everything under it was already rolled up.
      if (afterCommon && after !== undefined && object.key.startsWith(after)) continue;
      let entry: string = object.key;
      let common = false;
      if (input.Delimiter !== undefined) {
        const at = object.key.indexOf(input.Delimiter, prefix.length);
        if (at >= 0) {
          entry = object.key.slice(0, at + input.Delimiter.length);
          common = true;
          if (commonPrefixes.at(-1) === entry) continue;
        }
      }
      if (contents.length + commonPrefixes.length >= max) {
        truncated = true;
        break;
      }
      if (common) commonPrefixes.push(entry);
      else contents.push(object);
      last = { after: entry, common };
    }
    const encoded = input.EncodingType === 'url' && options.encode !== false;
    const wire = encoded ? s3UrlEncode : (key: string): string => key;
    const output: Partial<ListObjectsV2CommandOutput> = {
      Contents: contents.map((o) => ({ Key: wire(o.key), Size: o.size })),
      KeyCount: contents.length + commonPrefixes.length,
      IsTruncated: truncated,
    };
    if (encoded) output.EncodingType = 'url';
    if (commonPrefixes.length > 0) output.CommonPrefixes = commonPrefixes.map((p) => ({ Prefix: wire(p) }));
    if (truncated && last !== undefined) {
      const token = `t${tokens.size + 1}`;
      tokens.set(token, last);
      output.NextContinuationToken = token;
    }
    return output;
  };

  const send = vi.fn(async (command: unknown, sendOptions?: { abortSignal?: AbortSignal }) => {
    expect(command).toBeInstanceOf(ListObjectsV2Command);
    const input = (command as ListObjectsV2Command).input;
    const call = state.inputs.push(input) - 1;
    const signal = sendOptions?.abortSignal;
    state.signals.push(signal);
    state.answered.push(false);
    state.inFlight += 1;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    try {
      const aborted = new Promise<never>((_, reject) => {
        const fail = (): void => reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
        if (signal?.aborted) fail();
        signal?.addEventListener('abort', fail, { once: true });
      });
      aborted.catch(() => {});
      await Promise.race([Promise.resolve(options.before?.(input, call)), aborted]);
      await Promise.race([sleep(0), aborted]);
      const output = list(input);
      state.answered[call] = true;
      return output;
    } finally {
      state.inFlight -= 1;
    }
  });
  (state as { client: S3Client }).client = { send } as unknown as S3Client;
  return state;
}

async function collect(source: KeySource, signal = new AbortController().signal): Promise<KeyPage[]> {
  const pages: KeyPage[] = [];
  for await (const p of source.pages({ signal })) pages.push(p);
  return pages;
}

const sortedUtf8 = (keys: readonly string[]): string[] => [...keys].sort(utf8Order);
const never = (): Promise<void> => new Promise(() => {});

/** A source over the fake's prefix `p/` in bucket `b`, with `options` (page size, partitions, …). */
function sourceOver(s3: FakeS3, options: Partial<S3ListSourceOptions>) {
  return s3ListSource({ client: s3.client, bucket: 'b', prefix: 'p/', ...options });
}

/** Which range a key belongs to: (−∞, b0] → 0, (b0, b1] → 1, …, (bn−1, +∞) → n. */
function rangeOf(key: string, boundaries: readonly string[]): number {
  const i = boundaries.findIndex((b) => utf8Order(key, b) <= 0);
  return i === -1 ? boundaries.length : i;
}

/** Asserts every page lies within one range and, per range, the keys come out in S3 order. */
function expectRangeOrder(pages: readonly KeyPage[], boundaries: readonly string[]): void {
  const perRange = new Map<number, string[]>();
  for (const p of pages) {
    const ranges = new Set(p.keys.map((k) => rangeOf(k, boundaries)));
    expect(ranges.size).toBeLessThanOrEqual(1);
    for (const key of p.keys) {
      const list = perRange.get(rangeOf(key, boundaries)) ?? [];
      list.push(key);
      perRange.set(rangeOf(key, boundaries), list);
    }
  }
  for (const keys of perRange.values()) expect(keys).toEqual(sortedUtf8(keys));
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('s3ListSource partitions', () => {
  describe('options', () => {
    const client = { send: vi.fn(async () => ({})) } as unknown as S3Client;

    it.each([
      ['partitions', { partitions: 'range' }, TypeError],
      ['partitions', { partitions: null }, TypeError],
      ['partitions.by', { partitions: {} }, TypeError],
      ['partitions.by', { partitions: { by: 'prefix' } }, TypeError],
      ['partitions.concurrency', { partitions: { by: 'delimiter', concurrency: 0 } }, RangeError],
      ['partitions.concurrency', { partitions: { by: 'delimiter', concurrency: 257 } }, RangeError],
      ['partitions.concurrency', { partitions: { by: 'delimiter', concurrency: 1.5 } }, RangeError],
      ['partitions.concurrency', { partitions: { by: 'delimiter', concurrency: '8' } }, TypeError],
      ['partitions.delimiter', { partitions: { by: 'delimiter', delimiter: '' } }, TypeError],
      ['partitions.delimiter', { partitions: { by: 'delimiter', delimiter: 1 } }, TypeError],
      ['partitions.boundaries', { partitions: { by: 'delimiter', boundaries: ['p/m'] } }, TypeError],
      ['partitions.delimiter', { partitions: { by: 'range', boundaries: ['p/m'], delimiter: '/' } }, TypeError],
      ['partitions.count', { partitions: { by: 'range', count: 8 } }, TypeError],
      ['partitions.boundaries', { partitions: { by: 'range' } }, TypeError],
      ['partitions.boundaries', { partitions: { by: 'range', boundaries: [] } }, TypeError],
      ['partitions.boundaries', { partitions: { by: 'range', boundaries: 'p/m' } }, TypeError],
      ['partitions.boundaries\\[1\\]', { partitions: { by: 'range', boundaries: ['p/a', 7] } }, TypeError],
      ['partitions.boundaries\\[0\\]', { partitions: { by: 'range', boundaries: [''] } }, TypeError],
      ['partitions.boundaries\\[1\\]', { partitions: { by: 'range', boundaries: ['p/a', 'q/b'] } }, RangeError],
      ['partitions.boundaries\\[1\\]', { partitions: { by: 'range', boundaries: ['p/m', 'p/c'] } }, RangeError],
      ['partitions.boundaries\\[2\\]', { partitions: { by: 'range', boundaries: ['p/a', 'p/b', 'p/b'] } }, RangeError],
      // U+FFFF sorts before U+1F600 in S3 (UTF-8) although not in UTF-16: given the other way round, refused.
      ['partitions.boundaries\\[1\\]', { partitions: { by: 'range', boundaries: ['p/😀', 'p/\uffff'] } }, RangeError],
      ['startAfter', { startAfter: 'p/k', partitions: { by: 'delimiter' } }, RangeError],
    ])('rejects a bad %s at creation, naming it, before any request', (name, bad, type) => {
      // Prepare
      const options = { client, bucket: 'b', prefix: 'p/', ...bad } as unknown as S3ListSourceOptions;
      // Act + Assess
      expect(() => s3ListSource(options)).toThrow(type);
      expect(() => s3ListSource(options)).toThrow(new RegExp(`${name}(?!\\w)`));
      expect(client.send).not.toHaveBeenCalled();
    });

    it('accepts the defaults, the bounds of concurrency, an empty startAfter and boundaries in UTF-8 order', () => {
      const ok = (partitions: unknown, extra: object = {}): void => {
        expect(() =>
          s3ListSource({ client, bucket: 'b', prefix: 'p/', partitions, ...extra } as unknown as S3ListSourceOptions),
        ).not.toThrow();
      };
      ok({ by: 'delimiter' });
      ok({ by: 'delimiter', concurrency: 1, delimiter: '-' });
      ok({ by: 'range', boundaries: ['p/m'], concurrency: 256 });
      ok({ by: 'range', boundaries: ['p/\uffff', 'p/😀'] });
      ok({ by: 'delimiter' }, { startAfter: '' });
    });
  });

  describe('planning', () => {
    it('cuts n boundaries into n + 1 ranges, each starting after the boundary before it and ending with its own', () => {
      expect(rangePartitions('p/', ['p/g', 'p/n'])).toEqual([
        { prefix: 'p/', last: 'p/g' },
        { prefix: 'p/', startAfter: 'p/g', last: 'p/n' },
        { prefix: 'p/', startAfter: 'p/n' },
      ]);
    });

    it('compares keys in S3 order (UTF-8 bytes), not UTF-16 order', () => {
      // Prepare: strings over the whole of Unicode, biased towards the surrogate / U+E000.. clash.
      const char = fc.oneof(
        fc.constantFrom('a', 'z', '/', '\u00e9', '\ud7ff', '\ue000', '\uffff', '😀', '\u{10ffff}', '\u{10000}'),
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
      );
      const key = fc.array(char, { maxLength: 6 }).map((chars) => chars.join(''));
      // Act + Assess
      fc.assert(
        fc.property(key, key, (a, b) => {
          expect(Math.sign(compareKeys(a, b))).toBe(Math.sign(utf8Order(a, b)));
        }),
        { numRuns: 5_000 },
      );
      expect('\uffff' < '😀').toBe(false); // JavaScript's own order gets this pair wrong …
      expect(compareKeys('\uffff', '😀')).toBeLessThan(0); // … S3's order does not
    });
  });

  describe('by range', () => {
    // Keys equal to boundaries, keys that are prefixes of boundaries, keys just past them.
    const boundaries = ['p/b', 'p/d', 'p/f/'];
    const keys = [
      'p/a',
      'p/b',
      'p/b ',
      'p/b0',
      'p/ba',
      'p/c',
      'p/d',
      'p/d/',
      'p/d/x',
      'p/e',
      'p/f',
      'p/f/',
      'p/f/a',
      'p/g',
      'p/z',
      'p/😀',
      'p/\uffff',
      'o/outside',
      'q/outside',
    ];

    it('lists every key under the prefix exactly once, a boundary key in the range below it', async () => {
      // Prepare
      const s3 = fakeS3(keys);
      const source = sourceOver(s3, {
        pageSize: 2,
        partitions: { by: 'range', boundaries },
      });

      // Act
      const pages = await collect(source);

      // Assess
      const listed = pages.flatMap((p) => p.keys);
      expect(sortedUtf8(listed)).toEqual(sortedUtf8(keys.filter((k) => k.startsWith('p/'))));
      expect(new Set(listed).size).toBe(listed.length);
      expectRangeOrder(pages, boundaries);
      // Where each boundary key went: the page that holds it also holds keys of the range below, never above.
      const pageOf = (key: string): KeyPage | undefined => pages.find((p) => p.keys.includes(key));
      expect(pageOf('p/b')?.keys).toEqual(['p/a', 'p/b']);
      expect(pageOf('p/d')?.keys).toEqual(['p/d']); // range 1 in pages of 2: [b␠, b0], [ba, c], [d]
      expect(pageOf('p/f/')?.keys).toEqual(['p/f/']); // range 2: [d/, d/x], [e, f], [f/]
      for (const p of pages) expect(p).not.toHaveProperty('cursor');
    });

    it('starts each range after the previous boundary and stops a range at the first key past its own', async () => {
      // Prepare
      const s3 = fakeS3(keys);
      const source = sourceOver(s3, {
        pageSize: 1000,
        partitions: { by: 'range', boundaries, concurrency: 1 },
      });

      // Act
      const pages = await collect(source);

      // Assess: one request per range, with concurrency 1 in range order; ranges past their end stop listing.
      expect(s3.inputs).toEqual([
        { Bucket: 'b', Prefix: 'p/', MaxKeys: 1000, EncodingType: 'url' },
        { Bucket: 'b', Prefix: 'p/', MaxKeys: 1000, StartAfter: 'p/b', EncodingType: 'url' },
        { Bucket: 'b', Prefix: 'p/', MaxKeys: 1000, StartAfter: 'p/d', EncodingType: 'url' },
        { Bucket: 'b', Prefix: 'p/', MaxKeys: 1000, StartAfter: 'p/f/', EncodingType: 'url' },
      ]);
      expect(pages.map((p) => p.keys)).toEqual([
        ['p/a', 'p/b'],
        ['p/b ', 'p/b0', 'p/ba', 'p/c', 'p/d'],
        ['p/d/', 'p/d/x', 'p/e', 'p/f', 'p/f/'],
        ['p/f/a', 'p/g', 'p/z', 'p/\uffff', 'p/😀'],
      ]);
    });

    it('stops a range without requesting further pages once it listed past its end', async () => {
      // Prepare: range 0 ends at p/b, and the next page of the prefix would still be under p/.
      const s3 = fakeS3(['p/a', 'p/b', 'p/c', 'p/d', 'p/e', 'p/f']);
      const source = sourceOver(s3, {
        pageSize: 3,
        partitions: { by: 'range', boundaries: ['p/b'], concurrency: 1 },
      });

      // Act
      const pages = await collect(source);

      // Assess: range 0 made one request (a, b, c → c is past p/b); range 1 two (c d e, f).
      expect(pages.map((p) => p.keys)).toEqual([['p/a', 'p/b'], ['p/c', 'p/d', 'p/e'], ['p/f']]);
      expect(s3.inputs).toHaveLength(3);
    });

    it('equals sequential listing for any keys, boundaries, page size and concurrency (property)', async () => {
      const char = fc.constantFrom('a', 'b', 'm', '/', ' ', '0', '\u00e9', '\uffff', '😀', '\r', '+', '%');
      const name = fc.array(char, { minLength: 1, maxLength: 4 }).map((chars) => `p/${chars.join('')}`);
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(name, { maxLength: 40 }),
          fc.uniqueArray(name, { minLength: 1, maxLength: 6 }),
          fc.integer({ min: 1, max: 5 }),
          fc.integer({ min: 1, max: 4 }),
          fc.boolean(),
          fc.boolean(),
          async (keys, cut, pageSize, concurrency, useKeysAsBoundaries, encode) => {
            // Prepare: boundaries are often existing keys, the case that breaks an off-by-one.
            const pool = useKeysAsBoundaries && keys.length > 0 ? [...keys.slice(0, 3), ...cut] : cut;
            const boundaries = [...new Set(pool)].sort(utf8Order);
            const all = [...keys, 'o/other', 'q/other'];
            const sequential = await collect(
              s3ListSource({ client: fakeS3(all, { encode }).client, bucket: 'b', prefix: 'p/', pageSize }),
            );
            const s3 = fakeS3(all, { encode });

            // Act
            const pages = await collect(
              sourceOver(s3, {
                pageSize,
                partitions: { by: 'range', boundaries, concurrency },
              }),
            );

            // Assess
            expect(sequential.flatMap((p) => p.keys)).toEqual(sortedUtf8(keys));
            expect(sortedUtf8(pages.flatMap((p) => p.keys))).toEqual(sequential.flatMap((p) => p.keys));
            expectRangeOrder(pages, boundaries);
            expect(s3.maxInFlight).toBeLessThanOrEqual(concurrency);
          },
        ),
        { numRuns: 300 },
      );
    });
  });

  describe('by delimiter', () => {
    const keys = [
      'p/top-1.pdf',
      'p/top-2.txt',
      'p/',
      'p/a/1.pdf',
      'p/a/2.pdf',
      'p/a/deep/3.pdf',
      'p/b/1.pdf',
      'p/b/',
      'p/c/x/y/z.pdf',
      'p/d//double.pdf',
      'p/e space/1.pdf',
      'p/cr\r/1.pdf',
      'p/a+b%2B/1.pdf',
      'p/ü/1.pdf',
      'p/😀/1.pdf',
      'p/z-last.pdf',
      'other/1.pdf',
    ];
    const markers = new Set(['p/', 'p/b/']);
    const objects = keys.map((key) => ({ key, size: markers.has(key) ? 0 : 5 }));

    it('lists the keys directly under the prefix and every common prefix in full, each key once', async () => {
      // Prepare
      const s3 = fakeS3(objects);
      const source = sourceOver(s3, {
        pageSize: 2,
        includeDirectoryMarkers: true,
        partitions: { by: 'delimiter', concurrency: 3 },
      });

      // Act
      const pages = await collect(source);

      // Assess
      const listed = pages.flatMap((p) => p.keys);
      expect(sortedUtf8(listed)).toEqual(sortedUtf8(keys.filter((k) => k.startsWith('p/'))));
      expect(new Set(listed).size).toBe(listed.length);
      const rooted = s3.inputs.filter((i) => i.Delimiter !== undefined);
      expect(rooted.every((i) => i.Prefix === 'p/' && i.Delimiter === '/')).toBe(true);
      // Every request asks for encoded keys; the common prefixes came back encoded and are listed decoded.
      expect(s3.inputs.every((i) => i.EncodingType === 'url')).toBe(true);
      const partitionPrefixes = [...new Set(s3.inputs.filter((i) => i.Delimiter === undefined).map((i) => i.Prefix))];
      expect(sortedUtf8(partitionPrefixes as string[])).toEqual(
        sortedUtf8(['p/a/', 'p/b/', 'p/c/', 'p/d/', 'p/e space/', 'p/cr\r/', 'p/a+b%2B/', 'p/ü/', 'p/😀/']),
      );
      // Each page holds keys of one partition, in order.
      const partitionOf = (key: string): string => {
        const at = key.indexOf('/', 2);
        return at === -1 ? '(root)' : key.slice(0, at + 1);
      };
      const perPartition = new Map<string, string[]>();
      for (const p of pages) {
        expect(new Set(p.keys.map(partitionOf)).size).toBeLessThanOrEqual(1);
        for (const key of p.keys)
          perPartition.set(partitionOf(key), [...(perPartition.get(partitionOf(key)) ?? []), key]);
      }
      for (const list of perPartition.values()) expect(list).toEqual(sortedUtf8(list));
      expect(s3.maxInFlight).toBeLessThanOrEqual(3);
    });

    it('takes keys and common prefixes as they are from a server that ignores EncodingType=url', async () => {
      // Prepare: names that would change if they were decoded.
      const raw = ['p/a%2Bb/1', 'p/a+b/2', 'p/c%0D/3', 'p/top%20.pdf'];
      const s3 = fakeS3(raw, { encode: false });

      // Act
      const pages = await collect(
        s3ListSource({ client: s3.client, bucket: 'b', prefix: 'p/', partitions: { by: 'delimiter' } }),
      );

      // Assess
      expect(s3.inputs.every((i) => i.EncodingType === 'url')).toBe(true);
      expect(sortedUtf8(pages.flatMap((p) => p.keys))).toEqual(sortedUtf8(raw));
      expect(sortedUtf8(s3.inputs.filter((i) => i.Delimiter === undefined).map((i) => i.Prefix as string))).toEqual(
        sortedUtf8(['p/a%2Bb/', 'p/a+b/', 'p/c%0D/']),
      );
    });

    it('applies the filter and skips directory markers as sequential listing does, on every partition', async () => {
      // Prepare
      const options = {
        bucket: 'b',
        prefix: 'p/',
        pageSize: 3,
        filter: (k: string) => k.endsWith('.pdf') || k.endsWith('/'),
      };
      const sequential = await collect(s3ListSource({ client: fakeS3(objects).client, ...options }));

      // Act
      const pages = await collect(
        s3ListSource({ client: fakeS3(objects).client, ...options, partitions: { by: 'delimiter' } }),
      );

      // Assess
      const listed = sortedUtf8(pages.flatMap((p) => p.keys));
      expect(listed).toEqual(sequential.flatMap((p) => p.keys));
      expect(listed).not.toContain('p/'); // zero-byte markers, even though the filter would keep them
      expect(listed).not.toContain('p/b/');
      expect(listed).not.toContain('p/top-2.txt');
      expect(listed).toContain('p/d//double.pdf');
    });

    it('splits at a custom delimiter', async () => {
      // Prepare
      const s3 = fakeS3(['p/2026-01-a', 'p/2026-01-b', 'p/2026-02-a', 'p/2027-01-a', 'p/plain']);

      // Act
      const pages = await collect(
        s3ListSource({ client: s3.client, bucket: 'b', prefix: 'p/', partitions: { by: 'delimiter', delimiter: '-' } }),
      );

      // Assess
      expect(sortedUtf8(pages.flatMap((p) => p.keys))).toEqual([
        'p/2026-01-a',
        'p/2026-01-b',
        'p/2026-02-a',
        'p/2027-01-a',
        'p/plain',
      ]);
      expect(
        s3.inputs
          .filter((i) => i.Delimiter === undefined)
          .map((i) => i.Prefix)
          .sort(),
      ).toEqual(['p/2026-', 'p/2027-']);
    });

    it('yields one empty page for an empty prefix', async () => {
      const pages = await collect(
        s3ListSource({ client: fakeS3(['x/1']).client, bucket: 'b', prefix: 'p/', partitions: { by: 'delimiter' } }),
      );
      expect(pages).toEqual([{ bucket: 'b', keys: [] }]);
    });

    it('lists discovered partitions while the delimiter listing is still paging', async () => {
      // Prepare: the delimiter listing's second page is held back until some partition has been listed.
      const subPrefixes = Array.from({ length: 6 }, (_, i) => `p/${i}/`);
      let partitionListed!: () => void;
      const listedOne = new Promise<void>((resolve) => {
        partitionListed = resolve;
      });
      const s3 = fakeS3(
        subPrefixes.flatMap((sp) => [`${sp}a`, `${sp}b`]),
        {
          before: async (input) => {
            if (input.Delimiter === undefined) partitionListed();
            else if (input.ContinuationToken !== undefined) await listedOne;
          },
        },
      );

      // Act
      const pages = await within(
        collect(
          s3ListSource({ client: s3.client, bucket: 'b', prefix: 'p/', pageSize: 2, partitions: { by: 'delimiter' } }),
        ),
        5_000,
        'the listing',
      );

      // Assess
      expect(pages.flatMap((p) => p.keys)).toHaveLength(12);
      const firstPartition = s3.inputs.findIndex((i) => i.Delimiter === undefined);
      const secondRootPage = s3.inputs.findIndex((i) => i.Delimiter !== undefined && i.ContinuationToken !== undefined);
      expect(firstPartition).toBeLessThan(secondRootPage);
    });
  });

  describe('concurrency and backpressure', () => {
    /** Eight sub-prefixes of 20 keys each: many pages per partition at pageSize 2. */
    const many = Array.from({ length: 8 }, (_, p) =>
      Array.from({ length: 20 }, (_, k) => `p/${p}/${String(k).padStart(2, '0')}`),
    ).flat();

    it('keeps `concurrency` requests in flight when the consumer keeps up', async () => {
      // Prepare: every response waits a little, so requests overlap if the source lets them.
      const s3 = fakeS3(many, { before: () => sleep(5) });

      // Act
      const pages = await collect(
        sourceOver(s3, {
          pageSize: 2,
          partitions: { by: 'delimiter', concurrency: 4 },
        }),
      );

      // Assess
      expect(pages.flatMap((p) => p.keys)).toHaveLength(many.length);
      expect(s3.maxInFlight).toBe(4);
    });

    it('does not run ahead of a consumer that stops pulling: at most `concurrency` pages in flight or waiting', async () => {
      // Prepare
      const s3 = fakeS3(many);
      const source = sourceOver(s3, {
        pageSize: 2,
        partitions: { by: 'range', boundaries: ['p/1', 'p/3', 'p/5'], concurrency: 3 },
      });
      const iterator = source.pages({ signal: new AbortController().signal })[Symbol.asyncIterator]();

      // Act: take one page, then let the listing run as far as it will.
      await iterator.next();
      await sleep(50);
      const afterOne = s3.inputs.length;
      await sleep(50);
      const later = s3.inputs.length;
      await iterator.next();
      await sleep(50);
      const afterTwo = s3.inputs.length;

      // Assess: the page handed out freed one permit, so 1 + 3 requests; each further page frees exactly one more.
      expect(afterOne).toBe(4);
      expect(later).toBe(afterOne);
      expect(afterTwo).toBe(5);
      await iterator.return?.(undefined);
    });

    it('bounds the common prefixes it holds: the delimiter listing pauses while 1000 wait to be listed', async () => {
      // Prepare: 1,500 single-key sub-prefixes, 100 per delimiter page; partitions answer a little slower.
      const keys = Array.from({ length: 1500 }, (_, i) => `p/${String(i).padStart(4, '0')}/k`);
      const s3 = fakeS3(keys, { before: (input) => (input.Delimiter === undefined ? sleep(0) : undefined) });
      const source = sourceOver(s3, {
        pageSize: 100,
        partitions: { by: 'delimiter', concurrency: 2 },
      });

      // Act
      const pages = await within(collect(source), 20_000, 'the listing');

      // Assess: all keys once, and whenever a delimiter page was requested, the common prefixes discovered but not
      // yet being listed numbered at most 1000 (each partition is one request here).
      const listed = pages.flatMap((p) => p.keys);
      expect(listed).toHaveLength(1500);
      expect(new Set(listed).size).toBe(1500);
      let discovered = 0;
      let started = 0;
      let mostWaiting = 0;
      for (const input of s3.inputs) {
        if (input.Delimiter === undefined) {
          started += 1;
          continue;
        }
        mostWaiting = Math.max(mostWaiting, discovered - started);
        discovered += 100;
      }
      expect(s3.inputs.filter((i) => i.Delimiter !== undefined)).toHaveLength(15);
      expect(mostWaiting).toBeLessThanOrEqual(1000);
      expect(mostWaiting).toBeGreaterThan(800); // it did run well ahead of the partitions, up to the bound
    });
  });

  describe('failure, abort, early stop', () => {
    const keys = Array.from({ length: 8 }, (_, p) => [`p/${p}/a`, `p/${p}/b`]).flat();

    it('throws the first partition error at once, unchanged, and cancels the other requests in flight', async () => {
      // Prepare: the partition p/3/ is refused; every other partition request hangs until it is aborted.
      const denied = Object.assign(new Error('Access Denied'), {
        name: 'AccessDenied',
        $metadata: { httpStatusCode: 403 },
      });
      const s3 = fakeS3(keys, {
        before: async (input) => {
          if (input.Delimiter !== undefined) return;
          if (input.Prefix === 'p/3/') {
            await sleep(10);
            throw denied;
          }
          await never();
        },
      });
      const source = sourceOver(s3, { partitions: { by: 'delimiter', concurrency: 8 } });

      // Act
      const error = await within(
        collect(source).then(
          () => undefined,
          (e: unknown) => e,
        ),
        5_000,
        'the failing listing',
      );

      // Assess
      expect(error).toBe(denied);
      const partitionSignals = s3.signals.filter((_, i) => s3.inputs[i]?.Delimiter === undefined);
      expect(partitionSignals).toHaveLength(8);
      // Each request has a signal of its own: the 7 left hanging were aborted, the refused one had settled.
      const hanging = partitionSignals.filter(
        (_, i) => s3.inputs.filter((input) => input.Delimiter === undefined)[i]?.Prefix !== 'p/3/',
      );
      expect(hanging).toHaveLength(7);
      expect(hanging.every((s) => s?.aborted === true)).toBe(true);
      expect(new Set(partitionSignals).size).toBe(8);
      await vi.waitFor(() => expect(s3.inFlight).toBe(0));
    });

    it('throws the error even while pages wait to be taken (no draining first)', async () => {
      // Prepare: ranges 0 and 1 answer at once; range 2 (after p/5) fails when the test says so.
      const boom = new Error('InternalError');
      let failNow!: () => void;
      const failing = new Promise<void>((resolve) => {
        failNow = resolve;
      });
      const s3 = fakeS3(keys, {
        before: async (input) => {
          if (input.StartAfter !== 'p/5') return;
          await failing;
          throw boom;
        },
      });
      const source = sourceOver(s3, {
        pageSize: 1,
        partitions: { by: 'range', boundaries: ['p/2', 'p/5'], concurrency: 3 },
      });
      const iterator = source.pages({ signal: new AbortController().signal })[Symbol.asyncIterator]();

      // Act: take a page, let the two free permits fill with pages, then fail range 2.
      const first = await iterator.next();
      await vi.waitFor(() => expect(s3.inputs).toHaveLength(4));
      await sleep(10);
      failNow();
      await sleep(10);
      const second = await iterator.next().then(
        () => 'a page',
        (e: unknown) => e,
      );

      // Assess: two pages were waiting (3 requests at first, 1 more for the permit the first page freed; range 2
      // held the third permit), yet the failure came out first.
      expect(first.done).toBe(false);
      expect(s3.inputs).toHaveLength(4);
      expect(second).toBe(boom);
    });

    it('aborts every request in flight and throws an AbortError when the run is aborted', async () => {
      // Prepare
      const s3 = fakeS3(keys, { before: (input) => (input.Delimiter === undefined ? never() : undefined) });
      const controller = new AbortController();
      const listing = collect(
        s3ListSource({ client: s3.client, bucket: 'b', prefix: 'p/', partitions: { by: 'delimiter', concurrency: 4 } }),
        controller.signal,
      );
      await vi.waitFor(() => expect(s3.inFlight).toBe(4));
      const sent = s3.inputs.length;

      // Act
      controller.abort(new Error('user cancelled'));

      // Assess
      await expect(within(listing, 5_000, 'the aborted listing')).rejects.toMatchObject({ name: 'AbortError' });
      await vi.waitFor(() => expect(s3.inFlight).toBe(0));
      const unanswered = s3.signals.filter((_, i) => !s3.answered[i]);
      expect(unanswered).toHaveLength(4);
      expect(unanswered.every((s) => s?.aborted === true)).toBe(true);
      await sleep(20);
      expect(s3.inputs).toHaveLength(sent);
    });

    it('sends nothing when the signal is already aborted', async () => {
      const s3 = fakeS3(keys);
      const controller = new AbortController();
      controller.abort();
      await expect(
        collect(
          s3ListSource({ client: s3.client, bucket: 'b', prefix: 'p/', partitions: { by: 'delimiter' } }),
          controller.signal,
        ),
      ).rejects.toMatchObject({ name: 'AbortError' });
      expect(s3.inputs).toHaveLength(0);
    });

    it('cancels the requests in flight when the consumer stops early', async () => {
      // Prepare: after the first partition page, partition requests hang.
      let partitionRequests = 0;
      const s3 = fakeS3(keys, {
        before: (input) => {
          if (input.Delimiter !== undefined) return undefined;
          partitionRequests += 1;
          return partitionRequests === 1 ? undefined : never();
        },
      });
      const source = sourceOver(s3, {
        pageSize: 1,
        partitions: { by: 'delimiter', concurrency: 4 },
      });

      // Act
      for await (const p of source.pages({ signal: new AbortController().signal })) {
        if (p.keys.length > 0) break;
      }

      // Assess
      await vi.waitFor(() => expect(s3.inFlight).toBe(0));
      const unanswered = s3.signals.filter((_, i) => !s3.answered[i]);
      expect(unanswered.length).toBeGreaterThan(0);
      expect(unanswered.filter((s) => s?.aborted !== true)).toHaveLength(0);
    });

    it('fails loudly when S3 says truncated but gives no continuation token', async () => {
      const client = {
        send: vi.fn(async () => ({ Contents: [{ Key: 'p/a', Size: 1 }], IsTruncated: true })),
      } as unknown as S3Client;
      await expect(
        collect(s3ListSource({ client, bucket: 'b', prefix: 'p/', partitions: { by: 'range', boundaries: ['p/m'] } })),
      ).rejects.toMatchObject({
        code: 'MALFORMED_RESPONSE',
        message: expect.stringMatching(/of partition "p\/".*the answer is truncated but has no NextContinuationToken$/),
      });
    });
  });

  describe('in the pipeline', () => {
    it('stops at the deadline with complete: false and no nextStartAfter (partitioned pages have no cursor)', async () => {
      // Prepare: a clock the test moves; the third request lands after the deadline.
      let now = 1_000_000;
      vi.spyOn(Date, 'now').mockImplementation(() => now);
      const keys = Array.from({ length: 40 }, (_, i) => `p/${i % 4}/${String(i).padStart(2, '0')}`);
      const options = { bucket: 'b', prefix: 'p/', pageSize: 2 };
      const run = async (partitioned: boolean) => {
        now = 1_000_000;
        const s3 = fakeS3(keys, {
          before: (_input, call) => {
            if (call === 2) now += 10_000;
          },
        });
        const source = s3ListSource({
          client: s3.client,
          ...options,
          ...(partitioned ? { partitions: { by: 'delimiter' as const, concurrency: 1 } } : {}),
        });
        return within(
          presignPipeline({
            source,
            presigner: fakePresigner(),
            manifest: memoryManifestWriter(),
            deadline: now + 5_000,
          }),
          5_000,
        );
      };

      // Act
      const sequential = await run(false);
      const partitioned = await run(true);

      // Assess: the same cut gives a resume point sequentially, none when partitioned.
      expect(sequential.complete).toBe(false);
      expect(sequential.nextStartAfter).toBeDefined();
      expect(partitioned.complete).toBe(false);
      expect(partitioned.count).toBeGreaterThan(0);
      expect(partitioned.count).toBeLessThan(keys.length);
      expect(partitioned).not.toHaveProperty('nextStartAfter');
    });

    it('presigns every key once with a partitioned source', async () => {
      const keys = Array.from({ length: 300 }, (_, i) => `p/${i % 16}/${i}.pdf`);
      const manifest = memoryManifestWriter();
      const result = await presignPipeline({
        source: s3ListSource({
          client: fakeS3(keys).client,
          bucket: 'b',
          prefix: 'p/',
          pageSize: 7,
          partitions: { by: 'delimiter' },
        }),
        presigner: fakePresigner(),
        manifest,
      });
      expect(result).toMatchObject({ complete: true, count: 300 });
      expect(manifest.entries.map((e) => e.key).sort()).toEqual([...keys].sort());
    });
  });

  it('works with a real S3Client (mocked transport), passing each request its own input', async () => {
    // Prepare
    const client = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 's' } });
    const mock = mockClient(client);
    mock
      .on(ListObjectsV2Command, { StartAfter: 'p/m' })
      .resolves({
        Contents: [
          { Key: 'p/n', Size: 1 },
          { Key: 'p/z', Size: 1 },
        ],
        IsTruncated: false,
      })
      .on(ListObjectsV2Command, { Prefix: 'p/', StartAfter: undefined })
      .resolves({
        Contents: [
          { Key: 'p/a', Size: 1 },
          { Key: 'p/m', Size: 1 },
          { Key: 'p/n', Size: 1 },
        ],
        IsTruncated: true,
        NextContinuationToken: 't',
      });

    // Act
    const pages = await collect(
      s3ListSource({ client, bucket: 'b', prefix: 'p/', partitions: { by: 'range', boundaries: ['p/m'] } }),
    );

    // Assess: range 0 stopped at p/n without following its continuation token.
    expect(sortedUtf8(pages.flatMap((p) => p.keys))).toEqual(['p/a', 'p/m', 'p/n', 'p/z']);
    expect(mock.commandCalls(ListObjectsV2Command)).toHaveLength(2);
    mock.restore();
  });
});
