/** What one run observed: a completed run with an exact manifest, or the error the caller saw. */
export type SeenOutcome =
  | { ok: true }
  | { ok: false; name: string; code?: string; attempts?: number; message: string; log: Record<string, unknown> };

/** One failure class, as the fault-table tests observed it. */
export interface FaultRow {
  class: string;
  injected: string;
  once: SeenOutcome;
  persistent: SeenOutcome;
  leftBehind: string;
}

export const OUTCOMES_PATH: string;
export const DOC_PATH: string;
export const START_MARKER: string;
export const END_MARKER: string;
export function renderFaultTable(rows: readonly FaultRow[]): string;
export function withFaultTable(doc: string, table: string): string;
