import type { Reporter } from '../types.js';

/** Options of {@link jsonLogReporter}. */
export interface JsonLogReporterOptions {
  /** Where each line goes. Default: synchronous write to stdout. */
  write?: (line: string) => void;
}

/** Logs a run as one JSON object per line. (Stub.) */
export function jsonLogReporter(options?: JsonLogReporterOptions): Reporter {
  void options;
  throw new Error('not implemented');
}
