import type { PipelineResult } from '@presign-pipeline/core';

/** A successful run's result with the counts given. */
export function runResult(overrides: Partial<PipelineResult> & { bytes?: number } = {}): PipelineResult {
  const { bytes = 1234, ...rest } = overrides;
  return {
    count: 3,
    errors: 0,
    pages: 2,
    manifest: { key: 'manifests/run.jsonl', bytes, location: 's3://bucket/manifests/run.jsonl' },
    durationMs: 42,
    effectiveExpiresIn: 900,
    complete: true,
    ...rest,
  };
}

/** Collects written lines, as a `write` option. */
export function lineSink(): { lines: string[]; write: (line: string) => void } {
  const lines: string[] = [];
  return { lines, write: (line: string) => void lines.push(line) };
}
