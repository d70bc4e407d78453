import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { fileManifestWriter } from '../../src/manifest/file-manifest-writer.js';
import { isEscapeFreeBatch, markEscapeFreeBatch, vouchForSyncUrls } from '../../src/manifest/jsonl.js';
import { presignPipeline } from '../../src/pipeline.js';
import { fastPresigner } from '../../src/s3/fast-presigner.js';
import { arrayKeySource } from '../../src/sources/array-key-source.js';
import type { ManifestEntry, ManifestWriter, ObjectRef, PresignOptions, Presigner } from '../../src/types.js';
import { keyList } from './pipeline-helpers.js';

const client = new S3Client({
  region: 'eu-west-1',
  credentials: {
    accessKeyId: 'AKIDEXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    sessionToken: 'token/+=',
  },
});
afterAll(() => client.destroy());

/** A writer that records, per write, whether the pipeline vouched for the batch. */
function recordingWriter(): ManifestWriter & { marks: boolean[]; entries: ManifestEntry[] } {
  const marks: boolean[] = [];
  const entries: ManifestEntry[] = [];
  return {
    marks,
    entries,
    write(batch) {
      marks.push(isEscapeFreeBatch(batch));
      entries.push(...batch);
    },
    close: async () => ({ bytes: 0 }),
    abort: async () => undefined,
  };
}

describe('escape-free batches (the manifest writers skip scanning URLs the presigner vouches for)', () => {
  it('marks the batches of a warm fastPresigner, whose synchronous URLs it vouches for', async () => {
    const presigner = fastPresigner({ client });
    await presigner.presign({ bucket: 'reports', key: 'warm-up' }, { expiresIn: 60 });
    const manifest = recordingWriter();
    await presignPipeline({ source: arrayKeySource(keyList(1500), { bucket: 'reports' }), presigner, manifest });
    expect(manifest.entries).toHaveLength(1500);
    expect(manifest.marks.length).toBeGreaterThan(1);
    expect(manifest.marks.every(Boolean)).toBe(true);
  });

  it('does not mark a batch holding a URL from the asynchronous path (the first, cold, keys)', async () => {
    const manifest = recordingWriter();
    await presignPipeline({
      source: arrayKeySource(keyList(2000), { bucket: 'reports' }),
      presigner: fastPresigner({ client }),
      manifest,
      concurrency: 1,
    });
    expect(manifest.marks[0]).toBe(false);
    expect(manifest.marks.slice(1).every(Boolean)).toBe(true);
  });

  it('marks nothing for a presigner that does not vouch, nor for a copy or a wrapper of one that does', async () => {
    const fast = fastPresigner({ client });
    await fast.presign({ bucket: 'reports', key: 'warm-up' }, { expiresIn: 60 });
    const wrapper: Presigner = {
      presign: (object: ObjectRef, options: PresignOptions) => fast.presign(object, options),
      presignSync: (object: ObjectRef, options: PresignOptions) => fast.presignSync(object, options),
    };
    for (const presigner of [wrapper, { ...fast }]) {
      const manifest = recordingWriter();
      await presignPipeline({ source: arrayKeySource(keyList(600), { bucket: 'reports' }), presigner, manifest });
      expect(manifest.entries).toHaveLength(600);
      expect(manifest.marks.some(Boolean)).toBe(false);
    }
  });

  it('keeps the manifest exact for a vouched batch whose URLs are not plain ASCII after all', async () => {
    // A presigner breaking its word: the writer still escapes what the ASCII check lets through to the slow path,
    // and writes every line that JSON.stringify would.
    const odd = ['https://h/é?x=1', 'https://h/\ud800', 'https://h/日本'];
    let i = 0;
    const presigner = vouchForSyncUrls({
      presignSync: () => odd[i++ % odd.length],
      presign: async () => 'unused',
    });
    const dir = await mkdtemp(join(tmpdir(), 'escape-free-'));
    try {
      const path = join(dir, 'm.jsonl');
      await presignPipeline({
        source: arrayKeySource(keyList(9), { bucket: 'b' }),
        presigner,
        manifest: fileManifestWriter(path),
      });
      const expected = keyList(9)
        .map((key, n) => `${JSON.stringify({ key, url: odd[n % odd.length] })}\n`)
        .join('');
      expect(await readFile(path, 'utf8')).toBe(expected);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('marks by identity: only the very batch array the pipeline marked', () => {
    const batch: ManifestEntry[] = [{ key: 'k', url: 'u' }];
    expect(isEscapeFreeBatch(batch)).toBe(false);
    markEscapeFreeBatch(batch);
    expect(isEscapeFreeBatch(batch)).toBe(true);
    expect(isEscapeFreeBatch([...batch])).toBe(false);
  });
});
