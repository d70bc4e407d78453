import type { ManifestEntry, ManifestWriter } from '../types.js';

/** A manifest writer that keeps entries in memory, for tests and small runs. */
export interface MemoryManifestWriter extends ManifestWriter {
  /** The entries written so far. */
  readonly entries: readonly ManifestEntry[];
}

/** Creates a {@link MemoryManifestWriter}. (Stub.) */
export function memoryManifestWriter(): MemoryManifestWriter {
  throw new Error('not implemented');
}
