import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  emfReporter,
  extractEmfMetrics,
  extractJsonLogs,
  MAX_DOCUMENT_BYTES,
  MAX_METRICS_PER_DIRECTIVE,
  MAX_VALUES_PER_METRIC,
  parseEmfDocuments,
  serializeEmf,
} from '../../src/index.js';
import type { EmfUnit } from '../../src/index.js';

// Any code point, control characters and lone surrogates included: JSON escapes them, so lines stay lines.
const anyText = (maxLength: number) =>
  fc.string({ unit: 'binary', minLength: 1, maxLength }).filter((s) => s.trim() !== '' && s !== '_aws');
// Dimension names must be printable ASCII, not start with ':'.
const dimensionName = fc
  .string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    minLength: 1,
    maxLength: 30,
  })
  .filter((s) => s.trim() !== '' && !s.startsWith(':') && s !== '_aws');
const metricValue = fc.oneof(
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.double({ min: -1e100, max: 1e100, noNaN: true, noDefaultInfinity: true }),
);
// Mostly single values, sometimes a series long enough to be split.
const series = fc.oneof(
  { weight: 5, arbitrary: fc.array(metricValue, { minLength: 1, maxLength: 3 }) },
  { weight: 1, arbitrary: fc.array(metricValue, { minLength: 90, maxLength: 230 }) },
);
const units: readonly EmfUnit[] = ['Count', 'Bytes', 'Milliseconds', 'Percent', 'None', 'Count/Second'];

const emission = fc
  .record({
    dimensions: fc.uniqueArray(fc.tuple(dimensionName, anyText(40)), {
      selector: ([name]) => name,
      maxLength: 30,
      size: 'max',
    }),
    metrics: fc.uniqueArray(fc.record({ name: anyText(60), value: series, unit: fc.constantFrom(...units) }), {
      selector: ({ name }) => name,
      maxLength: 150,
      size: 'max',
    }),
    properties: fc.uniqueArray(fc.tuple(anyText(20), fc.jsonValue({ maxDepth: 2 })), {
      selector: ([name]) => name,
      maxLength: 5,
    }),
  })
  .map((drawn) => {
    // Names must not collide across dimensions, metrics and properties.
    const taken = new Set(drawn.dimensions.map(([name]) => name));
    const metrics = drawn.metrics.filter(({ name }) => !taken.has(name));
    for (const { name } of metrics) taken.add(name);
    return {
      dimensions: Object.fromEntries(drawn.dimensions),
      metrics,
      properties: Object.fromEntries(drawn.properties.filter(([name]) => !taken.has(name))),
    };
  });

/** -0 is written as 0 (JSON has no negative zero). */
const plain = (values: readonly number[]): number[] => values.map((v) => (v === 0 ? 0 : v));

/**
 * Checks the lines written for one emission against what went in. Plain loops collect problems and a few `expect`
 * calls judge them, which keeps hundreds of runs fast.
 */
function assertRoundTrip(
  lines: string[],
  input: {
    dimensions: Record<string, string>;
    metrics: Array<{ name: string; value: readonly number[]; unit: string }>;
    properties: Record<string, unknown>;
  },
): void {
  if (input.metrics.length === 0) {
    expect(lines).toEqual([]);
    return;
  }
  const problems: string[] = [];
  const text = lines.join('\n');
  for (const line of lines) {
    if (line.includes('\n')) problems.push('a document spans several lines');
    if (Buffer.byteLength(line) > MAX_DOCUMENT_BYTES) problems.push('a document is over the byte limit');
    JSON.parse(line);
  }
  const documents = parseEmfDocuments(text);
  expect(documents).toHaveLength(lines.length);
  expect(extractJsonLogs(text)).toEqual([]);
  const expectedProperties = JSON.stringify(input.properties);
  for (const doc of documents) {
    const metrics = doc._aws.CloudWatchMetrics[0]?.Metrics ?? [];
    if (metrics.length > MAX_METRICS_PER_DIRECTIVE) problems.push(`${metrics.length} metrics in one directive`);
    for (const { Name } of metrics) {
      const value = doc[Name];
      if (Array.isArray(value) && value.length > MAX_VALUES_PER_METRIC)
        problems.push(`${value.length} values of one metric`);
    }
    const properties = Object.fromEntries(Object.keys(input.properties).map((name) => [name, doc[name]]));
    if (JSON.stringify(properties) !== expectedProperties) problems.push('properties differ');
  }

  const expectedDimensions = JSON.stringify(input.dimensions);
  const got = new Map<string, { unit: string; values: number[] }>();
  for (const metric of extractEmfMetrics(text)) {
    if (metric.namespace !== 'Fuzz') problems.push(`namespace ${metric.namespace}`);
    if (JSON.stringify(metric.dimensions) !== expectedDimensions) problems.push(`dimensions of ${metric.name} differ`);
    const entry = got.get(metric.name) ?? { unit: metric.unit, values: [] };
    if (metric.unit !== entry.unit) problems.push(`${metric.name} changes unit`);
    entry.values.push(...[metric.value].flat());
    got.set(metric.name, entry);
  }
  expect(problems).toEqual([]);
  expect([...got.keys()]).toEqual(input.metrics.map((m) => m.name));
  const mismatched = input.metrics.filter((metric) => {
    const entry = got.get(metric.name);
    const want = plain(metric.value);
    return (
      entry === undefined ||
      entry.unit !== metric.unit ||
      entry.values.length !== want.length ||
      entry.values.some((v, i) => !Object.is(v, want[i]))
    );
  });
  expect(mismatched.map((m) => [m.name, got.get(m.name)])).toEqual([]);
}

describe('EMF writer fuzzing', () => {
  it('serializeEmf: every line parses back and the readers return exactly the values that went in', () => {
    fc.assert(
      fc.property(emission, fc.integer({ min: 0, max: 4_102_444_800_000 }), (input, timestamp) => {
        const lines = serializeEmf({ namespace: 'Fuzz', timestamp, ...input });
        assertRoundTrip(lines, input);
        for (const doc of parseEmfDocuments(lines.join('\n'))) expect(doc._aws.Timestamp).toBe(timestamp);
      }),
      { numRuns: 100, interruptAfterTimeLimit: 20_000 },
    );
  });

  it('emfReporter: random addMetric/addDimension/setProperty calls publish exactly what was recorded', () => {
    fc.assert(
      fc.property(emission, fc.array(fc.nat(), { maxLength: 400 }), (input, order) => {
        const lines: string[] = [];
        const reporter = emfReporter({ namespace: 'Fuzz', write: (line) => lines.push(line) });
        // Interleave single-value addMetric calls across metrics, in a random order that keeps each series' order.
        const queues = input.metrics.map((m) => ({ ...m, next: 0 }));
        const firstSeen: string[] = [];
        let pick = 0;
        for (let remaining = queues.reduce((n, q) => n + q.value.length, 0); remaining > 0; remaining--) {
          const open = queues.filter((q) => q.next < q.value.length);
          const queue = open[(order[pick++ % Math.max(order.length, 1)] ?? 0) % open.length];
          if (!queue) break;
          if (queue.next === 0) firstSeen.push(queue.name);
          reporter.addMetric(queue.name, queue.value[queue.next++] ?? 0, queue.unit as EmfUnit);
        }
        for (const [name, value] of Object.entries(input.dimensions)) reporter.addDimension(name, value);
        for (const [name, value] of Object.entries(input.properties)) reporter.setProperty(name, value);

        reporter.publish();

        const byName = new Map(input.metrics.map((m) => [m.name, m]));
        const expected = firstSeen.map((name) => byName.get(name)).filter((m) => m !== undefined);
        assertRoundTrip(lines, { ...input, metrics: expected });
        // The next invocation starts empty.
        lines.length = 0;
        reporter.publish();
        expect(lines).toEqual([]);
      }),
      { numRuns: 40, interruptAfterTimeLimit: 20_000 },
    );
  });
});
