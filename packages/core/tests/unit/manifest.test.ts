import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileManifestWriter } from '../../src/manifest/file-manifest-writer.js';
import { memoryManifestWriter } from '../../src/manifest/memory-manifest-writer.js';
import { presignPipeline } from '../../src/pipeline.js';
import { arrayKeySource } from '../../src/sources/array-key-source.js';
import type { ManifestEntry } from '../../src/types.js';
import { fakePresigner, keyList, rejectionOf } from './pipeline-helpers.js';

const awkward: ManifestEntry[] = [
  { key: 'plain.pdf', url: 'https://s3.test/b/plain.pdf?X-Amz-Signature=1' },
  { key: 'quote"back\\slash.pdf', url: 'https://s3.test/b/q?X-Amz-Signature=2' },
  { key: 'new\nline\ttab\u0001.pdf', url: 'https://s3.test/b/n?X-Amz-Signature=3' },
  { key: 'unicode/été/日本語/😀.pdf', url: 'https://s3.test/b/u?X-Amz-Signature=4' },
  { key: 'space + percent %20 # ? .PDF', url: 'https://s3.test/b/s?X-Amz-Signature=5' },
  { key: 'lone \ud800 surrogate', url: 'https://s3.test/b/l?X-Amz-Signature=6' },
];
const expectedText = awkward.map((e) => `${JSON.stringify({ key: e.key, url: e.url })}\n`).join('');

describe('memoryManifestWriter', () => {
  it('keeps entries and reports the UTF-8 size of the JSONL they stand for', async () => {
    const writer = memoryManifestWriter();
    writer.write(awkward.slice(0, 3));
    writer.write(awkward.slice(3));
    expect(writer.entries).toEqual(awkward);
    expect(writer.text()).toBe(expectedText);
    const info = await writer.close();
    expect(info).toEqual({ bytes: Buffer.byteLength(expectedText, 'utf8'), location: 'memory' });
    expect(info.bytes).toBeGreaterThan(expectedText.length);
    expect(writer.state).toBe('closed');
  });

  it('discards everything on abort, is idempotent, and refuses writes afterwards', async () => {
    const writer = memoryManifestWriter();
    writer.write(awkward);
    await writer.abort();
    await writer.abort();
    expect(writer.entries).toEqual([]);
    expect(writer.state).toBe('aborted');
    expect(() => writer.write(awkward)).toThrow(/aborted/);
  });

  it('records the context it was opened with', () => {
    const writer = memoryManifestWriter();
    const context = { requestId: 'r', expiresIn: 60, signal: new AbortController().signal };
    writer.open?.(context);
    expect(writer.context).toBe(context);
  });
});

describe('fileManifestWriter', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pp-file-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes JSONL lines, key first, and reports bytes and location', async () => {
    const path = join(dir, 'm.jsonl');
    const writer = fileManifestWriter(path);
    await writer.open?.({ requestId: 'r', expiresIn: 60, signal: new AbortController().signal });
    await writer.write(awkward.slice(0, 2));
    await writer.write([]);
    await writer.write(awkward.slice(2));
    const info = await writer.close();
    const text = await readFile(path, 'utf8');
    expect(text).toBe(expectedText);
    expect(info).toEqual({ bytes: (await stat(path)).size, location: path });
    expect(
      text
        .split('\n')
        .slice(0, -1)
        .map((line) => JSON.parse(line) as ManifestEntry),
    ).toEqual(awkward);
    expect(await readdir(dir)).toEqual(['m.jsonl']);
  });

  it('opens on first write when open was not called, and writes an empty file for no entries', async () => {
    const path = join(dir, 'empty.jsonl');
    const info = await fileManifestWriter(path).close();
    expect(info.bytes).toBe(0);
    expect(await readFile(path, 'utf8')).toBe('');
    const lazy = join(dir, 'lazy.jsonl');
    const writer = fileManifestWriter(lazy);
    await writer.write(awkward.slice(0, 1));
    await writer.close();
    expect(await readFile(lazy, 'utf8')).toBe(`${expectedText.split('\n')[0]}\n`);
  });

  it('keeps the right content under heavy backpressure (tiny highWaterMark)', async () => {
    const path = join(dir, 'bp.jsonl');
    const writer = fileManifestWriter(path, { highWaterMark: 16 });
    const entries = keyList(5000).map((key) => ({ key, url: `https://s3.test/${key}?X-Amz-Signature=x` }));
    for (let i = 0; i < entries.length; i += 100) await writer.write(entries.slice(i, i + 100));
    const info = await writer.close();
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(5000);
    expect(lines.map((l) => (JSON.parse(l) as ManifestEntry).key)).toEqual(keyList(5000));
    expect(info.bytes).toBe((await stat(path)).size);
  });

  it('refuses a batch holding an entry without string key and url, writing none of it', async () => {
    const path = join(dir, 'm.jsonl');
    const writer = fileManifestWriter(path);
    await writer.write(awkward.slice(0, 2));
    const bad = [awkward[2], { key: 'k.pdf', url: 42 }] as unknown as ManifestEntry[];
    await expect(writer.write(bad)).rejects.toThrow(
      /fileManifestWriter: every entry needs a string key and a string url/,
    );
    await writer.close();
    expect(await readFile(path, 'utf8')).toBe(
      awkward
        .slice(0, 2)
        .map((e) => `${JSON.stringify(e)}\n`)
        .join(''),
    );
  });

  it('on abort deletes its partial file and leaves an existing manifest at path untouched', async () => {
    const path = join(dir, 'm.jsonl');
    await writeFile(path, 'previous manifest\n');
    const writer = fileManifestWriter(path);
    await writer.write(awkward);
    expect((await readdir(dir)).length).toBe(2);
    await writer.abort(new Error('failed'));
    await writer.abort();
    expect(await readdir(dir)).toEqual(['m.jsonl']);
    expect(await readFile(path, 'utf8')).toBe('previous manifest\n');
    await expect(writer.write(awkward)).rejects.toThrow(/aborted/);
  });

  it('lets an abort that lands during close wait for it instead of racing its rename', async () => {
    const path = join(dir, 'm.jsonl');
    const writer = fileManifestWriter(path);
    await writer.write(awkward);
    const closing = writer.close();
    await writer.abort(new Error('late abort'));
    const info = await closing;
    expect(await readdir(dir)).toEqual(['m.jsonl']);
    expect(info.bytes).toBe((await stat(path)).size);
  });

  it('cleans up its partial file when close fails and the manifest is then aborted', async () => {
    const path = join(dir, 'taken');
    await mkdir(join(path, 'child'), { recursive: true });
    const writer = fileManifestWriter(path);
    await writer.write(awkward);
    await expect(writer.close()).rejects.toMatchObject({ code: expect.stringMatching(/^E/) as unknown });
    await writer.abort();
    expect(await readdir(dir)).toEqual(['taken']);
  });

  it('leaves nothing behind when a pipeline fails', async () => {
    const path = join(dir, 'm.jsonl');
    const denied = Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
    const source = {
      bucket: 'b',
      async *pages() {
        yield { bucket: 'b', keys: keyList(2000) };
        throw denied;
      },
    };
    const error = await rejectionOf(
      presignPipeline({ source, presigner: fakePresigner(), manifest: fileManifestWriter(path), concurrency: 2 }),
    );
    expect(error).toBe(denied);
    expect(await readdir(dir)).toEqual([]);
  });

  it('fails the run clearly when the directory does not exist', async () => {
    const path = join(dir, 'missing', 'm.jsonl');
    const error = await rejectionOf(
      presignPipeline({
        source: arrayKeySource(['a'], { bucket: 'b' }),
        presigner: fakePresigner(),
        manifest: fileManifestWriter(path),
      }),
    );
    expect(error).toMatchObject({ code: 'ENOENT' });
  });

  it('validates its options at creation', () => {
    expect(() => fileManifestWriter('')).toThrow(
      'fileManifestWriter: option "path" must be a non-empty string, got empty string',
    );
    expect(() => fileManifestWriter(undefined as never)).toThrow(TypeError);
    expect(() => fileManifestWriter('x', { highWaterMark: 0 })).toThrow(RangeError);
    expect(() => fileManifestWriter('x', { highWaterMark: 0 })).toThrow('"highWaterMark"');
  });
});
