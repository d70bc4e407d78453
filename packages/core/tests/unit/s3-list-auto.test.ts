import type { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it, vi } from 'vitest';
import { isPresignPipelineError } from '../../src/errors.js';
import { memoryManifestWriter } from '../../src/manifest/memory-manifest-writer.js';
import { presignPipeline } from '../../src/pipeline.js';
import { encodeResumeToken, RESUME_TOKEN_VERSION } from '../../src/s3/resume-token.js';
import { type S3ListSourceOptions, s3ListSource } from '../../src/s3/s3-list-source.js';
import type { KeyPage, KeySource } from '../../src/types.js';
import { fakeListing } from './auto-listing-fake-s3.js';
import { fakePresigner, within } from './pipeline-helpers.js';

// ---- layouts -----------------------------------------------------------------------------------------------------

/** A deterministic pseudo-random generator (mulberry32), so layouts are the same on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
function name(next: () => number, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[Math.floor(next() * ALPHABET.length)];
  return out;
}

const layouts: Record<string, (n: number) => string[]> = {
  'flat random names': (n) => {
    const next = random(1);
    return Array.from({ length: n }, (_, i) => `flat/${Math.floor(next() * 2 ** 52).toString(36)}-${i}.pdf`);
  },
  '90 % under one sub-prefix': (n) => {
    const next = random(2);
    return Array.from({ length: n }, (_, i) =>
      i % 10 !== 0 ? `flat/big/${name(next, 10)}-${i}` : `flat/${name(next, 1)}${i % 7}/${name(next, 8)}-${i}`,
    );
  },
  'a shared 200-byte prefix': (n) => {
    const next = random(3);
    const shared = `flat/${'x'.repeat(195)}`;
    return Array.from({ length: n }, (_, i) => `${shared}${name(next, 10)}-${i}`);
  },
  'date-stamped names': (n) => {
    const start = Date.UTC(2019, 0, 1);
    const step = Math.floor((Date.UTC(2026, 0, 1) - start) / n);
    return Array.from({ length: n }, (_, i) => `flat/${new Date(start + i * step).toISOString()}-${i}.json`);
  },
  'a handful of keys': () => ['flat/a', 'flat/b.pdf', 'flat/c/d', 'flat/zz', 'flat/\u{1F600}'],
};

interface Listed {
  readonly keys: string[];
  readonly pages: KeyPage[];
}

async function drain(source: KeySource, stopAfterPages = Number.POSITIVE_INFINITY): Promise<Listed> {
  const keys: string[] = [];
  const pages: KeyPage[] = [];
  for await (const page of source.pages({ signal: new AbortController().signal })) {
    pages.push(page);
    keys.push(...page.keys);
    if (pages.length >= stopAfterPages) break;
  }
  return { keys, pages };
}

function expectExactlyOnce(listed: readonly string[], expected: readonly string[]): void {
  expect(listed.length).toBe(expected.length);
  expect(new Set(listed).size).toBe(listed.length);
  expect([...listed].sort()).toEqual([...expected].sort());
}

/** A source over the fake listing's `flat/` prefix in bucket `b`, in pages of 100, with `options` on top. */
function flatSource(s3: ReturnType<typeof fakeListing>, options: Partial<S3ListSourceOptions>) {
  return s3ListSource({ client: s3.client, bucket: 'b', prefix: 'flat/', pageSize: 100, ...options });
}

// ---- the splitter ------------------------------------------------------------------------------------------------

describe("s3ListSource({ partitions: { by: 'auto' } })", () => {
  for (const [layout, make] of Object.entries(layouts)) {
    it(`lists every key exactly once and keeps the requests in flight: ${layout}`, async () => {
      const keys = make(100_000);
      const s3 = fakeListing(keys);
      const source = flatSource(s3, { partitions: { by: 'auto', concurrency: 16 } });
      const { keys: listed } = await within(drain(source), 60_000);
      expectExactlyOnce(listed, keys);

      const sequential = Math.max(1, Math.ceil(keys.length / 100));
      expect(s3.maxInFlight).toBeLessThanOrEqual(16);
      if (keys.length > 1000) {
        // Requests stay within 10 % of a sequential listing's. Round trips: one a page listed sequentially, ideally
        // a sixteenth of that with 16 cursors. The first page and the ranges it reveals cost a few at the start,
        // uneven ranges a few at the end; a listing that leaves most of the key space to one cursor while it learns
        // what lies past the first page costs dozens (and fewer requests answered per round trip).
        expect(s3.requests).toBeLessThanOrEqual(Math.ceil(sequential * 1.1));
        expect(s3.rounds).toBeLessThanOrEqual(Math.ceil((sequential / 16) * 1.3));
        expect(s3.requests / s3.rounds).toBeGreaterThanOrEqual(13);
      } else {
        expect(s3.requests).toBe(1);
      }
    }, 60_000);
  }

  it('stays under 10 % more requests than a sequential listing at 1M keys, page size 1000', async () => {
    const keys = layouts['flat random names']?.(1_000_000) as string[];
    const s3 = fakeListing(keys);
    const source = s3ListSource({
      client: s3.client,
      bucket: 'b',
      prefix: 'flat/',
      partitions: { by: 'auto', concurrency: 16 },
    });
    const { keys: listed } = await within(drain(source), 120_000);
    expect(listed.length).toBe(keys.length);
    expect(new Set(listed).size).toBe(keys.length);
    expect(s3.requests).toBeLessThan(1000 * 1.1);
    expect(s3.maxInFlight).toBe(16);
  }, 120_000);

  it('cuts past the keys seen at code points next to the surrogates and above U+FFFF, exactly once', async () => {
    // Prepare: groups of keys whose shared start ends in U+D7FF (the next code point is U+E000), in an astral
    // character, and in U+FFFF, so each cut past a group's keys raises such a code point.
    const next = random(5);
    const groups = ['flat/a\uD7FF', 'flat/b\u{1F600}', 'flat/c\uFFFF', 'flat/c\u{10000}', 'flat/d'];
    const keys = groups.flatMap((group) => Array.from({ length: 1500 }, (_, i) => `${group}${name(next, 6)}-${i}`));
    const s3 = fakeListing(keys);

    // Act
    const source = flatSource(s3, { partitions: { by: 'auto', concurrency: 16 } });
    const { keys: listed } = await within(drain(source), 60_000);

    // Assess
    expectExactlyOnce(listed, keys);
    expect(s3.inputs.some((input) => input.StartAfter === 'flat/a\uE000')).toBe(true);
  });

  it('keeps the filter, the directory-marker rule and the page size', async () => {
    const keys = Array.from(
      { length: 5000 },
      (_, i) => `flat/${String(i).padStart(5, '0')}${i % 3 === 0 ? '/' : '.pdf'}`,
    );
    const sizes = new Map(keys.filter((_, i) => i % 6 === 0).map((key) => [key, 0]));
    const s3 = fakeListing(keys, sizes);
    const source = s3ListSource({
      client: s3.client,
      bucket: 'b',
      prefix: 'flat/',
      pageSize: 50,
      filter: (key) => !key.endsWith('7.pdf'),
      partitions: { by: 'auto', concurrency: 8 },
    });
    const { keys: listed } = await drain(source);
    const expected = keys.filter((key) => !(sizes.get(key) === 0) && !key.endsWith('7.pdf'));
    expectExactlyOnce(listed, expected);
    expect(s3.inputs.every((input) => input.MaxKeys === 50 && input.EncodingType === 'url')).toBe(true);
  });

  it('continues after startAfter', async () => {
    const keys = Array.from({ length: 3000 }, (_, i) => `flat/${String(i).padStart(5, '0')}`);
    const s3 = fakeListing(keys);
    const source = flatSource(s3, {
      startAfter: 'flat/01000',
      partitions: { by: 'auto' },
    });
    expectExactlyOnce((await drain(source)).keys, keys.slice(1001));
  });

  it('fails with MALFORMED_RESPONSE, naming the page, when an answer is not a listing (instead of ending a range early)', async () => {
    // Prepare: the fifth request (one of the cursors' later pages) gets what the SDK makes of an HTML page: `{}`.
    const keys = Array.from({ length: 3000 }, (_, i) => `flat/${String(i).padStart(5, '0')}`);
    const s3 = fakeListing(keys);
    const send = s3.client.send.bind(s3.client) as (...args: unknown[]) => Promise<unknown>;
    let calls = 0;
    const client = { send: async (...args: unknown[]) => (++calls === 5 ? { $metadata: {} } : send(...args)) };
    const source = s3ListSource({
      client: client as unknown as S3Client,
      bucket: 'b',
      prefix: 'flat/',
      pageSize: 100,
      partitions: { by: 'auto', concurrency: 4 },
    });

    // Act and assess
    await expect(drain(source)).rejects.toMatchObject({
      code: 'MALFORMED_RESPONSE',
      message: expect.stringMatching(
        /^ListObjectsV2 page \d+ of s3:\/\/b\/flat\/ \(.+\): the answer has no IsTruncated, so it does not say whether more pages follow$/,
      ),
    });
  });

  it('cancels every request in flight when the run aborts', async () => {
    const keys = layouts['flat random names']?.(50_000) as string[];
    const s3 = fakeListing(keys);
    const controller = new AbortController();
    const source = flatSource(s3, { partitions: { by: 'auto', concurrency: 8 } });
    const iterator = source.pages({ signal: controller.signal })[Symbol.asyncIterator]();
    await iterator.next();
    await iterator.next();
    controller.abort();
    await expect(iterator.next()).rejects.toMatchObject({ name: 'AbortError' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(s3.inFlight).toBe(0);
  });
});

// ---- resume tokens -----------------------------------------------------------------------------------------------

describe('resume tokens', () => {
  it('continue a listing cut after any page, at any concurrency, exactly once across runs', async () => {
    for (const [layout, make] of Object.entries(layouts)) {
      const keys = make(20_000);
      const s3 = fakeListing(keys);
      const seen: string[] = [];
      const concurrencies = [16, 16, 4, 16, 1, 32, 16];
      let token: string | undefined;
      let runs = 0;
      for (;;) {
        const concurrency = concurrencies[runs % concurrencies.length] as number;
        const source = flatSource(s3, {
          partitions: { by: 'auto', concurrency },
          ...(token === undefined ? {} : { resumeToken: token }),
        });
        const { keys: listed, pages } = await drain(source, 7 + runs * 5);
        seen.push(...listed);
        runs++;
        const lastPage = pages[pages.length - 1];
        if (lastPage === undefined || lastPage.last === true) break;
        token = source.resumeToken?.(lastPage);
        expect(token?.length).toBeLessThanOrEqual(4096);
      }
      expect(runs, layout).toBeGreaterThanOrEqual(layout === 'a handful of keys' ? 1 : 5);
      expectExactlyOnce(seen, keys);
    }
  }, 60_000);

  it('come back from presignPipeline cut by its deadline, and the runs write every key once', async () => {
    const keys = layouts['flat random names']?.(30_000) as string[];
    const s3 = fakeListing(keys);
    const written: string[] = [];
    let token: string | undefined;
    let runs = 0;
    for (;;) {
      const manifest = memoryManifestWriter();
      const source = flatSource(s3, {
        partitions: { by: 'auto', concurrency: 16 },
        ...(token === undefined ? {} : { resumeToken: token }),
      });
      const result = await presignPipeline({ source, presigner: fakePresigner(), manifest, deadline: Date.now() + 15 });
      written.push(...manifest.entries.map((entry) => entry.key));
      runs++;
      if (result.complete) {
        expect(result.resumeToken).toBeUndefined();
        break;
      }
      expect(typeof result.resumeToken).toBe('string');
      token = result.resumeToken;
    }
    expect(runs).toBeGreaterThanOrEqual(2);
    expectExactlyOnce(written, keys);
  }, 60_000);

  /**
   * Runs presignPipeline over `keys` until complete, each run `budgetMs` long on a clock that every ListObjectsV2
   * request moves 100 ms as it is sent: concurrency buys no time, and a wave of requests can spend a run's budget
   * before any of them is answered (the worst case for a concurrent listing cut by its deadline).
   */
  async function deadlineChain(keys: readonly string[], concurrency: number, budgetMs: number) {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const s3 = fakeListing(keys);
      const send = s3.client.send.bind(s3.client);
      (s3.client as { send: unknown }).send = (...args: Parameters<typeof send>) => {
        vi.setSystemTime(Date.now() + 100);
        return send(...args);
      };
      const written: string[] = [];
      const runs: { count: number; requests: number }[] = [];
      let token: string | undefined;
      let startAfter: string | undefined;
      for (let run = 0; run < 1000; run++) {
        const before = s3.requests;
        const manifest = memoryManifestWriter();
        const source = flatSource(s3, {
          ...(concurrency > 1 ? { partitions: { by: 'auto', concurrency } } : {}),
          ...(token === undefined ? {} : { resumeToken: token }),
          ...(startAfter === undefined ? {} : { startAfter }),
        });
        const deadline = Date.now() + budgetMs;
        const result = await presignPipeline({ source, presigner: fakePresigner(), manifest, deadline });
        written.push(...manifest.entries.map((entry) => entry.key));
        runs.push({ count: result.count, requests: s3.requests - before });
        if (result.complete) break;
        token = result.resumeToken;
        startAfter = result.nextStartAfter;
      }
      return { written, runs, requests: s3.requests };
    } finally {
      vi.useRealTimers();
    }
  }

  it('hand on every page a run cut by its deadline already listed: each run makes progress, in at most twice the runs of a sequential chain', async () => {
    const keys = layouts['flat random names']?.(6000) as string[];
    // 60 pages of 100; a run's budget pays for about 5 requests.
    const sequential = await deadlineChain(keys, 1, 450);
    expectExactlyOnce(sequential.written, keys);
    expect(sequential.runs).toHaveLength(12);
    for (const concurrency of [2, 4, 16, 64]) {
      const auto = await deadlineChain(keys, concurrency, 450);
      expectExactlyOnce(auto.written, keys);
      // Every run but the last (which may find only the end of the listing) hands on keys.
      for (const run of auto.runs.slice(0, -1)) expect(run.count).toBeGreaterThan(0);
      // A cut run hands on every page answered before its deadline and loses only the requests still in flight (at
      // most `concurrency`): so a run hands on at least about what its budget paid for less one wave, and the chain
      // costs the sequential chain's requests plus one wave a run. Measured: 17-18 runs and 81-91 requests at every
      // concurrency here; dropping the answered pages took 72 runs at concurrency 4 and 124 runs (1361 requests, 9 of
      // them handing on no key) at 16.
      expect(auto.runs.length).toBeLessThanOrEqual(2 * sequential.runs.length);
      expect(auto.requests).toBeLessThanOrEqual(sequential.requests + concurrency * auto.runs.length);
    }
  }, 60_000);

  it('of a run cut before its first page start where that run started', async () => {
    const keys = layouts['flat random names']?.(2000) as string[];
    const s3 = fakeListing(keys);
    const first = flatSource(s3, { partitions: { by: 'auto' } });
    const result = await presignPipeline({
      source: first,
      presigner: fakePresigner(),
      manifest: memoryManifestWriter(),
      deadline: 0,
    });
    expect(result.complete).toBe(false);
    expect(result.count).toBe(0);
    const again = flatSource(s3, { resumeToken: result.resumeToken as string });
    expectExactlyOnce((await drain(again)).keys, keys);
  });

  const client = fakeListing([]).client;
  const bad = (resumeToken: unknown, bucket = 'b', prefix = 'flat/'): unknown => {
    try {
      s3ListSource({ client, bucket, prefix, resumeToken: resumeToken as string });
    } catch (error) {
      return error;
    }
    throw new Error('expected s3ListSource to throw');
  };
  const good = encodeResumeToken('b', 'flat/', [{ after: 'flat/m', last: undefined }]);

  it.each([
    ['not a token', /malformed/],
    ['v1.!!!', /malformed/],
    [`v1.${Buffer.from('not deflated').toString('base64url')}`, /malformed: its payload does not decode/],
    [`v${RESUME_TOKEN_VERSION + 1}.${good.slice(3)}`, /format version 2; this release reads version 1/],
    ['', /non-empty string/],
    [42, /non-empty string/],
  ])('reject %s with INVALID_RESUME_TOKEN', (token, message) => {
    const error = bad(token);
    expect(isPresignPipelineError(error) && error.code).toBe('INVALID_RESUME_TOKEN');
    expect((error as Error).message).toMatch(message);
  });

  it('reject a token of another bucket or prefix, naming which', () => {
    expect((bad(good, 'other') as Error).message).toMatch(/another bucket/);
    expect((bad(good, 'b', 'flat/x/') as Error).message).toMatch(/another prefix/);
    expect(isPresignPipelineError(bad(good, 'other'))).toBe(true);
  });

  it('never hold an empty range when a page ends exactly on the key a range was cut at', async () => {
    // Zero-padded names: a cut point is a real key, and pages of 5 end on it while the answer says more follow.
    const keys = Array.from({ length: 40 }, (_, i) => `flat/k${String(i).padStart(4, '0')}`);
    const s3 = fakeListing(keys);
    const start = encodeResumeToken('b', 'flat/', [
      { after: undefined, last: 'flat/k0004' },
      { after: 'flat/k0004', last: undefined },
    ]);
    const source = s3ListSource({ client: s3.client, bucket: 'b', prefix: 'flat/', pageSize: 5, resumeToken: start });
    const seen: string[] = [];
    let listing = source;
    for (let run = 0; run < 20; run++) {
      const { keys: listed, pages } = await drain(listing, 1);
      seen.push(...listed);
      const page = pages[0];
      if (page === undefined || page.last === true) break;
      const token = listing.resumeToken?.(page) as string;
      // Each token is one a later run accepts: no range (k, k].
      listing = s3ListSource({ client: s3.client, bucket: 'b', prefix: 'flat/', pageSize: 5, resumeToken: token });
    }
    expectExactlyOnce(seen, keys);
  });

  it('reject ranges out of order', () => {
    const token = encodeResumeToken('b', 'flat/', [
      { after: 'flat/m', last: 'flat/p' },
      { after: 'flat/a', last: undefined },
    ]);
    expect((bad(token) as Error).message).toMatch(/overlap or are out of order/);
  });

  it('cannot be combined with startAfter or other partitions', () => {
    expect(() => s3ListSource({ client, bucket: 'b', prefix: 'flat/', resumeToken: good, startAfter: 'x' })).toThrow(
      /startAfter/,
    );
    expect(() =>
      s3ListSource({ client, bucket: 'b', prefix: 'flat/', resumeToken: good, partitions: { by: 'delimiter' } }),
    ).toThrow(/by: 'auto'/);
  });

  it('stay within 4 KB with long non-ASCII keys (3 UTF-8 bytes a character) at concurrency 64', async () => {
    const next = random(11);
    const wide = '漢字仮名交じり文東京大阪京都名古屋札幌福岡';
    const keys = Array.from(
      { length: 5000 },
      () => `flat/${Array.from({ length: 300 }, () => wide[Math.floor(next() * wide.length)]).join('')}`,
    );
    const s3 = fakeListing(keys);
    const source = flatSource(s3, { partitions: { by: 'auto', concurrency: 64 } });
    const { pages } = await drain(source, 30);
    for (const page of pages) expect(source.resumeToken?.(page)?.length).toBeLessThanOrEqual(4096);
  });

  it('a token that would pass 4 KB is refused where it is made, with RESUME_TOKEN_TOO_LONG', () => {
    const next = random(12);
    const ranges = Array.from({ length: 16 }, (_, i) => ({
      after: `flat/${i.toString(16)}${name(next, 600)}`,
      last: `flat/${i.toString(16)}~`,
    }));
    let error: unknown;
    try {
      encodeResumeToken('b', 'flat/', ranges);
    } catch (caught) {
      error = caught;
    }
    expect(isPresignPipelineError(error) && error.code).toBe('RESUME_TOKEN_TOO_LONG');
    expect((error as Error).message).toMatch(/16 open key ranges would be \d+ characters, over the 4096/);
    expect(encodeResumeToken('b', 'flat/', ranges.slice(0, 2)).length).toBeLessThanOrEqual(4096);
  });

  it('stay within 4 KB with long keys at concurrency 64', async () => {
    const next = random(9);
    const keys = Array.from({ length: 5000 }, () => `flat/${name(next, 900)}`);
    const s3 = fakeListing(keys);
    const source = flatSource(s3, { partitions: { by: 'auto', concurrency: 64 } });
    const { pages } = await drain(source, 30);
    for (const page of pages) expect(source.resumeToken?.(page)?.length).toBeLessThanOrEqual(4096);
  });
});
