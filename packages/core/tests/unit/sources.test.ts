import { describe, expect, it } from 'vitest';
import { memoryManifestWriter } from '../../src/manifest/memory-manifest-writer.js';
import { presignPipeline } from '../../src/pipeline.js';
import { arrayKeySource } from '../../src/sources/array-key-source.js';
import { suffixFilter } from '../../src/sources/filters.js';
import type { KeyPage, KeySource } from '../../src/types.js';
import { fakePresigner, keyList, rejectionOf, sleep, within } from './pipeline-helpers.js';

async function collect(source: KeySource, signal = new AbortController().signal): Promise<KeyPage[]> {
  const pages: KeyPage[] = [];
  for await (const page of source.pages({ signal })) pages.push(page);
  return pages;
}

describe('arrayKeySource', () => {
  it('yields pages of pageSize with the bucket and the last key as cursor', async () => {
    const pages = await collect(arrayKeySource(keyList(25), { bucket: 'reports', pageSize: 10 }));
    expect(pages.map((p) => p.keys.length)).toEqual([10, 10, 5]);
    expect(pages.every((p) => p.bucket === 'reports')).toBe(true);
    expect(pages.map((p) => p.cursor)).toEqual([keyList(25)[9], keyList(25)[19], keyList(25)[24]]);
    expect(pages.flatMap((p) => p.keys)).toEqual(keyList(25));
    // The short remainder is known to be the last page.
    expect(pages.map((p) => p.last)).toEqual([undefined, undefined, true]);
  });

  it('defaults to pages of 1000 and exposes its bucket', async () => {
    const source = arrayKeySource(keyList(2500), { bucket: 'b' });
    expect(source.bucket).toBe('b');
    expect((await collect(source)).map((p) => p.keys.length)).toEqual([1000, 1000, 500]);
  });

  it('yields nothing for no keys', async () => {
    expect(await collect(arrayKeySource([], { bucket: 'b' }))).toEqual([]);
  });

  it('reads async iterables too', async () => {
    async function* lines() {
      for (const key of ['a', 'b', 'c']) {
        await sleep(1);
        yield key;
      }
    }
    const pages = await collect(arrayKeySource(lines(), { bucket: 'b', pageSize: 2 }));
    expect(pages.map((p) => p.keys)).toEqual([['a', 'b'], ['c']]);
  });

  it('starts a fresh iteration on each pages() call for re-iterable inputs', async () => {
    const source = arrayKeySource(new Set(['a', 'b', 'c']), { bucket: 'b', pageSize: 2 });
    const first = await collect(source);
    const second = await collect(source);
    expect(second).toEqual(first);
    expect(second.flatMap((p) => p.keys)).toEqual(['a', 'b', 'c']);
  });

  it('never materialises its input: ten million keys, only the pages pulled are read', async () => {
    let produced = 0;
    function* tenMillion(): Generator<string> {
      for (let i = 0; i < 10_000_000; i++) {
        produced++;
        yield `key-${i}`;
      }
    }
    const iterator = arrayKeySource(tenMillion(), { bucket: 'b', pageSize: 1000 })
      .pages({ signal: new AbortController().signal })
      [Symbol.asyncIterator]();
    await iterator.next();
    await iterator.next();
    expect(produced).toBe(2000);
    await iterator.return?.();
    expect(produced).toBe(2000);
  });

  it('runs inside the pipeline over an endless generator until aborted, and closes the generator', async () => {
    let closed = false;
    let produced = 0;
    const startedAt = performance.now();
    function* endless(): Generator<string> {
      try {
        for (;;) {
          // Timers cannot fire if the pipeline starves the event loop, so the deadline lives here.
          if (produced % 1000 === 0 && performance.now() - startedAt > 3_000)
            throw new Error('test deadline: abort never fired');
          yield `key-${produced++}`;
        }
      } finally {
        closed = true;
      }
    }
    const controller = new AbortController();
    const run = presignPipeline({
      source: arrayKeySource(endless(), { bucket: 'b', pageSize: 100 }),
      presigner: fakePresigner(),
      manifest: memoryManifestWriter(),
      signal: controller.signal,
      queueMax: 500,
    });
    await sleep(40);
    controller.abort();
    const error = await within(rejectionOf(run), 2_000);
    expect(error).toMatchObject({ name: 'AbortError' });
    await sleep(10);
    expect(closed).toBe(true);
    const producedAtEnd = produced;
    await sleep(20);
    expect(produced).toBe(producedAtEnd);
  });

  it('stops yielding once its signal aborts', async () => {
    const controller = new AbortController();
    const iterator = arrayKeySource(keyList(50), { bucket: 'b', pageSize: 10 })
      .pages({ signal: controller.signal })
      [Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    controller.abort();
    expect((await iterator.next()).done).toBe(true);
  });

  it.each([
    [
      'empty bucket',
      () => arrayKeySource([], { bucket: '' }),
      RangeError,
      'arrayKeySource: option "bucket" must be a non-empty string, got empty string',
    ],
    ['missing bucket', () => arrayKeySource([], {} as never), TypeError, '"bucket"'],
    [
      'pageSize 0',
      () => arrayKeySource([], { bucket: 'b', pageSize: 0 }),
      RangeError,
      '"pageSize" must be an integer in 1..1000, got number 0',
    ],
    ['pageSize 1001', () => arrayKeySource([], { bucket: 'b', pageSize: 1001 }), RangeError, '"pageSize"'],
    ['pageSize 2.5', () => arrayKeySource([], { bucket: 'b', pageSize: 2.5 }), RangeError, '"pageSize"'],
    ['pageSize "10"', () => arrayKeySource([], { bucket: 'b', pageSize: '10' as never }), TypeError, '"pageSize"'],
    ['keys not iterable', () => arrayKeySource(42 as never, { bucket: 'b' }), TypeError, '"keys" must be an iterable'],
    ['keys a single string', () => arrayKeySource('a.pdf' as never, { bucket: 'b' }), TypeError, '"keys"'],
    ['options missing', () => arrayKeySource([], undefined as never), TypeError, '"options"'],
  ])('validates at creation: %s', (_name, create, type, message) => {
    expect(create).toThrow(type);
    expect(create).toThrow(message);
  });
});

describe('suffixFilter', () => {
  it('keeps keys with the suffix, whatever their case', () => {
    const pdf = suffixFilter('.pdf');
    expect(['a.pdf', 'b.PDF', 'c.Pdf', 'dir/x.pDf'].every(pdf)).toBe(true);
    expect(['a.pdfx', 'pdf', 'a.txt', 'a.pd', ''].some(pdf)).toBe(false);
    expect(suffixFilter('.PDF')('a.pdf')).toBe(true);
  });

  it('handles unicode case folding and non-string keys', () => {
    expect(suffixFilter('.ÉTÉ')('photo.été')).toBe(true);
    expect(suffixFilter('.pdf')(undefined as never)).toBe(false);
  });

  it('validates the suffix', () => {
    expect(() => suffixFilter(undefined as never)).toThrow(TypeError);
    expect(() => suffixFilter(3 as never)).toThrow('suffixFilter: option "suffix" must be a string, got number 3');
  });
});
