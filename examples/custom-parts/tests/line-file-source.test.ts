import { createReadStream, type ReadStream } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import type { KeyPage } from '@presign-pipeline/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lineFileSource, lineStreamSource } from '../src/line-file-source.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'line-source-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const context = () => ({ signal: new AbortController().signal });

async function collect(source: { pages(c: { signal: AbortSignal }): AsyncIterable<KeyPage> }): Promise<KeyPage[]> {
  const pages: KeyPage[] = [];
  for await (const page of source.pages(context())) pages.push(page);
  return pages;
}

describe('lineStreamSource / lineFileSource', () => {
  it('is lazy: two pages of a million-line stream read only a few thousand lines', async () => {
    // Prepare: a stream that makes each line only when read, counting them.
    let produced = 0;
    let input: Readable | undefined;
    function* lines(): Generator<string> {
      for (let i = 0; i < 1_000_000; i++) {
        produced++;
        yield `reports/${i}.pdf\n`;
      }
    }
    const source = lineStreamSource(() => (input = Readable.from(lines())), { bucket: 'b', pageSize: 100 });

    // Act: pull two pages, then stop, as an aborted pipeline would.
    const iterator = source.pages(context())[Symbol.asyncIterator]();
    const first = await iterator.next();
    const second = await iterator.next();
    await iterator.return?.();

    // Assess
    expect(first.value?.keys).toHaveLength(100);
    expect(second.value?.keys[0]).toBe('reports/100.pdf');
    expect(produced).toBeLessThan(5_000);
    expect(input?.destroyed).toBe(true);
  });

  it('reads a file only as far as the pages taken', async () => {
    // Prepare: 200,000 keys, about 5 MB.
    const file = join(dir, 'many-keys.txt');
    await writeFile(
      file,
      Array.from({ length: 200_000 }, (_, i) => `archive/2026/${String(i).padStart(7, '0')}.pdf\n`).join(''),
    );
    const size = (await stat(file)).size;
    let input: ReadStream | undefined;
    const source = lineStreamSource(() => (input = createReadStream(file, { highWaterMark: 16 * 1024 })), {
      bucket: 'b',
      pageSize: 1000,
    });

    // Act
    const iterator = source.pages(context())[Symbol.asyncIterator]();
    const first = await iterator.next();
    const bytesRead = input!.bytesRead;
    await iterator.return?.();

    // Assess: one page of 1000 keys needs about 30 KB of the file, not all of it.
    expect(first.value?.keys).toHaveLength(1000);
    expect(bytesRead).toBeLessThan(size / 10);
    expect(input!.destroyed).toBe(true);
  });

  it('yields pages of pageSize, keeps keys verbatim, skips empty lines and handles CRLF', async () => {
    const file = join(dir, 'keys.txt');
    await writeFile(file, 'a.pdf\r\n b with spaces .pdf\n\n\nc,d.pdf\r\ne"f.pdf\ng.pdf');
    const pages = await collect(lineFileSource(file, { bucket: 'reports', pageSize: 2 }));
    expect(pages).toEqual([
      { bucket: 'reports', keys: ['a.pdf', ' b with spaces .pdf'], cursor: ' b with spaces .pdf' },
      { bucket: 'reports', keys: ['c,d.pdf', 'e"f.pdf'], cursor: 'e"f.pdf' },
      { bucket: 'reports', keys: ['g.pdf'], cursor: 'g.pdf' },
    ]);
  });

  it('rejects with the file error when the file is missing', async () => {
    await expect(collect(lineFileSource(join(dir, 'nope.txt'), { bucket: 'b' }))).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  it('stops and releases the stream when the run is aborted while waiting for data', async () => {
    // Prepare: a stream that never ends.
    const input = new PassThrough();
    input.write('a.pdf\n');
    const controller = new AbortController();
    const iterator = lineStreamSource(() => input, { bucket: 'b' })
      .pages({ signal: controller.signal })
      [Symbol.asyncIterator]();

    // Act
    const pending = iterator.next();
    setTimeout(() => controller.abort(), 20);
    const step = await pending;

    // Assess: no partial page after an abort, and the stream is destroyed.
    expect(step.done).toBe(true);
    expect(input.destroyed).toBe(true);
  }, 5_000);

  it('refuses bad options before reading anything', () => {
    expect(() => lineFileSource('', { bucket: 'b' })).toThrow(/path/);
    expect(() => lineFileSource('keys.txt', { bucket: '' })).toThrow(/bucket/);
    expect(() => lineFileSource('keys.txt', { bucket: 'b', pageSize: 0 })).toThrow(/pageSize/);
  });
});
