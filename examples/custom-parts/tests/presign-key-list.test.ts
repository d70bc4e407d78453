import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useS3Endpoint } from '@presign-pipeline/minio-testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presignKeyList } from '../src/presign-key-list.js';
import { parseCsv } from './csv.js';

const s3 = useS3Endpoint();
const bucket = `custom-parts-${randomBytes(4).toString('hex')}`;
// Keys a CSV has to quote, and keys a URL has to encode.
const keys = [
  'reports/plain.pdf',
  'reports/with,comma.pdf',
  'reports/with "quotes".pdf',
  'reports/ leading and trailing space .pdf',
  'reports/déjà vu 漢字.pdf',
  'reports/plus+and=equals&amp.pdf',
  'reports/=SUM(A1).pdf',
  'reports/100% done?.pdf',
  'reports/a//double-slash.pdf',
  ...Array.from({ length: 40 }, (_, i) => `reports/bulk/${i}.pdf`),
];
const bodyOf = (key: string): string => `body of ${key}`;
let dir: string;
let keysFile: string;

beforeAll(async () => {
  await s3.createBucket(bucket);
  await s3.seed(
    bucket,
    keys.map((key) => ({ key, body: bodyOf(key) })),
  );
  dir = await mkdtemp(join(tmpdir(), 'custom-parts-'));
  keysFile = join(dir, 'keys.txt');
  await writeFile(keysFile, `${keys.join('\n')}\n`);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await s3.stop();
});

describe('presignKeyList: your own source, manifest writer and reporter around presignPipeline', () => {
  it('writes one CSV row per key, quoted properly, each URL downloading its object', async () => {
    // Prepare
    const output = join(dir, 'manifest.csv');
    const printed: string[] = [];

    // Act
    const { result, summary } = await presignKeyList({
      keysFile,
      bucket,
      client: s3.client,
      output,
      print: (t) => printed.push(t),
    });

    // Assess: the CSV reads back to exactly the keys, one row each.
    const rows = parseCsv(await readFile(output, 'utf8'));
    expect(rows[0]).toEqual(['key', 'url']);
    const body = rows.slice(1);
    expect(body).toHaveLength(keys.length);
    expect(body.map(([key]) => key).sort()).toEqual([...keys].sort());
    for (const [key, url] of body) {
      const response = await fetch(url!);
      expect(response.status, key).toBe(200);
      expect(await response.text()).toBe(bodyOf(key!));
    }

    // The reporter saw the run the pipeline returned, and printed no URL.
    expect(result).toMatchObject({ count: keys.length, errors: 0, pages: 1, manifest: { location: output } });
    expect(summary).toMatchObject({ status: 'completed', keys: keys.length, presigned: keys.length, itemErrors: 0 });
    expect(printed.join('\n')).toContain(`completed: ${keys.length} of ${keys.length} keys presigned`);
    expect(printed.join('\n')).not.toMatch(/X-Amz-Signature/);
  });

  it("writes to stdout with '-'", async () => {
    // Prepare: capture stdout for the run.
    const chunks: string[] = [];
    const original = process.stdout.write;
    process.stdout.write = ((chunk: string | Uint8Array) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    }) as typeof process.stdout.write;

    // Act
    try {
      await presignKeyList({ keysFile, bucket, client: s3.client, output: '-', expiresIn: 60, print: () => undefined });
    } finally {
      process.stdout.write = original;
    }

    // Assess
    const rows = parseCsv(chunks.join(''));
    expect(rows).toHaveLength(keys.length + 1);
    expect(new URL(rows[1]![1]!).searchParams.get('X-Amz-Expires')).toBe('60');
  });

  it('signs only keys under onlyUnder; the others are item errors, left out of the CSV', async () => {
    // Prepare: a key list that strays outside reports/.
    const mixed = join(dir, 'mixed.txt');
    await writeFile(
      mixed,
      ['reports/plain.pdf', 'private/payroll.pdf', 'reports/with,comma.pdf', 'other/x.pdf'].join('\n'),
    );
    const output = join(dir, 'guarded.csv');

    // Act
    const { result, summary } = await presignKeyList({
      keysFile: mixed,
      bucket,
      client: s3.client,
      output,
      onlyUnder: 'reports/',
      print: () => undefined,
    });

    // Assess
    expect(result).toMatchObject({ count: 2, errors: 2 });
    const rows = parseCsv(await readFile(output, 'utf8')).slice(1);
    expect(rows.map(([key]) => key)).toEqual(['reports/plain.pdf', 'reports/with,comma.pdf']);
    expect(summary.failedKeys).toEqual([
      { key: 'private/payroll.pdf', message: 'key is outside reports/' },
      { key: 'other/x.pdf', message: 'key is outside reports/' },
    ]);
  });

  it('fails without leaving a CSV behind when the key file is missing', async () => {
    const output = join(dir, 'never.csv');
    const printed: string[] = [];
    await expect(
      presignKeyList({
        keysFile: join(dir, 'missing.txt'),
        bucket,
        client: s3.client,
        output,
        print: (t) => printed.push(t),
      }),
    ).rejects.toThrow(/ENOENT|no such file/);
    expect(existsSync(output)).toBe(false);
    expect((await readdir(dir)).filter((name) => name.startsWith('never.csv'))).toEqual([]);
    expect(printed.join('\n')).toMatch(/^failed: /);
  });
});
