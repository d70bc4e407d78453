import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineBuffer, writeLines, type LineSink } from '../../src/manifest/jsonl.js';

/** What every manifest writer must produce for one entry. */
function reference(key: string, url: string): string {
  return `${JSON.stringify({ key, url })}\n`;
}

/** Encodes the entries with writeLines into buffers that start `offset` bytes in, to move the word alignment around. */
async function encodeAll(
  entries: ReadonlyArray<readonly [string, string]>,
  capacity: number,
  offset = 0,
): Promise<Buffer> {
  const parts: Buffer[] = [];
  const fresh = (): LineBuffer => {
    const buffer = new LineBuffer(capacity);
    buffer.length = offset;
    return buffer;
  };
  let current = fresh();
  const sink: LineSink = {
    buffer: () => current,
    async handOver() {
      parts.push(Buffer.from(current.bytes.subarray(offset, current.length)));
      current = fresh();
    },
    async writeLarge(line) {
      parts.push(line);
    },
  };
  await writeLines(
    'test',
    entries.map(([key, url]) => ({ key, url })),
    sink,
  );
  await sink.handOver();
  return Buffer.concat(parts);
}

const jsonEscaped = ['"', '\\', '\u0000', '\u0001', '\n', '\r', '\t', '\u001f'];
const notEscaped = [' ', '!', '#', '/', '%', '~', '\u007f', 'é', '日', '😀', '\u2028'];

describe('LineBuffer', () => {
  it('matches JSON.stringify for every ASCII character at every word alignment', async () => {
    const entries: Array<[string, string]> = [];
    for (let code = 0; code < 128; code++) {
      const c = String.fromCharCode(code);
      for (let pad = 0; pad < 9; pad++) {
        entries.push([
          'k'.repeat(pad) + c,
          `https://h/${'u'.repeat(pad)}${c}${'v'.repeat(8 - pad)}?X-Amz-Signature=ab`,
        ]);
        entries.push([c + 'x'.repeat(pad), c.repeat(pad + 1)]);
      }
    }
    const expected = entries.map(([k, u]) => reference(k, u)).join('');
    for (let offset = 0; offset < 4; offset++) {
      expect((await encodeAll(entries, 1 << 16, offset)).toString('utf8')).toBe(expected);
    }
  });

  it('escapes what JSON escapes and copies the rest as UTF-8, lone surrogates included', async () => {
    const samples = [...jsonEscaped, ...notEscaped, '\ud800', '\udfff', 'a\ud83dz', '\ude00b'];
    const entries = samples.flatMap(
      (s): Array<[string, string]> => [
        [`key-${s}-end`, `https://h/p?q=${s}`],
        [s, s],
      ],
    );
    const text = (await encodeAll(entries, 4096)).toString('utf8');
    expect(text).toBe(entries.map(([k, u]) => reference(k, u)).join(''));
    for (const line of text.trimEnd().split('\n')) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });

  it('matches JSON.stringify over generated keys and URLs, across buffer boundaries (property)', async () => {
    const piece = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.string({ unit: 'grapheme-ascii', maxLength: 200 }),
      fc.constantFrom(...jsonEscaped, ...notEscaped, '\ud800', '\udc00'),
    );
    const text = fc.array(piece, { maxLength: 6 }).map((parts) => parts.join(''));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(text, text), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 0, max: 3 }),
        async (entries, offset) => {
          const expected = entries.map(([k, u]) => reference(k, u)).join('');
          // A small buffer forces hand-overs and the large-line path; a large one keeps everything in one.
          expect((await encodeAll(entries, 64, offset)).toString('utf8')).toBe(expected);
          expect((await encodeAll(entries, 1 << 16, offset)).toString('utf8')).toBe(expected);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('appends nothing when a line might not fit, and takes it once the buffer is empty', () => {
    const buffer = new LineBuffer(256);
    const url = `https://h/${'a'.repeat(60)}`;
    expect(buffer.append('k1', url)).toBe(true);
    const used = buffer.length;
    expect(buffer.append('k2', url)).toBe(false);
    expect(buffer.length).toBe(used);
    // An escaped key that only fits once escaped into an empty buffer.
    const escaping = new LineBuffer(64);
    expect(escaping.append('\u0001\u0002', 'u')).toBe(true);
    expect(escaping.bytes.subarray(0, escaping.length).toString('utf8')).toBe(reference('\u0001\u0002', 'u'));
    expect(new LineBuffer(64).append('k', 'x'.repeat(100))).toBe(false);
  });
});
