import type { PipelineEventEmitter, PresignPipelineEvents, Reporter } from '@presign-pipeline/core';

/** What {@link summaryReporter} has seen of a run. */
export interface RunSummary {
  /** `running` until the run completes or fails. */
  status: 'idle' | 'running' | 'completed' | 'failed';
  /** Pages the source yielded. */
  pages: number;
  /** Keys the source yielded (presigned or not). */
  keys: number;
  /** Keys presigned, once the run completed. */
  presigned: number;
  /** Keys that could not be presigned. */
  itemErrors: number;
  /** The first few failed keys and why (at most `maxErrorsKept`). */
  failedKeys: Array<{ key: string; message: string }>;
  /** Where the manifest went (a path, `stream`, `s3://…`): never its URL, which is a bearer credential. */
  manifestLocation?: string;
  /** The URL lifetime, when the signing credentials cut it short. */
  cappedExpiresIn?: number;
  /** Why the run failed. */
  failure?: string;
  /** Milliseconds the run took. */
  durationMs?: number;
}

/** Options of {@link summaryReporter}. */
export interface SummaryReporterOptions {
  /** Where the summary goes when the run ends. Default: stderr, so stdout stays free for a manifest. */
  print?: (text: string) => void;
  /** Failed keys kept for the summary. Default 10. */
  maxErrorsKept?: number;
}

// #region reporter
/**
 * A {@link Reporter} of your own: it counts pages, keys and item errors from the run's events and prints a
 * short summary when the run ends. Like every reporter it never throws into the pipeline, and it never
 * prints a URL.
 */
export function summaryReporter(options: SummaryReporterOptions = {}): Reporter & { summary(): RunSummary } {
  const print = options.print ?? ((text: string) => void process.stderr.write(`${text}\n`));
  const maxErrorsKept = options.maxErrorsKept ?? 10;
  let state: RunSummary = fresh();

  function fresh(): RunSummary {
    return { status: 'idle', pages: 0, keys: 0, presigned: 0, itemErrors: 0, failedKeys: [] };
  }

  const on = {
    started: (): void => {
      state = { ...fresh(), status: 'running' };
    },
    page: (e: PresignPipelineEvents['page-listed'][0]): void => {
      state.pages = e.page;
      state.keys += e.keys;
    },
    itemError: (e: PresignPipelineEvents['item-error'][0]): void => {
      state.itemErrors += 1;
      if (state.failedKeys.length < maxErrorsKept) state.failedKeys.push({ key: e.key, message: e.message });
    },
    capped: (e: PresignPipelineEvents['expiry-capped'][0]): void => {
      state.cappedExpiresIn = e.effectiveExpiresIn;
    },
    completed: (e: PresignPipelineEvents['pipeline-completed'][0]): void => {
      state.status = 'completed';
      state.presigned = e.result.count;
      state.durationMs = e.result.durationMs;
      if (e.result.manifest.location !== undefined) state.manifestLocation = e.result.manifest.location;
    },
    failed: (e: PresignPipelineEvents['pipeline-failed'][0]): void => {
      state.status = 'failed';
      state.presigned = e.count;
      state.durationMs = e.durationMs;
      state.failure = e.error instanceof Error ? `${e.error.name}: ${e.error.message}` : String(e.error);
    },
  };

  return {
    subscribe(events: PipelineEventEmitter) {
      events.on('pipeline-started', on.started);
      events.on('page-listed', on.page);
      events.on('item-error', on.itemError);
      events.on('expiry-capped', on.capped);
      events.on('pipeline-completed', on.completed);
      events.on('pipeline-failed', on.failed);
      return () => {
        events.off('pipeline-started', on.started);
        events.off('page-listed', on.page);
        events.off('item-error', on.itemError);
        events.off('expiry-capped', on.capped);
        events.off('pipeline-completed', on.completed);
        events.off('pipeline-failed', on.failed);
      };
    },
    flush() {
      try {
        print(formatSummary(state));
      } catch {
        // A reporter must not fail the run it reports on.
      }
    },
    summary: () => structuredClone(state),
  };
}
// #endregion reporter

/** The summary as a few lines of text. */
export function formatSummary(s: RunSummary): string {
  const lines = [
    `${s.status}: ${s.presigned} of ${s.keys} keys presigned from ${s.pages} page(s), ${s.itemErrors} failed` +
      (s.durationMs !== undefined ? ` in ${Math.round(s.durationMs)} ms` : ''),
  ];
  if (s.manifestLocation !== undefined) lines.push(`manifest: ${s.manifestLocation}`);
  if (s.cappedExpiresIn !== undefined)
    lines.push(`URLs expire after ${s.cappedExpiresIn} s: the credentials expire first`);
  for (const failed of s.failedKeys) lines.push(`  failed ${JSON.stringify(failed.key)}: ${failed.message}`);
  if (s.itemErrors > s.failedKeys.length) lines.push(`  … and ${s.itemErrors - s.failedKeys.length} more`);
  if (s.failure !== undefined) lines.push(`error: ${s.failure}`);
  return lines.join('\n');
}
