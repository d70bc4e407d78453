import { describe, expect, it } from 'vitest';
import { MAX_DOCUMENT_BYTES, MAX_METRICS_PER_DIRECTIVE, MAX_VALUES_PER_METRIC } from '../../src/constants.js';
import { documentFrame, EmfDocumentBuilder, type MetricSeries, packDocuments } from '../../src/emf-document.js';

const frame = documentFrame('App', 1_700_000_000_000.4, [['Stage', 'prod']], [['requestId', '"r-1"']]);
const series = (name: string, values: number[], resolution: 1 | 60 = 60): MetricSeries => ({
  name,
  unit: 'Count',
  resolution,
  values,
});

describe('documentFrame', () => {
  it('puts namespace, rounded timestamp, dimension set, dimension values and properties around the metrics', () => {
    // Act
    const text = frame.head + frame.middle + frame.tail;

    // Assess
    expect(JSON.parse(text)).toEqual({
      _aws: {
        Timestamp: 1_700_000_000_000,
        CloudWatchMetrics: [{ Namespace: 'App', Dimensions: [['Stage']], Metrics: [] }],
      },
      Stage: 'prod',
      requestId: 'r-1',
    });
    expect(frame.baseBytes).toBe(Buffer.byteLength(text));
  });

  it('refuses a frame over the document limit and names the largest property', () => {
    const big = JSON.stringify('x'.repeat(MAX_DOCUMENT_BYTES));
    expect(() =>
      documentFrame(
        'App',
        0,
        [],
        [
          ['small', '1'],
          ['huge', big],
        ],
      ),
    ).toThrow(/over the 1000000-byte limit; the largest part is property "huge"/);
  });
});

describe('EmfDocumentBuilder', () => {
  it('writes one value as a number, several as a list, and StorageResolution only for high resolution', () => {
    // Prepare
    const builder = new EmfDocumentBuilder(frame);

    // Act
    expect(builder.tryAdd(series('One', [3]), [3])).toBe(true);
    expect(builder.tryAdd(series('Many', [1, 2], 1), [1, 2])).toBe(true);
    const doc = JSON.parse(builder.build());

    // Assess
    expect(doc._aws.CloudWatchMetrics[0].Metrics).toEqual([
      { Name: 'One', Unit: 'Count' },
      { Name: 'Many', Unit: 'Count', StorageResolution: 1 },
    ]);
    expect(doc.One).toBe(3);
    expect(doc.Many).toEqual([1, 2]);
    expect(builder.metricCount).toBe(2);
    expect(builder.bytes).toBeGreaterThanOrEqual(Buffer.byteLength(builder.build()));
  });

  it('refuses a metric that would pass the byte limit and leaves the document as it was', () => {
    // Prepare
    const builder = new EmfDocumentBuilder(frame);
    builder.tryAdd(series('Small', [1]), [1]);
    const before = builder.build();
    const name = 'N'.repeat(MAX_DOCUMENT_BYTES / 2);

    // Act
    const added = builder.tryAdd(series(name, [1]), [1]);

    // Assess
    expect(added).toBe(false);
    expect(builder.build()).toBe(before);
    expect(builder.metricCount).toBe(1);
  });

  it('is full at the metrics-per-directive limit', () => {
    const builder = new EmfDocumentBuilder(frame);
    for (let i = 0; i < MAX_METRICS_PER_DIRECTIVE; i++) {
      expect(builder.isFull).toBe(false);
      builder.tryAdd(series(`M${i}`, [i]), [i]);
    }
    expect(builder.isFull).toBe(true);
  });
});

describe('packDocuments', () => {
  it('spreads values over documents of at most the values-per-metric limit, in order', () => {
    // Prepare
    const values = Array.from({ length: MAX_VALUES_PER_METRIC * 2 + 1 }, (_, i) => i);

    // Act
    const docs = packDocuments(frame, [series('Latency', values), series('Count', [7])]).map((l) => JSON.parse(l));

    // Assess
    expect(docs).toHaveLength(3);
    expect(docs.flatMap((d) => (Array.isArray(d.Latency) ? d.Latency : [d.Latency]))).toEqual(values);
    expect(docs[0].Count).toBe(7);
    expect(docs[1].Count).toBeUndefined();
  });

  it('starts a new document when the directive is full', () => {
    const many = Array.from({ length: MAX_METRICS_PER_DIRECTIVE + 1 }, (_, i) => series(`M${i}`, [i]));
    const docs = packDocuments(frame, many).map((l) => JSON.parse(l));
    expect(docs.map((d) => d._aws.CloudWatchMetrics[0].Metrics.length)).toEqual([MAX_METRICS_PER_DIRECTIVE, 1]);
  });

  it('names a metric that fits in no document', () => {
    const name = 'N'.repeat(MAX_DOCUMENT_BYTES);
    expect(() => packDocuments(frame, [series(name, [1])])).toThrow(/does not fit in a 1000000-byte document/);
  });
});
