import type { SideOutcome } from './invoke.js';
import type { ManifestPreview } from './manifest-preview.js';
import type { TesterProgress } from './progress.js';

/** One side's panels, with the manifest preview when the run made a manifest. */
export type SidePanels = SideOutcome & { readonly manifest?: ManifestPreview };

/** What the page is told while a run goes on. */
export type RunUpdate =
  | { readonly type: 'progress'; readonly side: number; readonly progress: TesterProgress; readonly elapsedMs: number }
  | { readonly type: 'side'; readonly side: number; readonly panels: SidePanels }
  | { readonly type: 'done'; readonly run: RunRecord };

/** One run of the session, as the history keeps it. */
export interface RunRecord {
  /** 1-based, in the order runs started. */
  readonly id: number;
  /** ISO time it started. */
  readonly startedAt: string;
  /** The event sent. */
  readonly event: unknown;
  /** The environment overrides sent. */
  readonly overrides: Readonly<Record<string, string>>;
  /** Indexes of the sides run, in order. */
  readonly sides: readonly number[];
  /** Labels of those sides. */
  readonly labels: readonly string[];
  /** `running` until every side finished. */
  state: 'running' | 'done';
  /** True once Cancel was pressed. */
  cancelled: boolean;
  /** The panels of each side that finished, in `sides` order. */
  readonly panels: SidePanels[];
}

/** A run in progress: its record, its abort controller and whoever listens for updates. */
export class LiveRun {
  readonly controller = new AbortController();
  private readonly listeners = new Set<(update: RunUpdate) => void>();
  private lastProgressAt = 0;
  private markDone: () => void = () => undefined;
  /** Settles once the run is done. */
  readonly done: Promise<void> = new Promise((resolve) => {
    this.markDone = resolve;
  });

  constructor(readonly record: RunRecord) {}

  /** Cancels the run if it is still going: its sides' signals abort, so their handlers stop and clean up. */
  cancel(): void {
    if (this.record.state !== 'running') return;
    this.record.cancelled = true;
    this.controller.abort();
  }

  /** Adds a listener; returns its remover. */
  listen(listener: (update: RunUpdate) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Progress, at most every 100 ms: a run of many pages must not flood the page. */
  progress(side: number, progress: TesterProgress, elapsedMs: number): void {
    const now = Date.now();
    if (now - this.lastProgressAt < 100) return;
    this.lastProgressAt = now;
    this.publish({ type: 'progress', side, progress: { ...progress }, elapsedMs });
  }

  /** Records a finished side and tells the listeners. */
  sideDone(side: number, panels: SidePanels): void {
    this.record.panels.push(panels);
    this.publish({ type: 'side', side, panels });
  }

  /** Marks the run done and tells the listeners. */
  finish(): void {
    this.record.state = 'done';
    this.publish({ type: 'done', run: this.record });
    this.listeners.clear();
    this.markDone();
  }

  /** Tells every listener; one that throws (a closed page) neither stops the others nor the run. */
  private publish(update: RunUpdate): void {
    for (const listener of this.listeners) {
      try {
        listener(update);
      } catch {
        this.listeners.delete(listener);
      }
    }
  }
}

/** The session's runs, oldest first. */
export class RunHistory {
  private readonly runs: LiveRun[] = [];

  /** Starts a record for a new run. */
  add(
    event: unknown,
    overrides: Readonly<Record<string, string>>,
    sides: readonly number[],
    labels: readonly string[],
  ): LiveRun {
    const record: RunRecord = {
      id: this.runs.length + 1,
      startedAt: new Date().toISOString(),
      event,
      overrides,
      sides,
      labels,
      state: 'running',
      cancelled: false,
      panels: [],
    };
    const run = new LiveRun(record);
    this.runs.push(run);
    return run;
  }

  /** A run by id. */
  get(id: number): LiveRun | undefined {
    return this.runs[id - 1];
  }

  /** The run still going, if any: runs go one at a time, since each captures the process's output. */
  active(): LiveRun | undefined {
    return this.runs.find((run) => run.record.state === 'running');
  }

  /** Cancels the run still going, if any, and waits for it to end, at most `graceMs`. */
  async cancelActive(graceMs: number): Promise<void> {
    const run = this.active();
    if (run === undefined) return;
    run.cancel();
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([run.done, gaveUp]);
    clearTimeout(timer);
  }

  /** One line per run for the history list. */
  summaries(): Array<{
    id: number;
    startedAt: string;
    state: string;
    cancelled: boolean;
    labels: readonly string[];
    statuses: Array<number | string>;
  }> {
    return this.runs.map(({ record }) => ({
      id: record.id,
      startedAt: record.startedAt,
      state: record.state,
      cancelled: record.cancelled,
      labels: record.labels,
      statuses: record.panels.map((panel) => panel.statusCode ?? panel.status),
    }));
  }
}
