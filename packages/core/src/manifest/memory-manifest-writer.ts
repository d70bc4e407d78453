import { PresignPipelineError } from '../errors.js';
import type { ManifestContext, ManifestEntry, ManifestInfo, ManifestWriter } from '../types.js';
import { jsonlLine } from './jsonl.js';

/** A manifest writer that keeps entries in memory, for tests and small runs. */
export interface MemoryManifestWriter extends ManifestWriter {
  /** The entries written so far (emptied by `abort`). */
  readonly entries: readonly ManifestEntry[];
  /** Where the writer is in its life: `open` until `close` or `abort` is called. */
  readonly state: 'open' | 'closed' | 'aborted';
  /** The context `open` was called with, if it was. */
  readonly context: ManifestContext | undefined;
  /** The JSONL text the entries represent, as a file or S3 writer would store it. */
  text(): string;
}

/**
 * Creates a {@link MemoryManifestWriter}: the in-memory double of the file and S3 writers, so tests assert on
 * recorded entries rather than on files. Its `bytes` is the UTF-8 size of the equivalent JSONL.
 *
 * @example
 * ```ts
 * const manifest = memoryManifestWriter();
 * await presignPipeline({ source, presigner, manifest });
 * manifest.entries.length; // keys presigned
 * ```
 */
export function memoryManifestWriter(): MemoryManifestWriter {
  let entries: ManifestEntry[] = [];
  let state: 'open' | 'closed' | 'aborted' = 'open';
  let context: ManifestContext | undefined;

  function ensureOpen(action: string): void {
    if (state !== 'open') {
      throw new PresignPipelineError(
        'MANIFEST_WRITE_FAILED',
        `memoryManifestWriter: cannot ${action} a manifest that is ${state}`,
      );
    }
  }

  return {
    get entries(): readonly ManifestEntry[] {
      return entries;
    },
    get state() {
      return state;
    },
    get context() {
      return context;
    },
    open(ctx: ManifestContext): void {
      ensureOpen('open');
      context = ctx;
    },
    write(batch: readonly ManifestEntry[]): void {
      ensureOpen('write to');
      for (let i = 0; i < batch.length; i++) entries.push(batch[i] as ManifestEntry);
    },
    async close(): Promise<ManifestInfo> {
      ensureOpen('close');
      state = 'closed';
      let bytes = 0;
      for (const entry of entries) bytes += Buffer.byteLength(jsonlLine(entry), 'utf8');
      return { bytes, location: 'memory' };
    },
    async abort(): Promise<void> {
      if (state === 'closed') return;
      state = 'aborted';
      entries = [];
    },
    text(): string {
      let out = '';
      for (const entry of entries) out += jsonlLine(entry);
      return out;
    },
  };
}
