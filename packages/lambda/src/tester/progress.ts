import type { PipelineEventEmitter, Reporter } from '@presign-pipeline/core';
import { listenTo } from '@presign-pipeline/core/internal';

/** Where a run is: what the live progress line shows. */
export interface TesterProgress {
  /** Pages listed. */
  pages: number;
  /** Keys listed (after the handler's filter). */
  keysListed: number;
  /** Keys presigned and handed to the manifest. */
  presigned: number;
  /** Manifest bytes written so far. */
  bytes: number;
}

/** An empty progress record. */
export function noProgress(): TesterProgress {
  return { pages: 0, keysListed: 0, presigned: 0, bytes: 0 };
}

/**
 * A reporter that turns the pipeline's typed events into progress: `page-listed` for pages and keys listed,
 * `entries-written` for keys presigned and bytes written, `manifest-completed` for the manifest's final size. `onChange` runs after each update.
 */
export function progressEventsReporter(progress: TesterProgress, onChange: () => void): Reporter {
  return {
    subscribe(events: PipelineEventEmitter) {
      const onPage = (event: { page: number; keys: number }): void => {
        progress.pages = Math.max(progress.pages, event.page);
        progress.keysListed += event.keys;
        onChange();
      };
      const onWritten = (event: { count: number; bytes?: number }): void => {
        progress.presigned = event.count;
        if (event.bytes !== undefined) progress.bytes = event.bytes;
        onChange();
      };
      // The S3 writer counts bytes as it hands chunks to the upload; the completed manifest gives the final size.
      const onCompleted = (event: { manifest: { bytes: number } }): void => {
        progress.bytes = event.manifest.bytes;
        onChange();
      };
      return listenTo(events, {
        'page-listed': onPage,
        'entries-written': onWritten,
        'manifest-completed': onCompleted,
      });
    },
  };
}
