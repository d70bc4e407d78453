// Continuation: runs cut short by their deadline, resumed from `nextStartAfter`, cover every key exactly once.
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { memoryManifestWriter } from '../../src/manifest/memory-manifest-writer.js';
import { presignPipeline } from '../../src/pipeline.js';
import { arrayKeySource } from '../../src/sources/array-key-source.js';
import { suffixFilter } from '../../src/sources/filters.js';
import type { KeyPage, KeySource, KeySourceContext, PipelineResult } from '../../src/types.js';
import { fakePresigner } from './pipeline-helpers.js';

// Only Date is faked: the pipeline compares Date.now() with the deadline, and the sources below move the clock by
// one millisecond per page, so a deadline of `start + n` cuts a run after exactly n pages.
const START = Date.UTC(2026, 3, 1);

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(START);
});
afterEach(() => {
  vi.useRealTimers();
});

function tick(): void {
  vi.setSystemTime(Date.now() + 1);
}

/** Wraps a source so that every page it hands over costs one (fake) millisecond. */
function ticking(source: KeySource): KeySource {
  return {
    bucket: source.bucket,
    async *pages(context: KeySourceContext) {
      for await (const page of source.pages(context)) {
        tick();
        yield page;
      }
    },
  };
}

/**
 * Lists a sorted key set like ListObjectsV2 does: pages of `pageSize` keys after `startAfter`, the filter applied
 * after listing, each page's cursor the last key *listed* (kept or not), and the one empty response without a cursor
 * when nothing is left.
 */
function listingSource(
  all: readonly string[],
  pageSize: number,
  startAfter: string | undefined,
  keep: (key: string) => boolean,
  onListed: (keys: readonly string[]) => void = () => {},
): KeySource {
  const rest = startAfter === undefined ? all : all.filter((key) => key > startAfter);
  return {
    bucket: 'b',
    async *pages() {
      if (rest.length === 0) {
        tick();
        yield { bucket: 'b', keys: [] } satisfies KeyPage;
        return;
      }
      for (let i = 0; i < rest.length; i += pageSize) {
        const listed = rest.slice(i, i + pageSize);
        onListed(listed);
        tick();
        yield { bucket: 'b', keys: listed.filter(keep), cursor: listed[listed.length - 1]! } satisfies KeyPage;
      }
    },
  };
}

interface Loop {
  readonly results: PipelineResult[];
  readonly keys: string[];
}

/**
 * Runs until a run is complete: each run gets a deadline `cuts[i]` pages away (the last cut repeats) and starts
 * after the previous run's `nextStartAfter` (or where that run started, when it gives none: it pulled nothing).
 */
async function continuationLoop(
  makeSource: (startAfter: string | undefined) => KeySource,
  cuts: readonly number[],
): Promise<Loop> {
  const results: PipelineResult[] = [];
  const keys: string[] = [];
  let startAfter: string | undefined;
  for (let run = 0; run < 10_000; run++) {
    const manifest = memoryManifestWriter();
    const result = await presignPipeline({
      source: makeSource(startAfter),
      presigner: fakePresigner(),
      manifest,
      deadline: Date.now() + (cuts[Math.min(run, cuts.length - 1)] ?? 1),
      queueMax: 50,
    });
    results.push(result);
    keys.push(...manifest.entries.map((entry) => entry.key));
    if (result.complete) return { results, keys };
    startAfter = result.nextStartAfter ?? startAfter;
  }
  throw new Error('the loop did not complete within 10,000 runs');
}

function sortedKeys(n: number): string[] {
  const suffixes = ['.pdf', '.txt', '.PDF', '.csv', '.Pdf', '.pdf.bak'];
  return Array.from(
    { length: n },
    (_, i) => `2026/04/${String(i).padStart(5, '0')}${suffixes[(i * 7) % suffixes.length]}`,
  ).sort();
}

describe('presignPipeline: continuation from nextStartAfter', () => {
  it('covers every key of an arrayKeySource exactly once over many cut points', async () => {
    // Prepare: 2,500 keys in pages of 40 (63 pages); runs of 0..7 pages, 0 meaning a run that pulls nothing.
    const all = sortedKeys(2500);
    const cuts = [3, 0, 1, 7, 2, 5, 1, 1, 4, 6];

    // Act
    const loop = await continuationLoop(
      (startAfter) =>
        ticking(
          arrayKeySource(startAfter === undefined ? all : all.filter((k) => k > startAfter), {
            bucket: 'b',
            pageSize: 40,
          }),
        ),
      cuts,
    );

    // Assess: the union is the key set, no key twice; every run but the last was cut, and there were many.
    expect(loop.keys).toHaveLength(all.length);
    expect([...loop.keys].sort()).toEqual(all);
    expect(loop.results.length).toBeGreaterThanOrEqual(15);
    expect(loop.results.slice(0, -1).every((r) => !r.complete)).toBe(true);
    // A run that pulled nothing says so, and the next one starts where it would have.
    const empty = loop.results.find((r) => r.pages === 0);
    expect(empty).toMatchObject({ complete: false, count: 0 });
    expect(empty?.nextStartAfter).toBeUndefined();
  });

  it('resumes after the last key listed, not the last key kept, so filtered keys are not listed again', async () => {
    // Prepare: pages of 10 where most keys are filtered out; some pages keep nothing at all.
    const all = sortedKeys(600);
    const keep = suffixFilter('.pdf');
    const listed: string[] = [];
    const source = (startAfter: string | undefined): KeySource =>
      listingSource(all, 10, startAfter, keep, (keys) => listed.push(...keys));

    // Act
    const loop = await continuationLoop(source, [2, 1, 3]);

    // Assess: every kept key once; each run's cursor is a listed key (often one the filter dropped).
    const expected = all.filter(keep);
    expect(loop.keys).toHaveLength(expected.length);
    expect([...loop.keys].sort()).toEqual(expected);
    const cursors = loop.results.flatMap((r) => (r.nextStartAfter === undefined ? [] : [r.nextStartAfter]));
    expect(cursors.some((cursor) => !keep(cursor))).toBe(true);
    // Each key was listed by exactly one run: no page was listed twice.
    expect(listed).toEqual(all);
  });

  it('keeps the previous cursor across an empty page without one, instead of restarting the listing', async () => {
    // Prepare: a page with keys and a cursor, then an empty cursor-less page, then the deadline.
    const source: KeySource = {
      bucket: 'b',
      async *pages() {
        tick();
        yield { bucket: 'b', keys: ['a/1.pdf', 'a/2.pdf'], cursor: 'a/3.txt' };
        tick();
        yield { bucket: 'b', keys: [] };
        tick();
        yield { bucket: 'b', keys: ['a/4.pdf'], cursor: 'a/4.pdf' };
      },
    };

    // Act
    const result = await presignPipeline({
      source,
      presigner: fakePresigner(),
      manifest: memoryManifestWriter(),
      deadline: Date.now() + 2,
    });

    // Assess: two pages pulled; resuming after a/3.txt neither repeats a/1, a/2 nor skips a/4.
    expect(result).toMatchObject({ complete: false, pages: 2, count: 2, nextStartAfter: 'a/3.txt' });
  });

  it('gives no resume point when the last page with keys has no cursor', async () => {
    const source: KeySource = {
      bucket: 'b',
      async *pages() {
        tick();
        yield { bucket: 'b', keys: ['a/1.pdf'], cursor: 'a/1.pdf' };
        tick();
        yield { bucket: 'b', keys: ['a/2.pdf'] };
        tick();
        yield { bucket: 'b', keys: ['a/3.pdf'], cursor: 'a/3.pdf' };
      },
    };
    const result = await presignPipeline({
      source,
      presigner: fakePresigner(),
      manifest: memoryManifestWriter(),
      deadline: Date.now() + 2,
    });
    expect(result).toMatchObject({ complete: false, pages: 2, count: 2 });
    expect(result.nextStartAfter).toBeUndefined();
  });

  it('holds for any key count, page size and sequence of cuts (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 1, max: 30 }),
        fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 12 }),
        async (n, pageSize, cuts) => {
          const all = sortedKeys(n);
          const keep = suffixFilter('.pdf');
          // The last cut repeats. It allows two pages, so the final run can pull the empty response of an exhausted
          // listing and then learn that nothing follows (with one, that run would stop before asking, every time).
          const loop = await continuationLoop(
            (startAfter) => listingSource(all, pageSize, startAfter, keep),
            [...cuts, Math.max(2, cuts.at(-1)!)],
          );
          const expected = all.filter(keep);
          expect(loop.keys.length).toBe(expected.length);
          expect([...loop.keys].sort()).toEqual(expected);
        },
      ),
      { numRuns: 150 },
    );
  });
});
