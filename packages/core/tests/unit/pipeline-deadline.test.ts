import { describe, expect, it } from 'vitest';
import { isPresignPipelineError } from '../../src/errors.js';
import { memoryManifestWriter } from '../../src/manifest/memory-manifest-writer.js';
import { presignPipeline } from '../../src/pipeline.js';
import { arrayKeySource } from '../../src/sources/array-key-source.js';
import {
  chunk,
  fakePresigner,
  keyList,
  recordingReporter,
  rejectionOf,
  scriptedSource,
  sleep,
  spyWriter,
  within,
} from './pipeline-helpers.js';

describe('presignPipeline: deadline', () => {
  it('aborts the page in flight at the deadline instead of waiting for it, and resumes before that page', async () => {
    // Pages 0 and 1 come at once, page 2 would take 1500 ms: the deadline (80 ms) passes while it is listed.
    const pages = chunk(keyList(50), 10);
    const source = scriptedSource(pages, { delayAt: { 2: 1500 } });
    const manifest = memoryManifestWriter();
    const started = Date.now();
    const result = await within(
      presignPipeline({ source, presigner: fakePresigner(), manifest, deadline: started + 80, queueMax: 1000 }),
      3_000,
    );
    // The run ends at the deadline plus its tail, not when the slow page would have come.
    expect(Date.now() - started).toBeLessThan(1000);
    expect(result.complete).toBe(false);
    expect(result.pages).toBe(2);
    expect(result.count).toBe(20);
    // Page 2 was never received: the next run starts after page 1, so its keys are neither lost nor duplicated.
    expect(result.nextStartAfter).toBe(pages[1]?.at(-1));
    expect(manifest.state).toBe('closed');
    expect(manifest.entries.map((e) => e.key).sort()).toEqual(pages.slice(0, 2).flat().sort());
    expect(source.pulls).toBe(3);
    expect(source.returned).toBe(true);
    // The source was told: its signal aborted with DEADLINE_REACHED, which is what cancels an S3 request.
    const signal = source.context?.signal;
    expect(signal?.aborted).toBe(true);
    expect(isPresignPipelineError(signal?.reason) && signal.reason.code).toBe('DEADLINE_REACHED');
  });

  it('returns at the deadline even when the page in flight never settles', async () => {
    const pages = chunk(keyList(30), 10);
    const source = scriptedSource(pages, { hangAt: 1 });
    const manifest = memoryManifestWriter();
    const result = await within(
      presignPipeline({ source, presigner: fakePresigner(), manifest, deadline: Date.now() + 50 }),
      2_000,
    );
    expect(result).toMatchObject({ complete: false, pages: 1, count: 10, nextStartAfter: pages[0]?.at(-1) });
    expect(manifest.state).toBe('closed');
  });

  it('stops a source that declares drainsAtDeadline but never ends, half a second after the deadline', async () => {
    // The source claims to drain at the deadline, yet its second page never comes and it ignores the deadline signal.
    const pages = chunk(keyList(30), 10);
    const scripted = scriptedSource(pages, { hangAt: 1 });
    const draining = { bucket: scripted.bucket, drainsAtDeadline: true, pages: scripted.pages.bind(scripted) };
    const manifest = memoryManifestWriter();
    const started = Date.now();
    const result = await within(
      presignPipeline({ source: draining, presigner: fakePresigner(), manifest, deadline: started + 50 }),
      3_000,
    );
    const elapsed = Date.now() - started;
    // Not before the grace (the source was not aborted at the deadline), and not much after it.
    expect(elapsed).toBeGreaterThanOrEqual(50 + 500 - 20);
    expect(elapsed).toBeLessThan(1_500);
    expect(result).toMatchObject({ complete: false, pages: 1, count: 10, nextStartAfter: pages[0]?.at(-1) });
    expect(manifest.state).toBe('closed');
    expect(scripted.returned).toBe(true);
    // A draining source is told through `deadline`, not by aborting `signal` (which means the run failed).
    expect(scripted.context?.deadline?.aborted).toBe(true);
    expect(scripted.context?.signal.aborted).toBe(false);
  });

  it('keeps the cursor exact when the deadline comes while the producer waits for queue space', async () => {
    // queueMax 10 and a presigner held back until after the deadline: the producer is waiting for space when it comes.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const pages = chunk(keyList(40), 10);
    const source = scriptedSource(pages);
    const manifest = memoryManifestWriter();
    const run = presignPipeline({
      source,
      presigner: fakePresigner({ gate }),
      manifest,
      deadline: Date.now() + 50,
      queueMax: 10,
      concurrency: 1,
    });
    await sleep(120);
    release();
    const result = await within(run, 2_000);
    expect(result.complete).toBe(false);
    expect(result.count).toBe(result.pages * 10);
    expect(result.nextStartAfter).toBe(pages[result.pages - 1]?.at(-1));
    expect(source.pulls).toBe(result.pages);
  });

  it('pulls nothing when the deadline has already passed, and still completes an empty manifest', async () => {
    const source = scriptedSource([['a']]);
    const manifest = memoryManifestWriter();
    const result = await presignPipeline({ source, presigner: fakePresigner(), manifest, deadline: Date.now() - 1 });
    expect(result).toMatchObject({ complete: false, pages: 0, count: 0 });
    expect(result.nextStartAfter).toBeUndefined();
    expect(source.pulls).toBe(0);
    expect(manifest.state).toBe('closed');
  });

  it('is complete when the deadline passes after the page the source marks as the last arrived', async () => {
    // queueMax 10 and a slow presigner: both pages are pulled at once, and the deadline (60 ms) passes while their
    // keys are presigned, with the producer waiting for queue space.
    const [first = [], second = []] = chunk(keyList(20), 10);
    const run = (last: boolean) =>
      presignPipeline({
        source: {
          bucket: 'b',
          async *pages() {
            yield { bucket: 'b', keys: first, cursor: first.at(-1) };
            yield { bucket: 'b', keys: second, cursor: second.at(-1), ...(last ? { last: true } : {}) };
          },
        },
        presigner: fakePresigner({ gate: sleep(150) }),
        manifest: memoryManifestWriter(),
        deadline: Date.now() + 60,
        queueMax: 10,
        concurrency: 1,
      });
    const marked = await within(run(true), 3_000);
    expect(marked).toMatchObject({ complete: true, pages: 2, count: 20 });
    expect('nextStartAfter' in marked).toBe(false);
    // Without the flag the run cannot know nothing follows: another run is needed to find out.
    const unmarked = await within(run(false), 3_000);
    expect(unmarked).toMatchObject({ complete: false, pages: 2, count: 20, nextStartAfter: second.at(-1) });
  });

  it('is not complete when the deadline cuts the last page off in flight: that page is the next run’s', async () => {
    const [first = [], second = []] = chunk(keyList(20), 10);
    const result = await within(
      presignPipeline({
        source: {
          bucket: 'b',
          async *pages() {
            yield { bucket: 'b', keys: first, cursor: first.at(-1) };
            await sleep(300); // the deadline (60 ms) passes meanwhile
            yield { bucket: 'b', keys: second, cursor: second.at(-1), last: true };
          },
        },
        presigner: fakePresigner(),
        manifest: memoryManifestWriter(),
        deadline: Date.now() + 60,
      }),
      3_000,
    );
    expect(result).toMatchObject({ complete: false, pages: 1, count: 10, nextStartAfter: first.at(-1) });
  });

  it('is complete, without a resume cursor, when the source ends before the deadline', async () => {
    const result = await presignPipeline({
      source: arrayKeySource(keyList(25), { bucket: 'b', pageSize: 10 }),
      presigner: fakePresigner(),
      manifest: memoryManifestWriter(),
      deadline: Date.now() + 60_000,
    });
    expect(result).toMatchObject({ complete: true, pages: 3, count: 25 });
    expect('nextStartAfter' in result).toBe(false);
  });
});

describe('presignPipeline: credential expiry', () => {
  const inSeconds = (s: number) => async () => new Date(Date.now() + s * 1000);

  it('caps the URL lifetime at the credentials’ expiry and warns by default', async () => {
    const reporter = recordingReporter();
    const presigner = fakePresigner({ credentialsExpiration: inSeconds(600) });
    const manifest = spyWriter();
    const result = await presignPipeline({
      source: scriptedSource([['a', 'b']]),
      presigner,
      manifest,
      expiresIn: 3600,
      reporters: [reporter],
    });
    expect(result.effectiveExpiresIn).toBeGreaterThanOrEqual(598);
    expect(result.effectiveExpiresIn).toBeLessThanOrEqual(600);
    expect(presigner.options.map((o) => o.expiresIn)).toEqual([result.effectiveExpiresIn, result.effectiveExpiresIn]);
    expect(manifest.opened?.expiresIn).toBe(result.effectiveExpiresIn);
    const [capped] = reporter.of('expiry-capped');
    expect(capped).toMatchObject({ requestedExpiresIn: 3600, effectiveExpiresIn: result.effectiveExpiresIn });
    expect(capped?.credentialsExpireAt).toBeInstanceOf(Date);
    expect(result.count).toBe(2);
  });

  it('refuses before listing when asked to', async () => {
    const source = scriptedSource([['a']]);
    const manifest = spyWriter();
    const reporter = recordingReporter();
    const error = await rejectionOf(
      presignPipeline({
        source,
        presigner: fakePresigner({ credentialsExpiration: inSeconds(600) }),
        manifest,
        expiresIn: 3600,
        onExpiryCapped: 'refuse',
        reporters: [reporter],
      }),
    );
    expect(isPresignPipelineError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'CREDENTIALS_EXPIRE_TOO_SOON' });
    expect((error as Error).message).toContain('expiresIn=3600');
    expect(source.pulls).toBe(0);
    expect(manifest.opened).toBeUndefined();
    expect(reporter.of('pipeline-failed')[0]?.error).toBe(error);
  });

  it('refuses credentials that have already expired, even in warn mode', async () => {
    const error = await rejectionOf(
      presignPipeline({
        source: scriptedSource([['a']]),
        presigner: fakePresigner({ credentialsExpiration: inSeconds(-5) }),
        manifest: spyWriter(),
      }),
    );
    expect(error).toMatchObject({ code: 'CREDENTIALS_EXPIRE_TOO_SOON' });
  });

  it('leaves the lifetime alone when the credentials outlive it or never expire', async () => {
    for (const credentialsExpiration of [inSeconds(7200), async () => undefined]) {
      const reporter = recordingReporter();
      const result = await presignPipeline({
        source: scriptedSource([['a']]),
        presigner: fakePresigner({ credentialsExpiration }),
        manifest: spyWriter(),
        expiresIn: 3600,
        reporters: [reporter],
      });
      expect(result.effectiveExpiresIn).toBe(3600);
      expect(reporter.of('expiry-capped')).toHaveLength(0);
    }
  });
});
