import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { defaultSeedBody, startS3Endpoint } from '@presign-pipeline/minio-testing';
import type { S3Endpoint } from '@presign-pipeline/minio-testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPresignPipelineError } from '../../src/errors.js';
import { fileManifestWriter } from '../../src/manifest/file-manifest-writer.js';
import { memoryManifestWriter } from '../../src/manifest/memory-manifest-writer.js';
import { presignPipeline } from '../../src/pipeline.js';
import { jsonLogReporter } from '../../src/reporters/json-log-reporter.js';
import { fastPresigner } from '../../src/s3/fast-presigner.js';
import { s3ListSource } from '../../src/s3/s3-list-source.js';
import { s3ManifestWriter } from '../../src/s3/s3-manifest-writer.js';
import { sdkPresigner } from '../../src/s3/sdk-presigner.js';
import type { KeySource, ManifestEntry, Presigner } from '../../src/types.js';
import { recordingReporter } from '../unit/pipeline-helpers.js';
import { duplicates, objectsUnder, parseManifest, readText, within } from './helpers.js';

/**
 * Bad data in, clear errors out. Keys with every kind of character either presign into URLs that fetch the very
 * object, or are reported one by one as item errors (INVALID_KEY) while the run goes on; garbage from a custom source
 * is an item error naming the value's type; the JSONL writers write lines that parse back to what went in, whatever
 * the strings hold.
 */
const BUCKET = 'reliability-keys';
const PREFIX = 'awk/';

/** Keys S3 can store (the XML listing returns them unchanged), each ending in `.pdf` so nothing is filtered. */
const AWKWARD_KEYS = [
  `${PREFIX}tab\there.pdf`,
  `${PREFIX}bell\u0007nul\u0000esc\u001b.pdf`,
  `${PREFIX}del\u007fc1\u0085.pdf`,
  `${PREFIX}nonchar\ufffe\uffff.pdf`,
  `${PREFIX}bom\ufeffzero\u200bwidth.pdf`,
  `${PREFIX}rtl\u202eevil\u202c.pdf`,
  `${PREFIX}emoji 😀 family 👨‍👩‍👧 flag 🇫🇷.pdf`,
  `${PREFIX}combining e\u0301 vs é.pdf`,
  `${PREFIX}漢字/かな/한국어.pdf`,
  `${PREFIX}plus+space %20 %2F percent%.pdf`,
  `${PREFIX}query?hash#amp&eq=semi;.pdf`,
  `${PREFIX}quotes"'\`back\\slash.pdf`,
  `${PREFIX}brackets<>[]{}|^.pdf`,
  `${PREFIX}double//slash///.pdf`,
  `${PREFIX}trailing-dot..pdf`,
  `${PREFIX}~tilde!bang*star(paren)$dollar@at,comma:colon.pdf`,
  // The longest keys S3 allows: 1,024 UTF-8 bytes, in ASCII and in three-byte characters.
  `${PREFIX}${'a'.repeat(1024 - PREFIX.length - 4)}.pdf`,
  `${PREFIX}${'漢'.repeat(338)}xx.pdf`,
];

/** GETs a URL exactly as written (no path normalisation, unlike fetch), returning status and body. */
function rawGet(url: string): Promise<{ status: number; body: string }> {
  const match = /^http:\/\/([^/:]+):(\d+)(\/.*)$/.exec(url);
  if (match === null) throw new Error('not a loopback http URL');
  const [, host, port, path] = match as unknown as [string, string, string, string];
  return new Promise((resolve, reject) => {
    const req = request({ host, port: Number(port), path, method: 'GET', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(20_000, () => req.destroy(new Error('GET timed out')));
    req.end();
  });
}

/** A client that signs locally only; these presigners never send a request. */
function offlineClient(): S3Client {
  return new S3Client({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
  });
}

const presignerFactories: ReadonlyArray<[name: string, make: (client: S3Client) => Presigner]> = [
  ['sdkPresigner', (client) => sdkPresigner({ client })],
  ['fastPresigner', (client) => fastPresigner({ client })],
];

/** A run of `source` through `presigner` into a memory manifest (30 s at most), its events and JSON log lines recorded. */
async function recordedRun(source: KeySource, presigner: Presigner) {
  const reporter = recordingReporter();
  const lines: string[] = [];
  const manifest = memoryManifestWriter();
  const result = await within(
    30_000,
    'the run',
    presignPipeline({
      source,
      presigner,
      manifest,
      reporters: [reporter, jsonLogReporter({ write: (line) => lines.push(line) })],
    }),
  );
  return { result, reporter, lines, manifest };
}

describe('bad data in, clear errors out', () => {
  let s3: S3Endpoint;

  beforeAll(async () => {
    s3 = await startS3Endpoint({ log: false });
    await s3.createBucket(BUCKET);
    await s3.seed(BUCKET, AWKWARD_KEYS);
  }, 120_000);

  afterAll(async () => {
    await s3?.stop();
  });

  describe.each(presignerFactories)('%s over a real S3 API', (_name, make) => {
    it('presigns keys with control, invisible, bidi, astral and reserved characters and 1,024-byte keys: every URL fetches its object', async () => {
      // Prepare
      expect(AWKWARD_KEYS.every((k) => Buffer.byteLength(k) <= 1024)).toBe(true);
      expect(AWKWARD_KEYS.filter((k) => Buffer.byteLength(k) === 1024)).toHaveLength(2);
      const keyPrefix = `manifests/${randomUUID()}/`;

      // Act
      const result = await within(
        60_000,
        'the run',
        presignPipeline({
          source: s3ListSource({ client: s3.client, bucket: BUCKET, prefix: PREFIX }),
          presigner: make(s3.client),
          manifest: s3ManifestWriter({ client: s3.client, bucket: BUCKET, keyPrefix }),
        }),
      );

      // Assess: the manifest holds each key once, and each URL fetches that very object.
      expect(result).toMatchObject({ count: AWKWARD_KEYS.length, errors: 0 });
      const entries = parseManifest(await readText(s3.client, BUCKET, result.manifest.key as string));
      expect(duplicates(entries.map((e) => e.key))).toEqual([]);
      expect(entries.map((e) => e.key).sort()).toEqual([...AWKWARD_KEYS].sort());
      for (const { key, url } of entries) {
        const got = await rawGet(url);
        expect({ key, status: got.status, body: got.body }).toEqual({ key, status: 200, body: defaultSeedBody(key) });
      }
      expect(await objectsUnder(s3.client, BUCKET, keyPrefix)).toEqual([result.manifest.key]);
    });
  });

  describe.each(presignerFactories)('%s given keys no S3 object can have', (_name, make) => {
    it('reports unpaired surrogates and keys over 1,024 bytes as INVALID_KEY item errors; the good keys still go through', async () => {
      // Prepare
      const bad = [
        'lone-high-\ud800.pdf',
        'lone-low-\udfff.pdf',
        'reversed-pair-\ude00\ud83d.pdf',
        `${'a'.repeat(1021)}.pdf`, // 1,025 bytes
        `${'é'.repeat(511)}x.pdf`, // 1,027 bytes in 516 characters
        'x'.repeat(5000),
      ];
      const good = ['ok-1.pdf', `${'b'.repeat(1020)}.pdf`, 'ok-😀.pdf'];
      const keys = [good[0], ...bad.slice(0, 3), good[1], ...bad.slice(3), good[2]] as string[];

      // Act
      const source: KeySource = {
        bucket: 'b',
        async *pages() {
          yield { bucket: 'b', keys };
        },
      };
      const { result, reporter, lines, manifest } = await recordedRun(source, make(offlineClient()));

      // Assess
      expect(result).toMatchObject({ count: good.length, errors: bad.length });
      expect(manifest.entries.map((e) => e.key).sort()).toEqual([...good].sort());
      const itemErrors = reporter.of('item-error');
      expect(itemErrors.map((e) => e.key).sort()).toEqual([...bad].sort());
      for (const e of itemErrors) {
        expect(isPresignPipelineError(e.error) && e.error.code).toBe('INVALID_KEY');
        expect(e.message).toMatch(
          Buffer.byteLength(e.key) > 1024
            ? /^key is \d+ bytes long in UTF-8; S3 keys are at most 1024 bytes$/
            : /unpaired UTF-16 surrogate at index \d+/,
        );
      }
      // The log lines are valid JSON in valid UTF-8: unpaired surrogates come out escaped and read back unchanged.
      const logged = lines.map((l) => JSON.parse(l) as { event: string; key?: string });
      expect(
        logged
          .filter((l) => l.event === 'presign_error')
          .map((l) => l.key)
          .sort(),
      ).toEqual([...bad].sort());
      for (const line of lines) expect(Buffer.from(line, 'utf8').toString('utf8')).toBe(line);
    });
  });

  it('a custom source yielding garbage gets one item error per value, naming its type, and never crashes', async () => {
    // Prepare: everything a JavaScript source could put in a page instead of a key.
    const garbage: unknown[] = [
      null,
      undefined,
      42,
      Number.NaN,
      10n,
      true,
      {},
      { key: 'a.pdf' },
      ['a.pdf'],
      () => 'a.pdf',
      Symbol('k'),
      '',
      new Date(0),
    ];
    const expectedTypes = [
      'null',
      'undefined',
      'number',
      'number',
      'bigint',
      'boolean',
      'object',
      'object',
      'array',
      'function',
      'symbol',
      'empty string',
      'object',
    ];
    const source: KeySource = {
      bucket: 'b',
      async *pages() {
        yield { bucket: 'b', keys: ['first.pdf', ...garbage.slice(0, 6)] as string[] };
        yield { bucket: 'b', keys: [...garbage.slice(6), 'last.pdf'] as string[] };
      },
    };

    // Act
    const { result, reporter, lines, manifest } = await recordedRun(source, fastPresigner({ client: offlineClient() }));

    // Assess
    expect(result).toMatchObject({ count: 2, errors: garbage.length, pages: 2 });
    expect(manifest.entries.map((e) => e.key)).toEqual(['first.pdf', 'last.pdf']);
    const messages = reporter.of('item-error').map((e) => e.message);
    expect(messages).toEqual(expectedTypes.map((type) => `key must be a non-empty string, got ${type}`));
    for (const e of reporter.of('item-error')) {
      expect(isPresignPipelineError(e.error) && e.error.code).toBe('INVALID_KEY');
      // A description of a non-string value, never the value itself (the empty string is its own description).
      expect(e.key).toMatch(/^$|^\(.+\)$/);
    }
    expect(lines.map((l) => (JSON.parse(l) as { event: string }).event)).toEqual([
      ...garbage.map(() => 'presign_error'),
      'complete',
    ]);
  });

  describe('JSONL writers, fuzzed', () => {
    /** Any string: lone surrogates, controls, quotes, backslashes, line and paragraph separators, astral characters. */
    const anyString = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 60 }),
      fc.string({
        unit: fc.constantFrom(
          '\ud800',
          '\udfff',
          '\n',
          '\r',
          '\u2028',
          '\u2029',
          '"',
          '\\',
          '\u0000',
          '😀',
          'é',
          '/',
          '%',
        ),
        maxLength: 30,
      }),
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
    );
    const entryArb = fc.record({ key: anyString, url: anyString });
    const entries = fc.array(entryArb, { minLength: 1, maxLength: 40 });

    function expectLinesParseBack(text: string, written: readonly ManifestEntry[]): void {
      expect(text.endsWith('\n')).toBe(true);
      const lines = text.slice(0, -1).split('\n');
      expect(lines).toHaveLength(written.length);
      for (const [i, line] of lines.entries()) {
        expect(JSON.parse(line)).toEqual({ key: written[i]?.key, url: written[i]?.url });
      }
    }

    it('memoryManifestWriter: every line of text() parses back to the entry written, in order', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(entries, { minLength: 1, maxLength: 4 }), async (batches) => {
          const writer = memoryManifestWriter();
          for (const batch of batches) writer.write(batch);
          const info = await writer.close();
          const all = batches.flat();
          expectLinesParseBack(writer.text(), all);
          expect(info.bytes).toBe(Buffer.byteLength(writer.text(), 'utf8'));
        }),
        { numRuns: 300 },
      );
    });

    it('fileManifestWriter: the file read back as UTF-8 has one line per entry, each parsing back to it', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'presign-fuzz-'));
      try {
        let run = 0;
        await fc.assert(
          fc.asyncProperty(
            fc.array(entries, { minLength: 1, maxLength: 4 }),
            fc.integer({ min: 1, max: 4096 }),
            async (batches, highWaterMark) => {
              const path = join(dir, `m-${run++}.jsonl`);
              const writer = fileManifestWriter(path, { highWaterMark });
              for (const batch of batches) await writer.write(batch);
              const info = await writer.close();
              const bytes = await readFile(path);
              expect(info.bytes).toBe(bytes.length);
              // Valid UTF-8: decoding and re-encoding gives the same bytes (unpaired surrogates are escaped, not mangled).
              expect(Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes)).toBe(true);
              expectLinesParseBack(bytes.toString('utf8'), batches.flat());
            },
          ),
          { numRuns: 150 },
        );
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('s3ManifestWriter: a manifest of fuzzed entries read back from S3 parses line by line to the entries written', async () => {
      const written = fc.sample(entryArb, { numRuns: 400, seed: 20_260_427 });
      const writer = s3ManifestWriter({ client: s3.client, bucket: BUCKET, keyPrefix: `fuzz/${randomUUID()}/` });
      await writer.open?.({ requestId: 'fuzz', expiresIn: 60, signal: new AbortController().signal });
      await writer.write(written.slice(0, 200));
      await writer.write(written.slice(200));
      const info = await writer.close();
      const text = await readText(s3.client, BUCKET, info.key as string);
      expect(Buffer.byteLength(text)).toBe(info.bytes);
      expectLinesParseBack(text, written);
    });
  });
});
