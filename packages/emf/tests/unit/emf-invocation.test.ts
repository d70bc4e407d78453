import { describe, expect, it, vi } from 'vitest';
import { resolveEmfReporterOptions } from '../../src/emf-reporter-options.js';
import { EmfInvocation, guardWith } from '../../src/emf-reporter.js';

function invocation(write: (line: string) => void, extra: Record<string, unknown> = {}) {
  const config = resolveEmfReporterOptions({
    namespace: 'App',
    dimensions: { Stage: 'prod' },
    write,
    clock: () => 1_700_000_000_000,
    ...extra,
  });
  return new EmfInvocation(config);
}

describe('EmfInvocation', () => {
  it('publishes one document with configured and added dimensions and properties, then starts empty', () => {
    // Prepare
    const lines: string[] = [];
    const run = invocation((line) => lines.push(line), { units: { Latency: 'Milliseconds' } });
    run.addDimension('Tenant', 'a');
    run.setProperty('requestId', 'r-1');
    run.addMetric('Latency', 12);
    run.addMetric('Latency', 15);

    // Act
    run.publish();
    run.publish();

    // Assess
    expect(lines).toHaveLength(1);
    const doc = JSON.parse(lines[0] as string);
    expect(doc._aws.CloudWatchMetrics[0]).toEqual({
      Namespace: 'App',
      Dimensions: [['Stage', 'Tenant']],
      Metrics: [{ Name: 'Latency', Unit: 'Milliseconds' }],
    });
    expect(doc).toMatchObject({ Stage: 'prod', Tenant: 'a', requestId: 'r-1', Latency: [12, 15] });
  });

  it('a rejected call changes nothing: a name clash or a bad value leaves the recorded state as it was', () => {
    // Prepare
    const lines: string[] = [];
    const run = invocation((line) => lines.push(line));
    run.addMetric('Count', 1);

    // Act
    expect(() => run.addMetric('Stage', 1)).toThrow(/has the name of a dimension/);
    expect(() => run.addDimension('Count', 'x')).toThrow(/has the name of a metric/);
    expect(() => run.setProperty('Count', 'x')).toThrow(/has the name of a metric/);
    expect(() => run.addMetric('Count', Number.NaN)).toThrow();
    run.publish();

    // Assess
    const doc = JSON.parse(lines[0] as string);
    expect(doc.Count).toBe(1);
    expect(Object.keys(doc).sort()).toEqual(['Count', 'Stage', '_aws']);
  });

  it('clears the invocation even when writing fails', () => {
    const write = vi.fn(() => {
      throw new Error('stdout closed');
    });
    const run = invocation(write);
    run.addMetric('Count', 1);
    expect(() => run.publish()).toThrow('stdout closed');
    run.publish();
    expect(write).toHaveBeenCalledTimes(1);
  });
});

describe('guardWith', () => {
  it('hands what a listener throws to onError, and swallows an onError that throws too', () => {
    const onError = vi.fn();
    const boom = new Error('boom');
    const guarded = guardWith(onError)((n: number) => {
      if (n > 0) throw boom;
    });
    guarded(0);
    guarded(1);
    expect(onError).toHaveBeenCalledExactlyOnceWith(boom);
    const throwing = guardWith(() => {
      throw new Error('handler broke');
    })(() => {
      throw boom;
    });
    expect(() => throwing()).not.toThrow();
  });
});
