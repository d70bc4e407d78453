import { describe, expect, it } from 'vitest';
import {
  extractEmfMetrics,
  MAX_DOCUMENT_BYTES,
  MAX_METRICS_PER_DIRECTIVE,
  MAX_VALUES_PER_METRIC,
  serializeEmf,
} from '../../src/index.js';
import type { EmfMetricInput } from '../../src/index.js';

const base = { namespace: 'App', timestamp: 1_700_000_000_000 } as const;

interface Doc {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: Array<{
      Namespace: string;
      Dimensions: string[][];
      Metrics: Array<{ Name: string; Unit: string; StorageResolution?: number }>;
    }>;
  };
  [member: string]: unknown;
}

/** Parses every line and checks the rules each document must meet on its own. */
function parseValid(lines: string[]): Doc[] {
  return lines.map((line) => {
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_DOCUMENT_BYTES);
    const doc = JSON.parse(line) as Doc;
    expect(doc._aws.CloudWatchMetrics).toHaveLength(1);
    const directive = doc._aws.CloudWatchMetrics[0];
    if (!directive) throw new Error('no directive');
    expect(directive.Metrics.length).toBeGreaterThan(0);
    expect(directive.Metrics.length).toBeLessThanOrEqual(MAX_METRICS_PER_DIRECTIVE);
    for (const set of directive.Dimensions) for (const key of set) expect(typeof doc[key]).toBe('string');
    for (const { Name } of directive.Metrics) {
      const value = doc[Name];
      if (Array.isArray(value)) {
        expect(value.length).toBeGreaterThan(1);
        expect(value.length).toBeLessThanOrEqual(MAX_VALUES_PER_METRIC);
      } else {
        expect(typeof value).toBe('number');
      }
    }
    return doc;
  });
}

const manyMetrics = (n: number): EmfMetricInput[] => Array.from({ length: n }, (_, i) => ({ name: `M${i}`, value: i }));

describe('serializeEmf', () => {
  it('writes dimensions, then metrics, then properties at the top level', () => {
    const [line, ...rest] = serializeEmf({
      ...base,
      dimensions: { Function: 'f', Stage: 'prod' },
      metrics: { Items: 2, UploadBytes: [1, 2] },
      properties: { requestId: 'r1', detail: { nested: true } },
    });
    expect(rest).toEqual([]);
    expect(line).toBe(
      '{"_aws":{"Timestamp":1700000000000,"CloudWatchMetrics":[{"Namespace":"App","Dimensions":[["Function","Stage"]],' +
        '"Metrics":[{"Name":"Items","Unit":"Count"},{"Name":"UploadBytes","Unit":"Bytes"}]}]},' +
        '"Function":"f","Stage":"prod","Items":2,"UploadBytes":[1,2],"requestId":"r1","detail":{"nested":true}}',
    );
  });

  it('returns no document when there are no metrics', () => {
    expect(serializeEmf({ ...base, dimensions: { Function: 'f' }, metrics: [], properties: { a: 1 } })).toEqual([]);
    expect(serializeEmf({ ...base, metrics: {} })).toEqual([]);
  });

  it.each([
    [1, 1],
    [100, 1],
    [101, 2],
    [250, 3],
  ])('splits %i metrics into %i valid document(s), each repeating the dimensions and properties', (n, documents) => {
    const lines = serializeEmf({
      ...base,
      dimensions: { Function: 'f' },
      metrics: manyMetrics(n),
      properties: { requestId: 'r' },
    });
    const docs = parseValid(lines);
    expect(docs).toHaveLength(documents);
    for (const doc of docs) {
      expect(doc.Function).toBe('f');
      expect(doc.requestId).toBe('r');
      expect(doc._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['Function']]);
    }
    const written = extractEmfMetrics(lines.join('\n')).map((m) => [m.name, m.value]);
    expect(written).toEqual(manyMetrics(n).map((m) => [m.name, m.value]));
  });

  it.each([
    [100, [100]],
    [101, [100, 1]],
    [250, [100, 100, 50]],
  ])('splits a series of %i values into documents of %j values', (n, sizes) => {
    const values = Array.from({ length: n }, (_, i) => i * 1.5);
    const lines = serializeEmf({ ...base, metrics: [{ name: 'Latency', value: values, unit: 'Milliseconds' }] });
    const docs = parseValid(lines);
    expect(docs.map((doc) => [doc.Latency].flat().length)).toEqual(sizes);
    expect(docs.flatMap((doc) => [doc.Latency].flat())).toEqual(values);
  });

  it('merges list entries of one name into one series and packs other metrics alongside', () => {
    const lines = serializeEmf({
      ...base,
      metrics: [
        { name: 'Wait', value: 1, unit: 'Milliseconds' },
        { name: 'Count', value: 4 },
        { name: 'Wait', value: [2, 3], unit: 'Milliseconds' },
      ],
    });
    const [doc] = parseValid(lines);
    expect(doc?.Wait).toEqual([1, 2, 3]);
    expect(doc?.Count).toBe(4);
  });

  it('splits by size to stay under the document byte limit', () => {
    // Prepare: a 600 KB property plus 100 metrics of ~6 KB each cannot share one document.
    const name = (i: number): string => `${i}:`.padEnd(1024, '€');
    const metrics = Array.from({ length: 100 }, (_, i) => ({ name: name(i), value: i }));
    const properties = { payload: 'x'.repeat(600_000) };

    // Act
    const lines = serializeEmf({ ...base, metrics, properties });

    // Assess
    const docs = parseValid(lines);
    expect(docs.length).toBeGreaterThan(1);
    for (const doc of docs) expect(doc.payload).toBe(properties.payload);
    expect(extractEmfMetrics(lines.join('\n')).map((m) => [m.name, m.value])).toEqual(
      metrics.map((m) => [m.name, m.value]),
    );
  });

  it('refuses clearly when a property alone exceeds the limit', () => {
    const input = { ...base, metrics: { Items: 1 }, properties: { small: 1, huge: 'x'.repeat(MAX_DOCUMENT_BYTES) } };
    expect(() => serializeEmf(input)).toThrow(RangeError);
    expect(() => serializeEmf(input)).toThrow(/largest part is property "huge" \(1000002 bytes\)/);
  });

  it('refuses the 31st dimension, naming it', () => {
    const dimensions = Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`D${i}`, 'v']));
    expect(() => serializeEmf({ ...base, dimensions, metrics: { Items: 1 } })).toThrow(
      /dimension "D30" is dimension 31 of the set; at most 30/,
    );
    delete dimensions.D30;
    expect(
      parseValid(serializeEmf({ ...base, dimensions, metrics: { Items: 1 } }))[0]?._aws.CloudWatchMetrics[0]
        ?.Dimensions[0],
    ).toHaveLength(30);
  });

  it.each([
    [{ metrics: { Bad: Number.NaN } }, RangeError, /"Bad": value NaN is not a finite number/],
    [{ metrics: { Bad: [1, Number.POSITIVE_INFINITY] } }, RangeError, /"Bad": value Infinity/],
    [{ metrics: { Bad: [] } }, RangeError, /"Bad": value array is empty/],
    [{ metrics: [{ name: 'Bad', value: null }] }, TypeError, /"Bad": value must be a number, got object/],
    [{ metrics: [null] }, TypeError, /holds a null/],
    [{ metrics: [{ name: 'x'.repeat(1025), value: 1 }] }, RangeError, /got 1025/],
    [
      {
        metrics: [
          { name: 'A', value: 1, unit: 'Count' },
          { name: 'A', value: 1, unit: 'Bytes' },
        ],
      },
      RangeError,
      /conflicts/,
    ],
    [
      { metrics: [{ name: 'A', value: 1, storageResolution: 30 }] },
      RangeError,
      /"A": storage resolution must be 1 or 60/,
    ],
    [{ dimensions: { Items: 'x' }, metrics: { Items: 1 } }, RangeError, /metric "Items" has the name of a dimension/],
    [{ properties: { Items: 'x' }, metrics: { Items: 1 } }, RangeError, /metric "Items" has the name of a property/],
    [{ dimensions: { F: 'x' }, properties: { F: 'y' }, metrics: { Items: 1 } }, RangeError, /property "F"/],
    [{ properties: { _aws: {} }, metrics: { Items: 1 } }, RangeError, /"_aws" is reserved/],
    [{ timestamp: Number.NaN, metrics: { Items: 1 } }, RangeError, /timestamp must be epoch milliseconds/],
    [{ namespace: '', metrics: { Items: 1 } }, RangeError, /namespace must be 1\.\.255/],
  ])('refuses invalid input %#, naming it and returning nothing', (overrides, type, message) => {
    const input = { ...base, ...overrides } as never;
    expect(() => serializeEmf(input)).toThrow(type);
    expect(() => serializeEmf(input)).toThrow(message);
  });

  it('accepts the longest legal names and values at the edge of the range', () => {
    const name = 'n'.repeat(1024);
    const [line] = serializeEmf({
      ...base,
      metrics: [
        { name, value: 2 ** 360 },
        { name: 'Neg', value: -(2 ** 360) },
      ],
    });
    expect(JSON.parse(line ?? '')[name]).toBe(2 ** 360);
  });
});
