import type { ManifestWriter } from '../types.js';

/** Options of {@link fileManifestWriter}. */
export interface FileManifestWriterOptions {
  /** Bytes buffered before a write to the file. */
  highWaterMark?: number;
}

/** Writes the JSONL manifest to a local file. (Stub.) */
export function fileManifestWriter(path: string, options?: FileManifestWriterOptions): ManifestWriter {
  void path;
  void options;
  throw new Error('not implemented');
}
