import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileManifestWriter } from '../../src/manifest/file-manifest-writer.js';
import { memoryManifestWriter } from '../../src/manifest/memory-manifest-writer.js';
import { presignPipeline } from '../../src/pipeline.js';
import type { EntriesWrittenEvent, PipelineEventEmitter, Reporter } from '../../src/types.js';
import { chunk, fakePresigner, keyList, scriptedSource, within } from './pipeline-helpers.js';

function progressRecorder(): Reporter & { events: EntriesWrittenEvent[] } {
  const events: EntriesWrittenEvent[] = [];
  return {
    events,
    subscribe(emitter: PipelineEventEmitter) {
      emitter.on('entries-written', (event) => events.push(event));
    },
  };
}

describe('presignPipeline: entries-written progress', () => {
  it('reports each batch handed to a file writer, with the count so far and the bytes the writer holds', async () => {
    // Prepare: 1,300 keys, so the run writes batches of 512, 512 and 276.
    const dir = await mkdtemp(join(tmpdir(), 'pp-progress-'));
    const path = join(dir, 'manifest.jsonl');
    const progress = progressRecorder();
    try {
      // Act
      const result = await within(
        presignPipeline({
          source: scriptedSource(chunk(keyList(1300), 100)),
          presigner: fakePresigner(),
          manifest: fileManifestWriter(path),
          concurrency: 1,
          reporters: [progress],
        }),
        20_000,
      );
      // Assess: the batches add up to the run's count, counts grow, and the last bytes value is the file's size or less
      // (the last chunk is written at close).
      const sizes = progress.events.map((event) => event.entries);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(result.count);
      expect(sizes).toEqual([512, 512, 276]);
      const counts = progress.events.map((event) => event.count);
      expect(counts.at(-1)).toBe(1300);
      expect([...counts].sort((a, b) => a - b)).toEqual(counts);
      const fileSize = (await readFile(path)).length;
      for (const event of progress.events) {
        expect(typeof event.bytes).toBe('number');
        expect(event.bytes).toBeLessThanOrEqual(fileSize);
      }
      expect(result.manifest.bytes).toBe(fileSize);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('leaves bytes out when the writer does not tell them', async () => {
    const progress = progressRecorder();
    await presignPipeline({
      source: scriptedSource(chunk(keyList(10), 5)),
      presigner: fakePresigner(),
      manifest: memoryManifestWriter(),
      reporters: [progress],
    });
    expect(progress.events).toHaveLength(1);
    expect(progress.events[0]).toMatchObject({ entries: 10, count: 10 });
    expect(progress.events[0]).not.toHaveProperty('bytes');
  });
});
