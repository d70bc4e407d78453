import { readFile, rm, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isPresignPipelineError } from '../../src/errors.js';
import { fileManifestWriter } from '../../src/manifest/file-manifest-writer.js';
import { memoryManifestWriter } from '../../src/manifest/memory-manifest-writer.js';
import { presignPipeline } from '../../src/pipeline.js';
import { arrayKeySource } from '../../src/sources/array-key-source.js';
import type { ObjectRef, PresignOptions, Presigner } from '../../src/types.js';
import {
  chunk,
  fakePresigner,
  keyList,
  recordingReporter,
  rejectionOf,
  scriptedSource,
  sleep,
  spyWriter,
  urlFor,
  within,
} from './pipeline-helpers.js';

describe('presignPipeline: every key once', () => {
  it.each([1, 4, 64])(
    'presigns and writes every key exactly once at concurrency %i, whole lines only',
    async (concurrency) => {
      // Prepare: 1,000 keys in uneven pages, a presigner that answers in random order, a real file.
      const keys = keyList(1000);
      const source = scriptedSource(chunk(keys, 37));
      const presigner = fakePresigner({ maxDelayMs: 2 });
      const dir = await mkdtemp(join(tmpdir(), 'pp-'));
      const path = join(dir, 'manifest.jsonl');
      try {
        // Act
        const result = await within(
          presignPipeline({ source, presigner, manifest: fileManifestWriter(path), concurrency, queueMax: 100 }),
          20_000,
        );
        // Assess: one valid line per key, each key once, each URL the one made for its key.
        const lines = (await readFile(path, 'utf8')).split('\n');
        expect(lines.pop()).toBe('');
        const parsed = lines.map((line) => JSON.parse(line) as { key: string; url: string });
        expect(parsed.map((p) => p.key).sort()).toEqual([...keys].sort());
        for (const p of parsed) {
          expect(Object.keys(p)).toEqual(['key', 'url']);
          expect(p.url).toBe(urlFor({ bucket: 'bucket', key: p.key }));
        }
        expect(presigner.calls.map((c) => c.key).sort()).toEqual([...keys].sort());
        expect(result).toMatchObject({ count: 1000, errors: 0, pages: 28, complete: true, effectiveExpiresIn: 900 });
        expect(result.manifest.location).toBe(path);
        // Workers really ran side by side, and never more than asked for.
        expect(presigner.maxInFlight).toBeLessThanOrEqual(concurrency);
        if (concurrency > 1) expect(presigner.maxInFlight).toBeGreaterThan(1);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  it('hands entries to the writer in batches, one write at a time, even when writes are slow', async () => {
    const keys = keyList(3000);
    const manifest = spyWriter({ writeDelayMs: 3 });
    const result = await within(
      presignPipeline({
        source: scriptedSource(chunk(keys, 1000)),
        presigner: fakePresigner(),
        manifest,
        concurrency: 16,
      }),
      10_000,
    );
    expect(result.count).toBe(3000);
    expect(manifest.entries.map((e) => e.key).sort()).toEqual([...keys].sort());
    expect(manifest.overlaps).toBe(0);
    expect(manifest.writeCalls).toBeGreaterThan(1);
    expect(manifest.writeCalls).toBeLessThan(100);
    expect(manifest.closed).toBe(1);
    expect(manifest.aborted).toEqual([]);
  });

  it('uses the page bucket, falling back to the source bucket, and the default expiresIn of 900', async () => {
    const presigner = fakePresigner();
    const source = {
      bucket: 'default-bucket',
      async *pages() {
        yield { bucket: 'other-bucket', keys: ['a'] };
        yield { bucket: '', keys: ['b'] };
      },
    };
    await presignPipeline({ source, presigner, manifest: memoryManifestWriter() });
    expect(presigner.calls).toEqual([
      { bucket: 'other-bucket', key: 'a' },
      { bucket: 'default-bucket', key: 'b' },
    ]);
    expect(presigner.options.map((o) => o.expiresIn)).toEqual([900, 900]);
  });

  it('opens the manifest with the request id, lifetime and a live signal, and reports where it went', async () => {
    const manifest = spyWriter({ info: { bytes: 42, key: 'manifests/x.jsonl', location: 's3://b/manifests/x.jsonl' } });
    const result = await presignPipeline({
      source: scriptedSource([['a']]),
      presigner: fakePresigner(),
      manifest,
      requestId: 'req-1',
      expiresIn: 60,
    });
    expect(manifest.opened?.requestId).toBe('req-1');
    expect(manifest.opened?.expiresIn).toBe(60);
    expect(manifest.opened?.signal.aborted).toBe(false);
    expect(result.manifest).toEqual({ bytes: 42, key: 'manifests/x.jsonl', location: 's3://b/manifests/x.jsonl' });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('gives each run a random UUID request id by default', async () => {
    const a = recordingReporter();
    const b = recordingReporter();
    await presignPipeline({
      source: scriptedSource([]),
      presigner: fakePresigner(),
      manifest: spyWriter(),
      reporters: [a],
    });
    await presignPipeline({
      source: scriptedSource([]),
      presigner: fakePresigner(),
      manifest: spyWriter(),
      reporters: [b],
    });
    const idA = a.of('pipeline-started')[0]?.requestId;
    const idB = b.of('pipeline-started')[0]?.requestId;
    expect(idA).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(idB).not.toBe(idA);
  });

  it('counts empty pages as pages', async () => {
    const result = await presignPipeline({
      source: scriptedSource([[], ['a'], []]),
      presigner: fakePresigner(),
      manifest: memoryManifestWriter(),
    });
    expect(result).toMatchObject({ pages: 3, count: 1 });
  });
});

describe('presignPipeline: per-key failures', () => {
  it('counts a presign failure, reports the key and message, and goes on', async () => {
    const reporter = recordingReporter();
    const manifest = memoryManifestWriter();
    const result = await presignPipeline({
      source: scriptedSource([['a', 'bad', 'c'], ['d']]),
      presigner: fakePresigner({ failFor: (key) => (key === 'bad' ? new Error('cannot sign bad') : undefined) }),
      manifest,
      reporters: [reporter],
    });
    expect(result).toMatchObject({ count: 3, errors: 1 });
    expect(manifest.entries.map((e) => e.key).sort()).toEqual(['a', 'c', 'd']);
    const [itemError] = reporter.of('item-error');
    expect(itemError?.key).toBe('bad');
    expect(itemError?.message).toBe('cannot sign bad');
    expect(isPresignPipelineError(itemError?.error)).toBe(true);
    expect(itemError?.error).toMatchObject({ code: 'PRESIGN_FAILED', key: 'bad' });
    expect((itemError?.error as Error | undefined)?.cause).toBeInstanceOf(Error);
  });

  it('handles a presigner that throws things that are not Errors', async () => {
    const thrown: Record<string, unknown> = { s: 'plain string', u: undefined, n: 42, o: { code: 7 }, z: null };
    const reporter = recordingReporter();
    const presigner: Presigner = {
      async presign(object: ObjectRef): Promise<string> {
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        if (object.key in thrown) throw thrown[object.key];
        return urlFor(object);
      },
    };
    const result = await presignPipeline({
      source: scriptedSource([['s', 'u', 'ok', 'n', 'o', 'z']]),
      presigner,
      manifest: memoryManifestWriter(),
      reporters: [reporter],
      concurrency: 1,
    });
    expect(result).toMatchObject({ count: 1, errors: 5 });
    const messages = Object.fromEntries(reporter.of('item-error').map((e) => [e.key, e.message]));
    expect(messages).toEqual({
      s: 'plain string',
      u: 'non-Error value thrown: undefined',
      n: 'non-Error value thrown: number 42',
      o: 'non-Error value thrown: object',
      z: 'non-Error value thrown: null',
    });
    for (const e of reporter.of('item-error')) expect(e.error).toBeInstanceOf(Error);
  });

  it('turns garbage from a custom source into item errors that name the type, never a crash', async () => {
    const reporter = recordingReporter();
    const manifest = memoryManifestWriter();
    const presigner = fakePresigner();
    const garbage = [null, undefined, 42, { key: 'x' }, '', ['y'], true, Symbol('s'), 10n];
    const result = await within(
      presignPipeline({
        source: scriptedSource([['good-1', ...garbage, 'good-2']]),
        presigner,
        manifest,
        reporters: [reporter],
      }),
      5_000,
    );
    expect(result).toMatchObject({ count: 2, errors: garbage.length });
    expect(manifest.entries.map((e) => e.key).sort()).toEqual(['good-1', 'good-2']);
    expect(presigner.calls.map((c) => c.key).sort()).toEqual(['good-1', 'good-2']);
    expect(reporter.of('item-error').map((e) => e.message)).toEqual([
      'key must be a non-empty string, got null',
      'key must be a non-empty string, got undefined',
      'key must be a non-empty string, got number',
      'key must be a non-empty string, got object',
      'key must be a non-empty string, got empty string',
      'key must be a non-empty string, got array',
      'key must be a non-empty string, got boolean',
      'key must be a non-empty string, got symbol',
      'key must be a non-empty string, got bigint',
    ]);
    for (const e of reporter.of('item-error')) {
      expect(typeof e.key).toBe('string');
      expect(e.error).toMatchObject({ code: 'INVALID_KEY' });
    }
  });

  it('reports a presigner that resolves to something other than a URL string', async () => {
    const reporter = recordingReporter();
    const presigner = {
      async presign(object: ObjectRef): Promise<string> {
        return (object.key === 'a' ? undefined : urlFor(object)) as string;
      },
    };
    const result = await presignPipeline({
      source: scriptedSource([['a', 'b']]),
      presigner,
      manifest: memoryManifestWriter(),
      reporters: [reporter],
    });
    expect(result).toMatchObject({ count: 1, errors: 1 });
    expect(reporter.of('item-error')[0]?.message).toBe('presigner returned undefined, expected a non-empty URL string');
  });

  it('fails the run when a source yields something that is not a page', async () => {
    const source = {
      bucket: 'b',
      async *pages() {
        yield 'not a page' as never;
      },
    };
    const manifest = spyWriter();
    const error = await rejectionOf(presignPipeline({ source, presigner: fakePresigner(), manifest }));
    expect(error).toMatchObject({ code: 'SOURCE_FAILED' });
    expect((error as Error).message).toContain('string "not a page"');
    expect(manifest.aborted).toHaveLength(1);
  });
});

describe('presignPipeline: the synchronous fast path', () => {
  it('uses presignSync when a presigner offers it, and falls back to presign when it returns undefined', async () => {
    const syncCalls: string[] = [];
    const asyncCalls: string[] = [];
    const presigner: Presigner = {
      presignSync(object: ObjectRef, options: PresignOptions): string | undefined {
        syncCalls.push(object.key);
        if (object.key === 'late') return undefined;
        if (object.key === 'boom') throw new Error('sync failure');
        return urlFor(object, options.expiresIn);
      },
      async presign(object: ObjectRef, options: PresignOptions): Promise<string> {
        asyncCalls.push(object.key);
        return `${urlFor(object, options.expiresIn)}&async=1`;
      },
    };
    const manifest = memoryManifestWriter();
    const result = await presignPipeline({
      source: scriptedSource([['a', 'late', 'boom', 'b']]),
      presigner,
      manifest,
      expiresIn: 120,
    });
    expect(result).toMatchObject({ count: 3, errors: 1 });
    expect(syncCalls).toEqual(['a', 'late', 'boom', 'b']);
    expect(asyncCalls).toEqual(['late']);
    expect(manifest.entries.find((e) => e.key === 'late')?.url).toContain('&async=1');
    expect(manifest.entries.find((e) => e.key === 'a')?.url).toContain('X-Amz-Expires=120');
  });
});

describe('presignPipeline: source failures', () => {
  it('rejects with the very error of a source that fails on its first page (NoSuchBucket)', async () => {
    const noSuchBucket = Object.assign(new Error('The specified bucket does not exist'), { name: 'NoSuchBucket' });
    const source = scriptedSource([['a']], { failAt: { page: 0, error: noSuchBucket } });
    const presigner = fakePresigner();
    const manifest = spyWriter();
    const error = await within(rejectionOf(presignPipeline({ source, presigner, manifest })), 2_000);
    expect(error).toBe(noSuchBucket);
    expect(manifest.aborted).toEqual([noSuchBucket]);
    expect(manifest.closed).toBe(0);
    expect(presigner.calls).toHaveLength(0);
    expect(source.context?.signal.aborted).toBe(true);
  });

  it('ends the run promptly when the source fails on page 3 (AccessDenied): workers stop, manifest aborted', async () => {
    const accessDenied = Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
    const pages = chunk(keyList(200), 20);
    const source = scriptedSource(pages, { failAt: { page: 2, error: accessDenied }, delayMs: 1 });
    const presigner = fakePresigner({ maxDelayMs: 5 });
    const manifest = spyWriter();
    const reporter = recordingReporter();
    const error = await within(
      rejectionOf(presignPipeline({ source, presigner, manifest, concurrency: 8, reporters: [reporter] })),
      2_000,
    );
    expect(error).toBe(accessDenied);
    expect(manifest.aborted).toEqual([accessDenied]);
    expect(manifest.closed).toBe(0);
    // Nothing past page 2 was pulled, and no worker starts new presigns after the failure.
    expect(source.pulls).toBe(3);
    const callsAtFailure = presigner.calls.length;
    expect(callsAtFailure).toBeLessThanOrEqual(40);
    await sleep(50);
    expect(presigner.calls.length).toBe(callsAtFailure);
    expect(presigner.inFlight).toBe(0);
    const [failed] = reporter.of('pipeline-failed');
    expect(failed?.error).toBe(accessDenied);
    expect(failed?.pages).toBe(2);
  });

  it('accepts a source whose pages() returns a plain array, and names pages() when it returns nonsense', async () => {
    const arraySource = {
      bucket: 'b',
      pages: () => [{ bucket: 'b', keys: ['a', 'b'] }] as unknown as AsyncIterable<never>,
    };
    const manifest = memoryManifestWriter();
    await expect(presignPipeline({ source: arraySource, presigner: fakePresigner(), manifest })).resolves.toMatchObject(
      {
        count: 2,
        pages: 1,
      },
    );
    const nonsense = { bucket: 'b', pages: () => 42 as unknown as AsyncIterable<never> };
    const writer = spyWriter();
    const error = await rejectionOf(
      presignPipeline({ source: nonsense, presigner: fakePresigner(), manifest: writer }),
    );
    expect(error).toMatchObject({ code: 'SOURCE_FAILED' });
    expect((error as Error).message).toBe(
      'presignPipeline: source.pages() must return an async iterable of pages, got number 42',
    );
    expect(writer.aborted).toHaveLength(1);
  });

  it('rejects with the error a source throws synchronously from pages()', async () => {
    const boom = new Error('boom');
    const source = {
      bucket: 'b',
      pages(): AsyncIterable<never> {
        throw boom;
      },
    };
    const manifest = spyWriter();
    await expect(presignPipeline({ source, presigner: fakePresigner(), manifest })).rejects.toBe(boom);
    expect(manifest.aborted).toEqual([boom]);
  });
});

describe('presignPipeline: abort', () => {
  it('stops within 100 ms when the source hangs, aborts the manifest, rejects with AbortError', async () => {
    const controller = new AbortController();
    const source = scriptedSource([['a', 'b']], { hangAt: 1 });
    const manifest = spyWriter();
    const run = presignPipeline({ source, presigner: fakePresigner(), manifest, signal: controller.signal });
    await sleep(30);
    const abortedAt = performance.now();
    controller.abort();
    const error = await within(rejectionOf(run), 1_000);
    expect(performance.now() - abortedAt).toBeLessThan(100);
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(manifest.aborted).toHaveLength(1);
    expect(manifest.closed).toBe(0);
    expect(source.context?.signal.aborted).toBe(true);
    expect(source.pulls).toBe(2);
  });

  it('stops within 100 ms when the presigner hangs, and starts no new presigns', async () => {
    const controller = new AbortController();
    const presigner = fakePresigner({ hang: true });
    const manifest = spyWriter();
    const run = presignPipeline({
      source: scriptedSource(chunk(keyList(100), 10)),
      presigner,
      manifest,
      concurrency: 3,
      signal: controller.signal,
    });
    await sleep(30);
    expect(presigner.calls).toHaveLength(3);
    const abortedAt = performance.now();
    controller.abort(new Error('user cancelled'));
    const error = await within(rejectionOf(run), 1_000);
    expect(performance.now() - abortedAt).toBeLessThan(100);
    expect(error).toMatchObject({ name: 'AbortError' });
    expect((error as Error).cause).toMatchObject({ message: 'user cancelled' });
    expect(manifest.aborted).toHaveLength(1);
    await sleep(20);
    expect(presigner.calls).toHaveLength(3);
  });

  it('stops an endless synchronous source with a synchronous presigner (the abort timer gets to run)', async () => {
    let produced = 0;
    const startedAt = performance.now();
    function* endless(): Generator<string> {
      for (;;) {
        // Timers cannot fire if the pipeline starves the event loop, so the deadline lives here.
        if (produced % 1000 === 0 && performance.now() - startedAt > 3_000)
          throw new Error('test deadline: abort never fired');
        yield `key-${produced++}`;
      }
    }
    const controller = new AbortController();
    const presigner: Presigner = {
      presignSync: (object) => urlFor(object),
      presign: async (object) => urlFor(object),
    };
    const manifest = memoryManifestWriter();
    setTimeout(() => controller.abort(), 50);
    const error = await within(
      rejectionOf(
        presignPipeline({
          source: arrayKeySource(endless(), { bucket: 'b' }),
          presigner,
          manifest,
          signal: controller.signal,
        }),
      ),
      2_000,
    );
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(manifest.state).toBe('aborted');
    const producedAtEnd = produced;
    expect(producedAtEnd).toBeGreaterThan(0);
    await sleep(30);
    expect(produced).toBe(producedAtEnd);
  });

  it('rejects an already-aborted signal before touching source, presigner, manifest or reporters', async () => {
    const controller = new AbortController();
    controller.abort();
    const source = scriptedSource([['a']]);
    let pagesCalled = false;
    const watched = {
      bucket: 'b',
      pages: (ctx: never) => {
        pagesCalled = true;
        return source.pages(ctx);
      },
    };
    const presigner = fakePresigner();
    const manifest = spyWriter();
    let subscribed = false;
    const error = await rejectionOf(
      presignPipeline({
        source: watched,
        presigner,
        manifest,
        signal: controller.signal,
        reporters: [
          {
            subscribe: () => {
              subscribed = true;
            },
          },
        ],
      }),
    );
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(pagesCalled).toBe(false);
    expect(presigner.calls).toHaveLength(0);
    expect(manifest.opened).toBeUndefined();
    expect(manifest.aborted).toHaveLength(0);
    expect(subscribed).toBe(false);
  });

  it('removes its abort listener when the run ends', async () => {
    const controller = new AbortController();
    const manifest = memoryManifestWriter();
    await presignPipeline({
      source: scriptedSource([['a']]),
      presigner: fakePresigner(),
      manifest,
      signal: controller.signal,
    });
    controller.abort();
    expect(manifest.state).toBe('closed');
    expect(manifest.entries).toHaveLength(1);
  });
});

describe('presignPipeline: backpressure', () => {
  it('does not pull the source while queueMax keys wait', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const source = scriptedSource(chunk(keyList(1000), 10));
    const presigner = fakePresigner({ gate });
    const manifest = memoryManifestWriter();
    const run = presignPipeline({ source, presigner, manifest, concurrency: 2, queueMax: 25 });
    await sleep(50);
    // Two keys are with the blocked workers; the source is pulled only while fewer than 25 keys wait,
    // so at most 25 + 2 + one page of 10 keys were ever pulled: 4 pages (plus none after).
    expect(source.pulls).toBeLessThanOrEqual(4);
    expect(source.pulls).toBeGreaterThanOrEqual(3);
    const pullsWhileBlocked = source.pulls;
    await sleep(30);
    expect(source.pulls).toBe(pullsWhileBlocked);
    release();
    const result = await within(run, 5_000);
    expect(result.count).toBe(1000);
    expect(source.pulls).toBe(101);
  });
});

describe('presignPipeline: manifest writer failures', () => {
  const keys = chunk(keyList(2000), 500);

  it('rejects with the error of a write that rejects, and aborts the manifest', async () => {
    const diskFull = new Error('ENOSPC: no space left on device');
    const manifest = spyWriter({ failWrite: { afterCalls: 1, error: diskFull } });
    const error = await within(
      rejectionOf(presignPipeline({ source: scriptedSource(keys), presigner: fakePresigner(), manifest })),
      2_000,
    );
    expect(error).toBe(diskFull);
    expect(manifest.aborted).toEqual([diskFull]);
    expect(manifest.closed).toBe(0);
  });

  it('rejects with the error of a write that throws synchronously', async () => {
    const bad = new TypeError('sync write failure');
    const manifest = spyWriter({ failWrite: { afterCalls: 0, error: bad, sync: true } });
    const error = await within(
      rejectionOf(presignPipeline({ source: scriptedSource(keys), presigner: fakePresigner(), manifest })),
      2_000,
    );
    expect(error).toBe(bad);
    expect(manifest.aborted).toEqual([bad]);
  });

  it('rejects with the error of a close that rejects, and aborts the manifest', async () => {
    const closeFailed = new Error('CompleteMultipartUpload failed');
    const manifest = spyWriter({ failClose: closeFailed });
    const error = await rejectionOf(
      presignPipeline({ source: scriptedSource(keys), presigner: fakePresigner(), manifest }),
    );
    expect(error).toBe(closeFailed);
    expect(manifest.aborted).toEqual([closeFailed]);
  });

  it('rejects with the error of an open that rejects, aborts, and never pulls the source', async () => {
    const openFailed = new Error('CreateMultipartUpload failed');
    const manifest = spyWriter({ failOpen: openFailed });
    const source = scriptedSource(keys);
    const error = await rejectionOf(presignPipeline({ source, presigner: fakePresigner(), manifest }));
    expect(error).toBe(openFailed);
    expect(manifest.aborted).toEqual([openFailed]);
    expect(source.pulls).toBe(0);
  });
});

describe('presignPipeline: reporters and events', () => {
  it('emits started, page-listed per page, manifest-completed and completed, then flushes and detaches', async () => {
    const reporter = recordingReporter();
    const result = await presignPipeline({
      source: scriptedSource([['a', 'b'], [], ['c']]),
      presigner: fakePresigner(),
      manifest: spyWriter(),
      reporters: [reporter],
      requestId: 'req-9',
      concurrency: 2,
      queueMax: 10,
      expiresIn: 300,
    });
    expect(reporter.events.map((e) => e.name)).toEqual([
      'pipeline-started',
      'page-listed',
      'page-listed',
      'page-listed',
      'manifest-completed',
      'pipeline-completed',
    ]);
    expect(reporter.of('pipeline-started')[0]).toEqual({
      requestId: 'req-9',
      bucket: 'bucket',
      expiresIn: 300,
      concurrency: 2,
      queueMax: 10,
    });
    expect(reporter.of('page-listed')).toEqual([
      { requestId: 'req-9', page: 1, keys: 2 },
      { requestId: 'req-9', page: 2, keys: 0 },
      { requestId: 'req-9', page: 3, keys: 1 },
    ]);
    expect(reporter.of('pipeline-completed')[0]?.result).toBe(result);
    expect(reporter.flushes).toBe(1);
    expect(reporter.emitter?.listenerCount('pipeline-completed')).toBe(0);
  });

  it('is not broken by reporters whose listeners, subscribe or flush throw', async () => {
    const thrower = {
      subscribe(events: import('../../src/types.js').PipelineEventEmitter) {
        for (const name of [
          'pipeline-started',
          'page-listed',
          'item-error',
          'manifest-completed',
          'pipeline-completed',
        ] as const) {
          events.on(name, () => {
            throw new Error(`listener of ${name} failed`);
          });
        }
      },
      flush() {
        throw new Error('flush failed');
      },
    };
    const badSubscribe = {
      subscribe() {
        throw new Error('subscribe failed');
      },
      async flush() {
        throw new Error('async flush failed');
      },
    };
    const recorder = recordingReporter();
    const result = await presignPipeline({
      source: scriptedSource([['a', 'bad', 'c']]),
      presigner: fakePresigner({ failFor: (key) => (key === 'bad' ? new Error('nope') : undefined) }),
      manifest: memoryManifestWriter(),
      reporters: [thrower, badSubscribe, recorder],
    });
    expect(result).toMatchObject({ count: 2, errors: 1 });
    // The well-behaved reporter still saw everything.
    expect(recorder.of('item-error')).toHaveLength(1);
    expect(recorder.of('pipeline-completed')).toHaveLength(1);
    expect(recorder.flushes).toBe(1);
  });

  it('drops the rejection of an async listener and keeps a reporter’s other listeners running', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const seen: string[] = [];
    try {
      const result = await presignPipeline({
        source: scriptedSource([['a'], ['b']]),
        presigner: fakePresigner(),
        manifest: memoryManifestWriter(),
        reporters: [
          {
            subscribe(events) {
              events.on('page-listed', async () => {
                throw new Error('async listener failed');
              });
              events.on('page-listed', () => {
                throw new Error('sync listener failed');
              });
              events.on('page-listed', (e) => void seen.push(`page ${e.page}`));
              events.once('pipeline-completed', async () => Promise.reject(new Error('once listener failed')));
              events.on('pipeline-completed', () => void seen.push('completed'));
            },
          },
        ],
      });
      await sleep(20);
      expect(result.count).toBe(2);
      expect(seen).toEqual(['page 1', 'page 2', 'completed']);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('lets a reporter remove its own listeners with off()', async () => {
    const calls: number[] = [];
    await presignPipeline({
      source: scriptedSource([['a'], ['b'], ['c']]),
      presigner: fakePresigner(),
      manifest: memoryManifestWriter(),
      reporters: [
        {
          subscribe(events) {
            const listener = (e: { page: number }): void => {
              calls.push(e.page);
              events.off('page-listed', listener);
            };
            events.on('page-listed', listener);
          },
        },
      ],
    });
    expect(calls).toEqual([1]);
  });

  it('calls the detach function a reporter returns', async () => {
    let detached = 0;
    await presignPipeline({
      source: scriptedSource([['a']]),
      presigner: fakePresigner(),
      manifest: memoryManifestWriter(),
      reporters: [{ subscribe: () => () => void detached++ }],
    });
    expect(detached).toBe(1);
  });

  it('emits pipeline-failed with counts, flushes reporters and detaches on failure', async () => {
    const reporter = recordingReporter();
    const denied = Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
    await expect(
      presignPipeline({
        source: scriptedSource([['a', 'b'], ['c']], { failAt: { page: 2, error: denied } }),
        presigner: fakePresigner(),
        manifest: spyWriter(),
        reporters: [reporter],
        concurrency: 1,
      }),
    ).rejects.toBe(denied);
    const [failed] = reporter.of('pipeline-failed');
    expect(failed).toMatchObject({ error: denied, pages: 2, errors: 0 });
    expect(failed?.count).toBeLessThanOrEqual(3);
    expect(reporter.events.at(-1)?.name).toBe('pipeline-failed');
    expect(reporter.of('pipeline-completed')).toHaveLength(0);
    expect(reporter.flushes).toBe(1);
    expect(reporter.emitter?.listenerCount('pipeline-failed')).toBe(0);
  });
});
