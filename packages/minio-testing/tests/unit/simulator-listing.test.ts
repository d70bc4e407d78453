import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { awsChunkedDecoder } from '../../src/simulator/request-body.js';
import { compareUtf8, keySpaceOf, type KeySpace, type SimulatedKeySet } from '../../src/simulator/key-layouts.js';
import {
  encodeUrlValue,
  listPage,
  type ListObjectsV2Query,
  parseListQuery,
} from '../../src/simulator/list-objects-v2.js';
import { listUploadsPage, parseListUploadsQuery } from '../../src/simulator/list-multipart-uploads.js';
import type { SimulatedUpload } from '../../src/simulator/object-store.js';
import { PrefixRateLimiter, rateLimitPrefix } from '../../src/simulator/rate-limiter.js';

const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** Every page of a listing with the simulator's paging, following its continuation tokens. */
function allPages(space: KeySpace, query: Omit<ListObjectsV2Query, 'continuationToken'>) {
  const pages = [];
  let token: string | undefined;
  do {
    const page = listPage(space, { ...query, ...(token ? { continuationToken: token } : {}) });
    pages.push({
      keys: page.contents.map((c) => c.key),
      prefixes: [...page.commonPrefixes],
      truncated: page.isTruncated,
    });
    token = page.nextContinuationToken;
    if (pages.length > 10_000) throw new Error('listing does not end');
  } while (token);
  return pages;
}

/** The listing by definition, over the materialised keys: filter, roll up, cut into pages. */
function referencePages(keys: readonly string[], query: Omit<ListObjectsV2Query, 'continuationToken'>) {
  const sorted = [...new Set(keys)].sort(byteOrder);
  const entries: { value: string; isPrefix: boolean }[] = [];
  for (const key of sorted) {
    if (!key.startsWith(query.prefix)) continue;
    if (query.startAfter !== undefined && byteOrder(key, query.startAfter) <= 0) continue;
    const cut = query.delimiter ? key.indexOf(query.delimiter, query.prefix.length) : -1;
    if (cut === -1) entries.push({ value: key, isPrefix: false });
    else {
      const prefix = key.slice(0, cut + query.delimiter.length);
      if (entries.at(-1)?.value !== prefix) entries.push({ value: prefix, isPrefix: true });
    }
  }
  const size = Math.min(query.maxKeys, 1000);
  if (size === 0) return [{ keys: [], prefixes: [], truncated: false }];
  const pages = [];
  for (let i = 0; i === 0 || i < entries.length; i += size) {
    const slice = entries.slice(i, i + size);
    pages.push({
      keys: slice.filter((e) => !e.isPrefix).map((e) => e.value),
      prefixes: slice.filter((e) => e.isPrefix).map((e) => e.value),
      truncated: i + size < entries.length,
    });
  }
  return pages;
}

const awkwardChar = fc.constantFrom(
  'a',
  'b',
  '/',
  ' ',
  '+',
  '%',
  '\r',
  '\n',
  '\u0001',
  'é',
  '\u{1F600}',
  '\uFFFD',
  '~',
  '0',
  '.',
  '-',
);
const awkwardKey = fc.array(awkwardChar, { minLength: 1, maxLength: 6 }).map((chars) => chars.join(''));

describe('simulator listing', () => {
  it('compares strings in UTF-8 byte order, as S3 lists', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        expect(Math.sign(compareUtf8(a, b))).toBe(Math.sign(byteOrder(a, b)));
      }),
    );
  });

  it('pages an explicit key set exactly as the definition does, for any prefix, delimiter, start-after and page size', () => {
    fc.assert(
      fc.property(
        fc.array(awkwardKey, { minLength: 0, maxLength: 40 }),
        fc.constantFrom('', 'a', 'a/', ' ', '%'),
        fc.constantFrom('', '/', ' ', 'b'),
        fc.option(awkwardKey, { nil: undefined }),
        fc.constantFrom(0, 1, 2, 3, 7, 1000),
        (keys, prefix, delimiter, startAfter, maxKeys) => {
          const query = { prefix, delimiter, maxKeys, ...(startAfter ? { startAfter } : {}) };
          const space = keySpaceOf({ layout: 'keys', keys: keys.length ? keys : ['z'] });
          const material = keys.length ? keys : ['z'];
          expect(allPages(space, query)).toEqual(referencePages(material, query));
        },
      ),
      { numRuns: 300 },
    );
  });

  const layouts: SimulatedKeySet[] = [
    { layout: 'flat', count: 5_000, prefix: 'data/' },
    { layout: 'skewed', count: 5_000 },
    { layout: 'long-prefix', count: 3_000 },
    { layout: 'dated', count: 4_000, prefix: 'logs/' },
    { layout: 'handful' },
  ];
  it.each(layouts)(
    'generates $layout keys strictly increasing in byte order, and lists them as the definition does',
    (spec) => {
      const space = keySpaceOf(spec);
      const keys = Array.from({ length: space.count }, (_, i) => space.keyAt(i));
      for (let i = 1; i < keys.length; i += 1) expect(byteOrder(keys[i - 1]!, keys[i]!)).toBeLessThan(0);
      const middle = keys[Math.floor(keys.length / 2)]!;
      for (const query of [
        { prefix: '', delimiter: '', maxKeys: 1000 },
        { prefix: '', delimiter: '/', maxKeys: 2 },
        { prefix: keys[0]!.slice(0, 5), delimiter: '/', maxKeys: 333, startAfter: middle },
        { prefix: '', delimiter: '', maxKeys: 999, startAfter: middle.slice(0, -3) },
      ]) {
        expect(allPages(space, query)).toEqual(referencePages(keys, query));
      }
    },
  );

  it('shapes the layouts as documented', () => {
    const skewed = keySpaceOf({ layout: 'skewed', count: 10_000 });
    const hot = Array.from({ length: skewed.count }, (_, i) => skewed.keyAt(i)).filter((k) => k.startsWith('hot/'));
    expect(hot.length).toBe(9_000);
    const long = keySpaceOf({ layout: 'long-prefix', count: 10 });
    expect(long.keyAt(0).slice(0, 200)).toBe(long.keyAt(9).slice(0, 200));
    expect(long.keyAt(0).indexOf('/')).toBe(199);
    expect(keySpaceOf({ layout: 'dated', count: 3 }).keyAt(0)).toMatch(/^2024\/01\/01\/\d{9}-[0-9a-f]{8}\.json$/);
    expect(keySpaceOf({ layout: 'handful' }).count).toBe(5);
    expect(keySpaceOf({ layout: 'flat', count: 10_000_000 }).keyAt(9_999_999)).toMatch(/^[0-9a-f]{12}\.pdf$/);
  });

  it('lists a page of 10M generated keys from any point without materialising them', () => {
    const space = keySpaceOf({ layout: 'flat', count: 10_000_000 });
    const page = listPage(space, { prefix: '', delimiter: '', maxKeys: 1000, startAfter: space.keyAt(7_654_320) });
    expect(page.contents[0]).toEqual({ key: space.keyAt(7_654_321), index: 7_654_321 });
    expect(page.contents).toHaveLength(1000);
    const last = listPage(space, { prefix: '', delimiter: '', maxKeys: 1000, startAfter: space.keyAt(9_999_499) });
    expect(last.contents).toHaveLength(500);
    expect(last.isTruncated).toBe(false);
  });

  it('rejects bad queries as S3 does', () => {
    expect(() => parseListQuery(new URLSearchParams('max-keys=-1'))).toThrow(/max-keys/);
    expect(() => parseListQuery(new URLSearchParams('max-keys=x'))).toThrow(/max-keys/);
    expect(() => parseListQuery(new URLSearchParams('encoding-type=base64'))).toThrow(/Encoding/);
    expect(() => parseListQuery(new URLSearchParams('continuation-token='))).toThrow(/continuation token/);
    const space = keySpaceOf({ layout: 'handful' });
    expect(() => listPage(space, { prefix: '', delimiter: '', maxKeys: 5, continuationToken: 'bm9wZQ' })).toThrow(
      /continuation token/,
    );
  });

  it('reads ListMultipartUploads queries as S3 does, and pages uploads after their markers', () => {
    expect(() => parseListUploadsQuery(new URLSearchParams('max-uploads=-1'))).toThrow(/max-uploads/);
    expect(() => parseListUploadsQuery(new URLSearchParams('max-uploads=two'))).toThrow(/max-uploads/);
    expect(parseListUploadsQuery(new URLSearchParams('upload-id-marker=u1'))).toEqual({
      prefix: '',
      keyMarker: '',
      uploadIdMarker: '',
      maxUploads: 1000,
    });
    const upload = (key: string, uploadId: string) => ({ key, uploadId }) as SimulatedUpload;
    const sorted = Array.from({ length: 1_500 }, (_, i) => upload(`k/${String(i).padStart(4, '0')}`, `u${i}`));
    const ids = (query: string) =>
      listUploadsPage(sorted, parseListUploadsQuery(new URLSearchParams(query))).uploads.map((u) => u.uploadId);
    expect(ids('max-uploads=5000')).toHaveLength(1000);
    expect(listUploadsPage(sorted, parseListUploadsQuery(new URLSearchParams(''))).isTruncated).toBe(true);
    expect(ids('max-uploads=2&key-marker=k/0009')).toEqual(['u10', 'u11']);
    expect(ids('max-uploads=2&key-marker=k/0009&upload-id-marker=u9')).toEqual(['u10', 'u11']);
    expect(ids('key-marker=k/9999')).toEqual([]);
  });

  it('rejects bad key sets naming the field', () => {
    expect(() => keySpaceOf({ layout: 'flat', count: -1 })).toThrow(/keys\.count/);
    expect(() => keySpaceOf({ layout: 'keys', keys: [''] })).toThrow(/keys\.keys/);
    expect(() => keySpaceOf({ layout: 'spiral' } as unknown as SimulatedKeySet)).toThrow(/keys\.layout/);
  });

  it('encodes values form-style for EncodingType=url, and decoding gives them back', () => {
    expect(encodeUrlValue('a b+c/%\r')).toBe('a+b%2Bc/%25%0D');
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (value) => {
        expect(decodeURIComponent(encodeUrlValue(value).replace(/\+/g, ' '))).toBe(value);
      }),
    );
  });
});

describe('simulator request parts', () => {
  it('decodes aws-chunked framing split at any byte', () => {
    const payload = Buffer.from('line one\nline two\n'.repeat(50));
    const framed = Buffer.concat([
      Buffer.from(`${(600).toString(16)};chunk-signature=abc\r\n`),
      payload.subarray(0, 600),
      Buffer.from(`\r\n${(payload.length - 600).toString(16)}\r\n`),
      payload.subarray(600),
      Buffer.from('\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n'),
    ]);
    for (const step of [1, 7, 100, framed.length]) {
      const decode = awsChunkedDecoder();
      const out: Buffer[] = [];
      for (let at = 0; at < framed.length; at += step)
        for (const data of decode(framed.subarray(at, at + step))) out.push(Buffer.from(data));
      expect(Buffer.concat(out).equals(payload)).toBe(true);
    }
  });

  it('limits each prefix to its rate, reads and writes apart, and refills over time', () => {
    let now = 0;
    const limiter = new PrefixRateLimiter({ readsPerSecond: 10, writesPerSecond: 2 }, () => now);
    const reads = Array.from({ length: 15 }, () => limiter.admit('a/', false));
    expect(reads.filter(Boolean)).toHaveLength(10);
    expect(limiter.admit('b/', false)).toBe(true);
    expect([limiter.admit('a/', true), limiter.admit('a/', true), limiter.admit('a/', true)]).toEqual([
      true,
      true,
      false,
    ]);
    now += 500;
    expect(Array.from({ length: 6 }, () => limiter.admit('a/', false)).filter(Boolean)).toHaveLength(5);
    expect(new PrefixRateLimiter(false).admit('a/', false)).toBe(true);
    expect(() => new PrefixRateLimiter({ readsPerSecond: 0 })).toThrow(/readsPerSecond/);
    expect(rateLimitPrefix('a/b/c.pdf', undefined)).toBe('a/b/');
    expect(rateLimitPrefix('c.pdf', undefined)).toBe('');
    expect(rateLimitPrefix(undefined, 'p/')).toBe('p/');
  });
});
