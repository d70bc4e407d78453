import { describe, expect, it } from 'vitest';
import { isPresignPipelineError } from '../../src/errors.js';
import { memoryManifestWriter } from '../../src/manifest/memory-manifest-writer.js';
import { presignPipeline } from '../../src/pipeline.js';
import { arrayKeySource } from '../../src/sources/array-key-source.js';
import { chunk, fakePresigner, keyList, recordingReporter, rejectionOf, scriptedSource, sleep, spyWriter, within } from './pipeline-helpers.js';

describe('presignPipeline: deadline', () => {
  it('stops pulling pages once the deadline passed, finishes what it holds, and says where to resume', async () => {
    // Pages 0 and 1 come at once, page 2 takes 150 ms, so the deadline (80 ms) passes while page 2 is being listed.
    const pages = chunk(keyList(50), 10);
    const source = scriptedSource(pages, { delayAt: { 2: 150 } });
    const manifest = memoryManifestWriter();
    const result = await within(
      presignPipeline({ source, presigner: fakePresigner(), manifest, deadline: Date.now() + 80, queueMax: 1000 }),
      3_000,
    );
    expect(result.complete).toBe(false);
    expect(result.pages).toBe(3);
    expect(result.count).toBe(30);
    expect(result.nextStartAfter).toBe(pages[2]?.at(-1));
    expect(manifest.state).toBe('closed');
    expect(manifest.entries.map((e) => e.key).sort()).toEqual(pages.slice(0, 3).flat().sort());
    expect(source.pulls).toBe(3);
    expect(source.returned).toBe(true);
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

  it('is complete when the deadline passes while the page the source marks as the last is listed', async () => {
    const [first = [], second = []] = chunk(keyList(20), 10);
    const run = (last: boolean) =>
      presignPipeline({
        source: {
          bucket: 'b',
          async *pages() {
            yield { bucket: 'b', keys: first, cursor: first.at(-1) };
            await sleep(150); // the deadline (80 ms) passes meanwhile
            yield { bucket: 'b', keys: second, cursor: second.at(-1), ...(last ? { last: true } : {}) };
          },
        },
        presigner: fakePresigner(),
        manifest: memoryManifestWriter(),
        deadline: Date.now() + 80,
      });
    const marked = await within(run(true), 3_000);
    expect(marked).toMatchObject({ complete: true, pages: 2, count: 20 });
    expect('nextStartAfter' in marked).toBe(false);
    // Without the flag the run cannot know nothing follows: another run is needed to find out.
    const unmarked = await within(run(false), 3_000);
    expect(unmarked).toMatchObject({ complete: false, pages: 2, count: 20, nextStartAfter: second.at(-1) });
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
