import { arrayKeySource, memoryManifestWriter, presignPipeline, type Presigner } from '@presign-pipeline/core';
import { describe, expect, it } from 'vitest';
import { summaryReporter } from '../src/summary-reporter.js';

/** A presigner that signs nothing real and refuses keys containing "bad". */
const pickyPresigner: Presigner = {
  async presign({ bucket, key }, { expiresIn }) {
    if (key.includes('bad')) throw new Error(`refusing ${key}`);
    return `https://${bucket}.example.test/${encodeURIComponent(key)}?X-Amz-Expires=${expiresIn}&X-Amz-Signature=f00`;
  },
};

describe('summaryReporter', () => {
  it('counts pages, keys and item errors from the run and prints a summary without URLs', async () => {
    // Prepare
    const printed: string[] = [];
    const reporter = summaryReporter({ print: (text) => printed.push(text), maxErrorsKept: 2 });
    const keys = ['a.pdf', 'bad-1.pdf', 'b.pdf', 'bad-2.pdf', 'c.pdf', 'bad-3.pdf', 'd.pdf'];

    // Act
    const result = await presignPipeline({
      source: arrayKeySource(keys, { bucket: 'reports', pageSize: 3 }),
      presigner: pickyPresigner,
      manifest: memoryManifestWriter(),
      reporters: [reporter],
    });

    // Assess: what the reporter saw matches what the run returned.
    const summary = reporter.summary();
    expect(summary).toMatchObject({
      status: 'completed',
      pages: 3,
      keys: 7,
      presigned: 4,
      itemErrors: 3,
      manifestLocation: 'memory',
    });
    expect(summary.presigned).toBe(result.count);
    expect(summary.itemErrors).toBe(result.errors);
    expect(summary.failedKeys).toEqual([
      { key: 'bad-1.pdf', message: 'refusing bad-1.pdf' },
      { key: 'bad-2.pdf', message: 'refusing bad-2.pdf' },
    ]);
    expect(printed).toHaveLength(1);
    expect(printed[0]).toContain('completed: 4 of 7 keys presigned from 3 page(s), 3 failed');
    expect(printed[0]).toContain('… and 1 more');
    expect(printed[0]).not.toMatch(/https?:\/\/|X-Amz-Signature/);
  });

  it('reports a failed run, and starts afresh for the next run', async () => {
    const printed: string[] = [];
    const reporter = summaryReporter({ print: (text) => printed.push(text) });
    const failingSource = {
      bucket: 'reports',
      async *pages() {
        yield { bucket: 'reports', keys: ['a.pdf'] };
        throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
      },
    };

    await expect(
      presignPipeline({
        source: failingSource,
        presigner: pickyPresigner,
        manifest: memoryManifestWriter(),
        reporters: [reporter],
      }),
    ).rejects.toThrow('Access Denied');
    expect(reporter.summary()).toMatchObject({ status: 'failed', pages: 1, failure: 'AccessDenied: Access Denied' });
    expect(printed[0]).toContain('error: AccessDenied: Access Denied');

    await presignPipeline({
      source: arrayKeySource(['x.pdf'], { bucket: 'reports' }),
      presigner: pickyPresigner,
      manifest: memoryManifestWriter(),
      reporters: [reporter],
    });
    expect(reporter.summary()).toMatchObject({ status: 'completed', pages: 1, keys: 1, presigned: 1, itemErrors: 0 });
  });

  it('never fails the run when printing fails', async () => {
    const reporter = summaryReporter({
      print: () => {
        throw new Error('stderr is closed');
      },
    });
    const result = await presignPipeline({
      source: arrayKeySource(['x.pdf'], { bucket: 'reports' }),
      presigner: pickyPresigner,
      manifest: memoryManifestWriter(),
      reporters: [reporter],
    });
    expect(result.count).toBe(1);
  });
});
