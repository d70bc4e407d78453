import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvField, csvManifestWriter, csvRow } from '../src/csv-manifest-writer.js';
import { parseCsv } from './csv.js';

let dir: string;
const context = () => ({ requestId: 'r', expiresIn: 900, signal: new AbortController().signal });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'csv-writer-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const awkward = [
  'plain.pdf',
  'with,comma.pdf',
  'with "quotes".pdf',
  'line\nbreak.pdf',
  'cr\rhere.pdf',
  ' leading.pdf',
  'trailing.pdf ',
  'déjà vu 漢字.pdf',
  '',
];

describe('csvField / csvRow', () => {
  it('quotes only what needs quoting, doubling inner quotes', () => {
    expect(csvField('plain.pdf')).toBe('plain.pdf');
    expect(csvField('with,comma.pdf')).toBe('"with,comma.pdf"');
    expect(csvField('with "quotes".pdf')).toBe('"with ""quotes"".pdf"');
    expect(csvField('line\nbreak')).toBe('"line\nbreak"');
    expect(csvField(' leading')).toBe('" leading"');
    expect(csvField('https://h/b/k?X-Amz-Date=1&X-Amz-Signature=ab')).toBe(
      'https://h/b/k?X-Amz-Date=1&X-Amz-Signature=ab',
    );
  });

  it('reads back to the same fields, whatever the characters', () => {
    const rows = awkward.map((key) => [key, `https://example.test/${encodeURIComponent(key)}`]);
    expect(parseCsv(rows.map((row) => csvRow(row)).join(''))).toEqual(rows);
  });

  it('neutralises formulas for spreadsheets only when asked', () => {
    expect(csvRow(['=HYPERLINK("x")', 'u'])).toBe('"=HYPERLINK(""x"")",u\r\n');
    expect(csvRow(['=HYPERLINK("x")', '@u'], true)).toBe(`"'=HYPERLINK(""x"")",'@u\r\n`);
  });
});

describe('csvManifestWriter', () => {
  it('writes a header and one row per entry to a file that appears only on close', async () => {
    // Prepare
    const path = join(dir, 'manifest.csv');
    const writer = csvManifestWriter({ path });

    // Act
    await writer.open?.(context());
    await writer.write([{ key: 'a,b.pdf', url: 'https://u/1' }]);
    await writer.write([{ key: 'c"d.pdf', url: 'https://u/2' }]);
    const existedBeforeClose = existsSync(path);
    const info = await writer.close();

    // Assess
    const text = await readFile(path, 'utf8');
    expect(existedBeforeClose).toBe(false);
    expect(parseCsv(text)).toEqual([
      ['key', 'url'],
      ['a,b.pdf', 'https://u/1'],
      ['c"d.pdf', 'https://u/2'],
    ]);
    expect(info).toEqual({ bytes: Buffer.byteLength(text), location: path });
  });

  it('leaves nothing behind when aborted', async () => {
    const path = join(dir, 'aborted.csv');
    const writer = csvManifestWriter({ path });
    await writer.open?.(context());
    await writer.write([{ key: 'a.pdf', url: 'https://u/1' }]);
    await writer.abort();
    expect(existsSync(path)).toBe(false);
    expect((await readdir(dir)).filter((name) => name.startsWith('aborted.csv'))).toEqual([]);
  });

  it('writes to a stream without ending it, so stdout stays usable', async () => {
    // Prepare: a stream that holds little, so writes have to wait for the reader (backpressure).
    const stream = new PassThrough({ highWaterMark: 64 });
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    const writer = csvManifestWriter({ stream, header: false });

    // Act
    await writer.open?.(context());
    await writer.write(Array.from({ length: 50 }, (_, i) => ({ key: `k${i}.pdf`, url: `https://u/${i}` })));
    const info = await writer.close();

    // Assess
    expect(stream.writableEnded).toBe(false);
    const rows = parseCsv(Buffer.concat(chunks).toString('utf8'));
    expect(rows).toHaveLength(50);
    expect(info).toEqual({ bytes: Buffer.concat(chunks).length, location: 'stream' });
  });
});
