import { describe, expect, it } from 'vitest';
import { extractEmfMetrics, extractJsonLogs, parseEmfDocuments, serializeEmf } from '../../src/index.js';

const emf = serializeEmf({
  namespace: 'App',
  dimensions: { Function: 'f' },
  metrics: [
    { name: 'Items', value: 3 },
    { name: 'Wait', value: [1, 2], unit: 'Milliseconds', storageResolution: 1 },
  ],
  properties: { requestId: 'r1' },
  timestamp: 1_700_000_000_000,
});

const captured = [
  'START RequestId: r1 Version: $LATEST',
  '{"event":"start","request_id":"r1"}',
  'plain text {"looks":"json"} but is not',
  '2024-05-01T10:00:00.000Z\tr1\tINFO\t{"event":"presign_error","key":"a.pdf","error":"boom"}',
  '[1,2,3]',
  '"a string"',
  '{"broken": ',
  ...emf,
  `2024-05-01T10:00:01.000Z\tr1\tINFO\t${emf[0] ?? ''}`,
  '{"_aws":{"note":"not a metric document"},"event":"odd"}',
  '',
  '{"event":"complete","count":3}\r',
].join('\n');

describe('extractJsonLogs', () => {
  it('returns every JSON object line that is not EMF, including Lambda-prefixed ones', () => {
    expect(extractJsonLogs(captured)).toEqual([
      { event: 'start', request_id: 'r1' },
      { event: 'presign_error', key: 'a.pdf', error: 'boom' },
      { event: 'complete', count: 3 },
    ]);
  });

  it('returns nothing for text without JSON', () => {
    expect(extractJsonLogs('hello\nworld')).toEqual([]);
    expect(extractJsonLogs('')).toEqual([]);
  });
});

describe('parseEmfDocuments', () => {
  it('returns the EMF documents as written, prefixed or not', () => {
    const docs = parseEmfDocuments(captured);
    expect(docs).toHaveLength(2);
    expect(docs[0]).toEqual(JSON.parse(emf[0] ?? ''));
    expect(docs[1]).toEqual(docs[0]);
  });
});

describe('extractEmfMetrics', () => {
  it('round-trips what serializeEmf wrote', () => {
    expect(extractEmfMetrics(emf.join('\n'))).toEqual([
      {
        namespace: 'App',
        name: 'Items',
        unit: 'Count',
        value: 3,
        dimensions: { Function: 'f' },
        timestamp: 1_700_000_000_000,
      },
      {
        namespace: 'App',
        name: 'Wait',
        unit: 'Milliseconds',
        value: [1, 2],
        dimensions: { Function: 'f' },
        timestamp: 1_700_000_000_000,
        storageResolution: 1,
      },
    ]);
  });

  it('flattens several directives, dimension sets and documents', () => {
    const doc = {
      _aws: {
        Timestamp: 5,
        CloudWatchMetrics: [
          { Namespace: 'A', Dimensions: [['Service'], ['Service', 'Op']], Metrics: [{ Name: 'Calls' }] },
          { Namespace: 'B', Dimensions: [], Metrics: [{ Name: 'Size', Unit: 'Bytes' }, { Name: 'Missing' }] },
        ],
      },
      Service: 's',
      Op: 'get',
      Calls: 2,
      Size: 10,
    };
    const text = `${JSON.stringify(doc)}\nnoise\n${JSON.stringify({ ...doc, Calls: 9 })}`;
    const flat = extractEmfMetrics(text).map((m) => [m.namespace, m.name, m.unit, m.value, m.dimensions]);
    expect(flat).toEqual([
      ['A', 'Calls', 'None', 2, { Service: 's' }],
      ['A', 'Calls', 'None', 2, { Service: 's', Op: 'get' }],
      ['B', 'Size', 'Bytes', 10, {}],
      ['A', 'Calls', 'None', 9, { Service: 's' }],
      ['A', 'Calls', 'None', 9, { Service: 's', Op: 'get' }],
      ['B', 'Size', 'Bytes', 10, {}],
    ]);
  });

  it('ignores JSON logs and documents without metric directives', () => {
    expect(extractEmfMetrics('{"event":"x"}\n{"_aws":{}}\nnot json')).toEqual([]);
  });

  it('keeps a __proto__ dimension as an ordinary key', () => {
    const [withProto] = serializeEmf({
      namespace: 'App',
      dimensions: JSON.parse('{"__proto__":"p"}'),
      metrics: { M: 1 },
      timestamp: 1,
    });
    const [metric] = extractEmfMetrics(withProto ?? '');
    expect(Object.keys(metric?.dimensions ?? {})).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(metric?.dimensions)).toBe(Object.prototype);
  });
});
