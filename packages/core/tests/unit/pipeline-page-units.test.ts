import { describe, expect, it } from 'vitest';
import { memoryManifestWriter } from '../../src/manifest/memory-manifest-writer.js';
import { presignPipeline } from '../../src/pipeline.js';
import type { KeyPage, KeySource, PageListedEvent, Reporter } from '../../src/types.js';
import { fakePresigner } from './pipeline-helpers.js';

/** A source whose pages come in units (data files of an inventory): the first page of a unit opens it. */
function unitSource(units: readonly (readonly string[][])[]): KeySource {
  return {
    bucket: 'b',
    async *pages(): AsyncGenerator<KeyPage> {
      for (const unit of units) {
        for (const [i, keys] of unit.entries()) yield { bucket: 'b', keys, ...(i > 0 ? { continues: true } : {}) };
      }
    },
  };
}

describe('KeyPage.continues', () => {
  it('counts a unit read over several pages once in pages, and still reports every page and key', async () => {
    const seen: PageListedEvent[] = [];
    const reporter: Reporter = { subscribe: (events) => void events.on('page-listed', (e) => seen.push(e)) };
    const result = await presignPipeline({
      source: unitSource([[['a', 'b'], ['c'], []], [['d']], [[], ['e', 'f']]]),
      presigner: fakePresigner(),
      manifest: memoryManifestWriter(),
      reporters: [reporter],
    });
    expect(result.count).toBe(6);
    expect(result.pages).toBe(3);
    expect(seen.map((e) => [e.page, e.keys])).toEqual([
      [1, 2],
      [1, 1],
      [1, 0],
      [2, 1],
      [3, 0],
      [3, 2],
    ]);
  });
});
