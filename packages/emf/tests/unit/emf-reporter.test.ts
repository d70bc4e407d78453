import { PresignPipelineError } from '@presign-pipeline/core';
import { describe, expect, it, vi } from 'vitest';
import { emfReporter, extractEmfMetrics, MAX_DIMENSIONS_PER_SET } from '../../src/index.js';
import { createEmitter, subscribedEvents } from '../helpers/emitter.js';
import { lineSink, runResult } from '../helpers/events.js';

const NOW = 1_700_000_000_000;
const clock = (): number => NOW;

/** A write that throws EPIPE until healed, then keeps the lines it is given. */
function brokenPipe() {
  const lines: string[] = [];
  let broken = true;
  const write = (line: string): void => {
    if (broken) throw new Error('EPIPE');
    lines.push(line);
  };
  const heal = (): void => {
    broken = false;
  };
  return { lines, write, heal };
}

/** A reporter in namespace App on the fixed clock, writing to a sink of its own. */
function appReporter() {
  const sink = lineSink();
  return { sink, reporter: emfReporter({ namespace: 'App', write: sink.write, clock }) };
}

describe('emfReporter', () => {
  it('writes exactly the reference document for the Lambda handler', () => {
    // Prepare
    const sink = lineSink();
    const reporter = emfReporter({
      namespace: 'eth/sign_pdfs_optimized',
      dimensions: { Function: 'sign_pdfs_optimized' },
      metrics: (s) => ({ PDFsProcessed: s.count, S3ListPages: s.pages, PresignCount: s.count, ManifestBytes: s.bytes }),
      deferPublish: true,
      write: sink.write,
      clock,
    });
    const events = subscribedEvents(reporter);

    // Act
    events.emit('pipeline-completed', { requestId: 'r1', result: runResult({ count: 3, pages: 2, bytes: 1234 }) });
    reporter.flush();
    const afterFlush = sink.lines.length;
    reporter.addMetric('ResponseBytes', 210);
    reporter.publish();

    // Assess
    expect(afterFlush).toBe(0);
    expect(sink.lines).toEqual([
      '{"_aws":{"Timestamp":1700000000000,"CloudWatchMetrics":[{"Namespace":"eth/sign_pdfs_optimized",' +
        '"Dimensions":[["Function"]],"Metrics":[{"Name":"PDFsProcessed","Unit":"Count"},' +
        '{"Name":"S3ListPages","Unit":"Count"},{"Name":"PresignCount","Unit":"Count"},' +
        '{"Name":"ManifestBytes","Unit":"Bytes"},{"Name":"ResponseBytes","Unit":"Bytes"}]}]},' +
        '"Function":"sign_pdfs_optimized","PDFsProcessed":3,"S3ListPages":2,"PresignCount":3,"ManifestBytes":1234,' +
        '"ResponseBytes":210}',
    ]);
  });

  it('publishes the default metrics on flush, with no dimension forced', () => {
    const { sink, reporter } = appReporter();
    const events = subscribedEvents(reporter);

    events.emit('pipeline-completed', {
      requestId: 'r',
      result: runResult({ count: 7, errors: 1, pages: 3, bytes: 99 }),
    });
    reporter.flush();

    expect(sink.lines).toHaveLength(1);
    const doc = JSON.parse(sink.lines[0] ?? '');
    expect(doc._aws.CloudWatchMetrics[0].Dimensions).toEqual([[]]);
    expect(doc._aws.CloudWatchMetrics[0].Metrics).toEqual([
      { Name: 'PresignCount', Unit: 'Count' },
      { Name: 'PresignErrors', Unit: 'Count' },
      { Name: 'S3ListPages', Unit: 'Count' },
      { Name: 'ManifestBytes', Unit: 'Bytes' },
    ]);
    expect(doc).toMatchObject({ PresignCount: 7, PresignErrors: 1, S3ListPages: 3, ManifestBytes: 99 });
  });

  it('writes to stdout with a newline by default', () => {
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const reporter = emfReporter({ namespace: 'App', clock });
      reporter.addMetric('Things', 1);
      reporter.publish();
      expect(spy).toHaveBeenCalledTimes(1);
      const text = String(spy.mock.calls[0]?.[0]);
      expect(text.endsWith('}\n')).toBe(true);
      expect(extractEmfMetrics(text).map((m) => [m.name, m.value])).toEqual([['Things', 1]]);
    } finally {
      spy.mockRestore();
    }
  });

  it('infers units from names and lets options and calls override them', () => {
    const sink = lineSink();
    const reporter = emfReporter({
      namespace: 'App',
      units: { Latency: 'Milliseconds', RawBytes: 'Kilobytes' },
      write: sink.write,
      clock,
    });

    reporter.addMetric('UploadBytes', 10);
    reporter.addMetric('Items', 2);
    reporter.addMetric('Latency', 3);
    reporter.addMetric('RawBytes', 4);
    reporter.addMetric('Share', 50, 'Percent');
    reporter.publish();

    const units = Object.fromEntries(extractEmfMetrics(sink.lines.join('\n')).map((m) => [m.name, m.unit]));
    expect(units).toEqual({
      UploadBytes: 'Bytes',
      Items: 'Count',
      Latency: 'Milliseconds',
      RawBytes: 'Kilobytes',
      Share: 'Percent',
    });
  });

  it('writes StorageResolution 1 for high-resolution metrics only', () => {
    const sink = lineSink();
    const reporter = emfReporter({ namespace: 'App', storageResolution: { Fast: 1 }, write: sink.write, clock });
    reporter.addMetric('Fast', 1);
    reporter.addMetric('Slow', 1);
    reporter.addMetric('Explicit', 1, 'Count', 1);
    reporter.publish();
    const doc = JSON.parse(sink.lines[0] ?? '');
    expect(doc._aws.CloudWatchMetrics[0].Metrics).toEqual([
      { Name: 'Fast', Unit: 'Count', StorageResolution: 1 },
      { Name: 'Slow', Unit: 'Count' },
      { Name: 'Explicit', Unit: 'Count', StorageResolution: 1 },
    ]);
  });

  it('writes nothing for an invocation without metrics', () => {
    const sink = lineSink();
    const reporter = emfReporter({ namespace: 'App', dimensions: { Function: 'f' }, write: sink.write, clock });
    reporter.setProperty('requestId', 'r1');
    reporter.addDimension('Stage', 'prod');

    reporter.publish();
    reporter.flush();

    expect(sink.lines).toEqual([]);
  });

  it('keeps nothing from one invocation in the next on a warm reporter', () => {
    const sink = lineSink();
    const reporter = emfReporter({
      namespace: 'App',
      dimensions: { Function: 'f' },
      properties: { service: 'presign' },
      write: sink.write,
      clock,
    });
    const first = createEmitter();
    reporter.subscribe(first);
    first.emit('expiry-capped', {
      requestId: 'r1',
      requestedExpiresIn: 900,
      effectiveExpiresIn: 60,
      credentialsExpireAt: new Date(NOW + 60_000),
    });
    first.emit('pipeline-completed', { requestId: 'r1', result: runResult({ count: 5 }) });
    reporter.addMetric('FirstOnly', 1);
    reporter.addDimension('Tenant', 'a');
    reporter.setProperty('requestId', 'r1');
    reporter.flush();

    const second = createEmitter();
    reporter.subscribe(second);
    reporter.addMetric('SecondOnly', 2);
    reporter.flush();

    expect(sink.lines).toHaveLength(2);
    const [one, two] = sink.lines.map((line) => JSON.parse(line));
    expect(one).toMatchObject({ PresignExpiryCapped: 1, PresignCount: 5, FirstOnly: 1, Tenant: 'a', requestId: 'r1' });
    expect(one._aws.CloudWatchMetrics[0].Dimensions).toEqual([['Function', 'Tenant']]);
    expect(Object.keys(two).sort()).toEqual(['Function', 'SecondOnly', '_aws', 'service']);
    expect(two._aws.CloudWatchMetrics[0].Dimensions).toEqual([['Function']]);
    expect(two._aws.CloudWatchMetrics[0].Metrics).toEqual([{ Name: 'SecondOnly', Unit: 'Count' }]);
  });

  it('reset() drops what was recorded without writing it', () => {
    const { sink, reporter } = appReporter();
    reporter.addMetric('Dropped', 1);
    reporter.reset();
    reporter.publish();
    expect(sink.lines).toEqual([]);
  });

  it('publishes what is known when the run fails', () => {
    const { sink, reporter } = appReporter();
    const events = subscribedEvents(reporter);

    events.emit('pipeline-failed', {
      requestId: 'r',
      error: new Error('NoSuchBucket'),
      count: 4,
      errors: 2,
      pages: 1,
      durationMs: 10,
    });
    reporter.flush();

    const values = Object.fromEntries(extractEmfMetrics(sink.lines.join('\n')).map((m) => [m.name, m.value]));
    expect(values).toEqual({ PresignCount: 4, PresignErrors: 2, S3ListPages: 1, ManifestBytes: 0 });
  });

  it('hands the mapping a summary that says whether the run failed', () => {
    const summaries: unknown[] = [];
    const reporter = emfReporter({
      namespace: 'App',
      metrics: (s) => {
        summaries.push(s);
        return { Failed: s.failed ? 1 : 0, DurationMs: s.durationMs };
      },
      write: () => {},
      clock,
    });
    const events = subscribedEvents(reporter);
    events.emit('pipeline-failed', {
      requestId: 'r',
      error: new Error('x'),
      count: 1,
      errors: 0,
      pages: 1,
      durationMs: 5,
    });
    events.emit('pipeline-completed', { requestId: 'r', result: runResult({ durationMs: 8 }) });
    expect(summaries).toEqual([
      { count: 1, errors: 0, pages: 1, bytes: 0, durationMs: 5, failed: true },
      { count: 3, errors: 0, pages: 2, bytes: 1234, durationMs: 8, failed: false },
    ]);
  });

  it('with deferPublish, flush() writes nothing and publish() writes once', () => {
    const sink = lineSink();
    const reporter = emfReporter({ namespace: 'App', deferPublish: true, write: sink.write, clock });
    const events = subscribedEvents(reporter);
    events.emit('pipeline-completed', { requestId: 'r', result: runResult() });

    reporter.flush();
    expect(sink.lines).toEqual([]);
    reporter.publish();
    reporter.publish();
    expect(sink.lines).toHaveLength(1);
  });

  it('stops listening after unsubscribe', () => {
    const { sink, reporter } = appReporter();
    const events = createEmitter();
    const unsubscribe = reporter.subscribe(events);
    unsubscribe();
    expect(events.listenerCount('pipeline-completed')).toBe(0);
    events.emit('pipeline-completed', { requestId: 'r', result: runResult() });
    reporter.flush();
    expect(sink.lines).toEqual([]);
  });

  it('collects repeated values of one metric into a series', () => {
    const { sink, reporter } = appReporter();
    reporter.addMetric('PageMs', 5, 'Milliseconds');
    reporter.addMetric('PageMs', 7, 'Milliseconds');
    reporter.addMetric('PageMs', 9, 'Milliseconds');
    reporter.publish();
    expect(JSON.parse(sink.lines[0] ?? '').PageMs).toEqual([5, 7, 9]);
  });

  it('refuses a second unit for one metric', () => {
    const reporter = emfReporter({ namespace: 'App', write: () => {}, clock });
    reporter.addMetric('Wait', 5, 'Milliseconds');
    expect(() => reporter.addMetric('Wait', 1, 'Seconds')).toThrow(/"Wait".*Seconds conflicts with unit Milliseconds/);
  });

  it('refuses a property too large for any document at publish, writes nothing, and starts clean', () => {
    const { sink, reporter } = appReporter();
    reporter.addMetric('Items', 1);
    reporter.setProperty('dump', 'x'.repeat(1_100_000));
    expect(() => reporter.publish()).toThrow(/largest part is property "dump"/);
    expect(sink.lines).toEqual([]);
    reporter.addMetric('Items', 2);
    reporter.publish();
    expect(extractEmfMetrics(sink.lines.join('\n')).map((m) => [m.name, m.value])).toEqual([['Items', 2]]);
  });

  it('splits a long series recorded by addMetric at 100 values per document', () => {
    const { sink, reporter } = appReporter();
    for (let i = 0; i < 250; i++) reporter.addMetric('PageMs', i, 'Milliseconds');
    reporter.publish();
    expect(sink.lines.map((line) => [JSON.parse(line).PageMs].flat().length)).toEqual([100, 100, 50]);
  });

  describe('explicit calls throw clearly and write nothing invalid', () => {
    it.each([
      [Number.NaN, RangeError, /"Bad": value NaN is not a finite number/],
      [Number.POSITIVE_INFINITY, RangeError, /"Bad": value Infinity is not a finite number/],
      [Number.NEGATIVE_INFINITY, RangeError, /"Bad": value -Infinity is not a finite number/],
      ['3' as unknown as number, TypeError, /"Bad": value must be a number, got string/],
      [2 ** 361, RangeError, /"Bad": value .* exceeds/],
    ])('addMetric(%s)', (value, type, message) => {
      const { sink, reporter } = appReporter();
      expect(() => reporter.addMetric('Bad', value)).toThrow(type);
      expect(() => reporter.addMetric('Bad', value)).toThrow(message);
      reporter.addMetric('Good', 1);
      reporter.publish();
      expect(sink.lines).toHaveLength(1);
      expect(sink.lines[0]).not.toContain('Bad');
    });

    it('refuses bad metric names, naming them', () => {
      const reporter = emfReporter({ namespace: 'App', write: () => {}, clock });
      expect(() => reporter.addMetric('', 1)).toThrow(/name must be 1\.\.1024 characters, got 0/);
      expect(() => reporter.addMetric('x'.repeat(1025), 1)).toThrow(RangeError);
      expect(() => reporter.addMetric('x'.repeat(1025), 1)).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTION' }),
      );
      expect(() => reporter.addMetric('x'.repeat(1025), 1)).toThrow(PresignPipelineError);
      expect(() => reporter.addMetric('x'.repeat(1025), 1)).toThrow(
        /"x{77}\.\.\.": name must be 1\.\.1024 characters, got 1025/,
      );
      expect(() => reporter.addMetric('   ', 1)).toThrow(/non-whitespace/);
      expect(() => reporter.addMetric('_aws', 1)).toThrow(/reserved/);
      expect(() => reporter.addMetric('Valid', 1, 'Parsecs' as never)).toThrow(
        /"Valid": unit "Parsecs" is not a CloudWatch unit/,
      );
      reporter.addMetric('x'.repeat(1024), 1);
    });

    it('refuses a metric named like a dimension or a property, and the reverse', () => {
      const reporter = emfReporter({ namespace: 'App', dimensions: { Function: 'f' }, write: () => {}, clock });
      expect(() => reporter.addMetric('Function', 1)).toThrow(/"Function" has the name of a dimension/);
      reporter.setProperty('requestId', 'r');
      expect(() => reporter.addMetric('requestId', 1)).toThrow(/"requestId" has the name of a property/);
      reporter.addMetric('Count', 1);
      expect(() => reporter.addDimension('Count', 'x')).toThrow(/"Count" has the name of a metric/);
      expect(() => reporter.setProperty('Count', 'x')).toThrow(/"Count" has the name of a metric/);
      expect(() => reporter.setProperty('Function', 'x')).toThrow(/"Function" has the name of a dimension/);
    });

    it('refuses the 31st dimension, naming it', () => {
      const reporter = emfReporter({ namespace: 'App', dimensions: { D0: 'v' }, write: () => {}, clock });
      for (let i = 1; i < MAX_DIMENSIONS_PER_SET; i++) reporter.addDimension(`D${i}`, 'v');
      reporter.addDimension('D5', 'changed');
      expect(() => reporter.addDimension('D30', 'v')).toThrow(RangeError);
      expect(() => reporter.addDimension('D30', 'v')).toThrow(/"D30" would be dimension 31/);
    });

    it('refuses properties that are not JSON', () => {
      const reporter = emfReporter({ namespace: 'App', write: () => {}, clock });
      expect(() => reporter.setProperty('big', 1n)).toThrow(/"big": value cannot be serialized as JSON/);
      expect(() => reporter.setProperty('fn', () => 1)).toThrow(/"fn": value of type function/);
    });
  });

  describe('options are validated before use, naming the option', () => {
    it.each([
      [{ namespace: '' }, /namespace must be 1\.\.255 characters, got 0/],
      [{ namespace: 'x'.repeat(256) }, /namespace must be 1\.\.255 characters, got 256/],
      [{ namespace: 42 }, /namespace must be a string/],
      [{ namespace: 'AWS/Lambda' }, /must not start with "AWS\/"/],
      [{ namespace: 'tab\there' }, /printable ASCII/],
      [{ namespace: 'App', dimensions: { '': 'x' } }, /dimension "": name must be 1\.\.255/],
      [{ namespace: 'App', dimensions: { Function: '' } }, /dimension "Function": value must be 1\.\.1024/],
      [{ namespace: 'App', dimensions: { Function: 3 } }, /dimension "Function": value must be a string/],
      [
        { namespace: 'App', dimensions: Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`D${i}`, 'v'])) },
        /"dimensions" has 31 dimensions \("D30" is one too many\)/,
      ],
      [{ namespace: 'App', units: { Foo: 'Meters' } }, /"Foo": unit "Meters" is not a CloudWatch unit/],
      [{ namespace: 'App', storageResolution: 5 }, /storage resolution must be 1 or 60, got 5/],
      [{ namespace: 'App', write: 'stdout' }, /option "write" must be a function/],
      [{ namespace: 'App', metrics: {} }, /option "metrics" must be a function/],
      [{ namespace: 'App', properties: { _aws: 1 } }, /"_aws" is reserved/],
      [{ namespace: 'App', dimensions: { F: 'f' }, properties: { F: 1 } }, /property "F" has the name of a dimension/],
    ])('%j', (options, message) => {
      expect(() => emfReporter(options as never)).toThrow(message);
    });

    it('needs an options object', () => {
      expect(() => emfReporter(undefined as never)).toThrow(/needs an options object with a namespace/);
    });
  });

  describe('the listener path never throws into the pipeline', () => {
    it('reports a throwing mapping to onError and keeps the emitter working', () => {
      const errors: unknown[] = [];
      const sink = lineSink();
      const reporter = emfReporter({
        namespace: 'App',
        metrics: () => {
          throw new Error('mapping broke');
        },
        onError: (error) => errors.push(error),
        write: sink.write,
        clock,
      });
      const events = subscribedEvents(reporter);
      expect(() => events.emit('pipeline-completed', { requestId: 'r', result: runResult() })).not.toThrow();
      expect(errors).toHaveLength(1);
      expect(String(errors[0])).toContain('mapping broke');
    });

    it('drops an invalid mapped value, reports it, and still publishes the valid ones', () => {
      const errors: unknown[] = [];
      const sink = lineSink();
      const reporter = emfReporter({
        namespace: 'App',
        metrics: (s) => ({ Good: s.count, Ratio: s.count / s.errors - Number.POSITIVE_INFINITY }),
        onError: (error) => errors.push(error),
        write: sink.write,
        clock,
      });
      const events = subscribedEvents(reporter);
      events.emit('pipeline-completed', { requestId: 'r', result: runResult({ count: 3, errors: 0 }) });
      reporter.flush();
      expect(errors.map(String)).toEqual([
        expect.stringMatching(/"Ratio": value (NaN|-Infinity) is not a finite number/),
      ]);
      expect(extractEmfMetrics(sink.lines.join('\n')).map((m) => [m.name, m.value])).toEqual([['Good', 3]]);
      expect(sink.lines.join('')).not.toContain('Ratio');
    });

    it('flush() reports a failing write instead of throwing, and the next invocation starts clean', () => {
      const errors: unknown[] = [];
      const { lines, write, heal } = brokenPipe();
      const reporter = emfReporter({
        namespace: 'App',
        write,
        onError: (error) => errors.push(error),
        clock,
      });
      reporter.addMetric('First', 1);
      expect(() => reporter.flush()).not.toThrow();
      expect(errors.map(String)).toEqual(['Error: EPIPE']);
      heal();
      reporter.addMetric('Second', 2);
      reporter.flush();
      expect(extractEmfMetrics(lines.join('\n')).map((m) => m.name)).toEqual(['Second']);
    });

    it('publish() resets state even when writing throws', () => {
      const { lines, write, heal } = brokenPipe();
      const reporter = emfReporter({
        namespace: 'App',
        write,
        clock,
      });
      reporter.addMetric('First', 1);
      expect(() => reporter.publish()).toThrow('EPIPE');
      heal();
      reporter.addMetric('Second', 2);
      reporter.publish();
      expect(lines).toHaveLength(1);
      expect(lines[0]).not.toContain('First');
    });

    it('survives an onError that throws', () => {
      const reporter = emfReporter({
        namespace: 'App',
        metrics: () => {
          throw new Error('mapping broke');
        },
        onError: () => {
          throw new Error('handler broke too');
        },
        write: () => {},
        clock,
      });
      const events = subscribedEvents(reporter);
      expect(() => events.emit('pipeline-completed', { requestId: 'r', result: runResult() })).not.toThrow();
    });

    it('reports to stderr by default', () => {
      const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      try {
        const reporter = emfReporter({
          namespace: 'App',
          metrics: () => ({ Bad: Number.NaN }),
          write: () => {},
          clock,
        });
        const events = subscribedEvents(reporter);
        events.emit('pipeline-completed', { requestId: 'r', result: runResult() });
        expect(spy).toHaveBeenCalledWith(expect.stringContaining('"Bad": value NaN is not a finite number'));
      } finally {
        spy.mockRestore();
      }
    });
  });
});
