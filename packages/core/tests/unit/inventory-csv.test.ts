import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvRecordReader } from '../../src/inventory/csv-records.js';

/** Reads `text` split at `cuts` into records, keeping every column. */
function readAll(text: string, columns: number, cuts: readonly number[] = []): string[][] {
  const reader = new CsvRecordReader(
    columns,
    Array.from({ length: columns }, (_, i) => i),
  );
  const records: string[][] = [];
  const onRecord = (fields: (string | undefined)[]): void => {
    records.push(fields.map((f) => f ?? ''));
  };
  let from = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    reader.push(text.slice(from, cut), onRecord);
    from = cut;
  }
  reader.push(text.slice(from), onRecord);
  reader.end(onRecord);
  return records;
}

const field = fc.string({
  unit: fc.constantFrom('a', 'b', ',', '"', '\n', '\r', ' ', '%', '+', 'é', '😀'),
  maxLength: 8,
});

/** S3 quotes every field; a writer may also leave plain fields bare. */
function toCsv(records: readonly string[][], quoteAll: boolean, newline: string): string {
  const cell = (v: string): string => (quoteAll || /[",\r\n]/.test(v) || v === '' ? `"${v.replace(/"/g, '""')}"` : v);
  return records.map((r) => r.map(cell).join(',')).join(newline) + newline;
}

describe('CsvRecordReader', () => {
  it('reads what csv-parse reads, however the text is cut into chunks', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 4 })
          .chain((columns) =>
            fc.tuple(
              fc.constant(columns),
              fc.array(fc.array(field, { minLength: columns, maxLength: columns }), { minLength: 1, maxLength: 6 }),
              fc.boolean(),
              fc.constantFrom('\n', '\r\n'),
              fc.array(fc.nat(), { maxLength: 6 }),
            ),
          ),
        ([columns, records, quoteAll, newline, rawCuts]) => {
          const text = toCsv(records, quoteAll, newline);
          const cuts = rawCuts.map((c) => c % (text.length + 1));
          const oracle = parse(text, { relax_column_count: true }) as string[][];
          expect(readAll(text, columns, cuts)).toEqual(oracle);
          expect(oracle).toEqual(records);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('keeps only the columns asked for', () => {
    const reader = new CsvRecordReader(4, [1, 3]);
    const seen: (string | undefined)[][] = [];
    reader.push('"b","k1","1","x"\n"b","k2","2",""\n', (f) => seen.push([...f]));
    reader.end((f) => seen.push([...f]));
    expect(seen).toEqual([
      [undefined, 'k1', undefined, 'x'],
      [undefined, 'k2', undefined, ''],
    ]);
  });

  it.each([
    [
      'a field missing',
      '"b","k1","1","x"\n"b","k2","2"\n',
      /record 2 has 3 fields, the manifest's fileSchema 4 columns/,
    ],
    ['a field too many', '"b","k1","1","x","v"\n', /record 1 has 5 fields, the manifest's fileSchema 4 columns/],
    ['a last record short of fields', '"b","k1","1","x"\r\n"b"', /record 2 has 1 field, the manifest's fileSchema 4/],
  ])('refuses a record with %s', (_name, text, message) => {
    expect(() => readAll(text, 4)).toThrow(message);
    // However the text arrives.
    expect(() => readAll(text, 4, [3, 9, 20])).toThrow(message);
  });

  it('reads a last record without a line break, and skips blank lines', () => {
    expect(readAll('"a","b"\n\n"c","d"', 2)).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
  });

  it('rejects text that is not CSV', () => {
    expect(() => readAll('ab"c,d\n', 2)).toThrow(/malformed CSV/);
    expect(() => readAll('"ab"c,d\n', 2)).toThrow(/malformed CSV/);
    expect(() => readAll('"never closed', 2)).toThrow(/malformed CSV/);
  });
});
