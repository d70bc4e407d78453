import { arrayKeySource, memoryManifestWriter, presignPipeline } from '@presign-pipeline/core';
import type { Presigner } from '@presign-pipeline/core';
import { describe, expect, it } from 'vitest';
import { emfReporter, extractEmfMetrics } from '../../src/index.js';
import { lineSink } from '../helpers/events.js';

// A presigner that needs no credentials; its URLs are never logged by the reporter (checked below).
const presigner: Presigner = {
  presign: async ({ bucket, key }) =>
    `https://${bucket}.example.invalid/${encodeURIComponent(key)}?X-Amz-Signature=sig`,
};

const valuesOf = (lines: string[]): Record<string, number | number[]> =>
  Object.fromEntries(extractEmfMetrics(lines.join('\n')).map((m) => [m.name, m.value]));

describe('emfReporter in a real pipeline run', () => {
  it('writes one document per run with the run counts', async () => {
    const sink = lineSink();
    const manifest = memoryManifestWriter();
    const reporter = emfReporter({ namespace: 'App', dimensions: { Function: 'f' }, write: sink.write });
    const keys = Array.from({ length: 25 }, (_, i) => `reports/${i}.pdf`);

    const result = await presignPipeline({
      source: arrayKeySource(keys, { bucket: 'b', pageSize: 10 }),
      presigner,
      manifest,
      reporters: [reporter],
    });

    expect(sink.lines).toHaveLength(1);
    expect(valuesOf(sink.lines)).toEqual({
      PresignCount: 25,
      PresignErrors: 0,
      S3ListPages: 3,
      ManifestBytes: result.manifest.bytes,
    });
    expect(result.manifest.bytes).toBeGreaterThan(0);
    expect(sink.lines[0]).not.toContain('X-Amz-Signature');
  });

  it('publishes on failure too, and a warm reporter starts the next run clean', async () => {
    const sink = lineSink();
    const reporter = emfReporter({ namespace: 'App', write: sink.write });
    async function* failingKeys(): AsyncGenerator<string> {
      yield 'a.pdf';
      throw new Error('listing broke');
    }

    await expect(
      presignPipeline({
        source: arrayKeySource(failingKeys(), { bucket: 'b', pageSize: 1 }),
        presigner,
        manifest: memoryManifestWriter(),
        reporters: [reporter],
      }),
    ).rejects.toThrow();
    await presignPipeline({
      source: arrayKeySource(['x.pdf'], { bucket: 'b' }),
      presigner,
      manifest: memoryManifestWriter(),
      reporters: [reporter],
    });

    expect(sink.lines).toHaveLength(2);
    const [failed, next] = sink.lines.map((line) => valuesOf([line]));
    expect(failed).toMatchObject({ PresignErrors: 0, ManifestBytes: 0 });
    expect(next).toMatchObject({ PresignCount: 1, S3ListPages: 1 });
  });

  it('with deferPublish, the owner adds metrics after the run and publishes once', async () => {
    const sink = lineSink();
    const reporter = emfReporter({ namespace: 'App', deferPublish: true, write: sink.write });

    await presignPipeline({
      source: arrayKeySource(['a.pdf', 'b.pdf'], { bucket: 'b' }),
      presigner,
      manifest: memoryManifestWriter(),
      reporters: [reporter],
    });
    const afterRun = sink.lines.length;
    reporter.addMetric('ResponseBytes', 120);
    reporter.publish();

    expect(afterRun).toBe(0);
    expect(valuesOf(sink.lines)).toMatchObject({ PresignCount: 2, ResponseBytes: 120 });
  });
});
