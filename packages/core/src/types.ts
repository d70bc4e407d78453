/** One S3 object: the bucket it lives in and its key. */
export interface ObjectRef {
  /** The bucket name. */
  readonly bucket: string;
  /** The object key, exactly as S3 stores it (not URL-encoded). */
  readonly key: string;
}

/** What a {@link KeySource} is handed when the pipeline starts pulling from it. */
export interface KeySourceContext {
  /** Aborts when the run is aborted or fails; a source stops listing as soon as it fires. */
  readonly signal: AbortSignal;
  /**
   * Aborts when the run's `deadline` comes; absent when the run has none. A source that declares
   * {@link KeySource.drainsAtDeadline} then stops listing (cancelling its requests in flight), yields the pages it
   * already holds without waiting for any, and ends. Other sources are stopped through `signal` at the deadline.
   */
  readonly deadline?: AbortSignal;
}

/** One page of keys from a {@link KeySource}. */
export interface KeyPage {
  /** The bucket every key of the page lives in. */
  readonly bucket: string;
  /**
   * The keys of the page, after the source's filter. May be empty (a listing page whose keys were all filtered out
   * still counts as a page). Typed as strings; the pipeline still reports anything else a custom source yields as
   * an item error rather than crashing.
   */
  readonly keys: readonly string[];
  /**
   * Where a later run should resume to continue after this page (ListObjectsV2's `StartAfter`): the last key the
   * source *listed* for this page, before filtering. Absent when the source cannot resume.
   */
  readonly cursor?: string;
  /**
   * True when the source knows that no page follows this one (ListObjectsV2 said the listing is not truncated). A run
   * whose `deadline` passes right after such a page still reports `complete: true`, so no further run is needed to
   * find out that nothing is left. Optional: without it the run learns the end by pulling once more.
   */
  readonly last?: boolean;
  /**
   * True when this page continues the previous page's unit of reading (the same S3 Inventory data file), so the run
   * does not count it again in `pages`: a run from an inventory counts the data files it read. Default false.
   */
  readonly continues?: boolean;
}

/**
 * Yields the keys to presign, a page at a time. Implementations: {@link s3ListSource}, {@link arrayKeySource}.
 * A source must be lazy: it is pulled only as fast as the pipeline drains it (see `queueMax`).
 */
export interface KeySource {
  /** The bucket the keys belong to (pages may override it). */
  readonly bucket: string;
  /** Returns a fresh iterator over the source's pages. */
  pages(context: KeySourceContext): AsyncIterable<KeyPage>;
  /**
   * Optional, for sources that can resume a listing they ran concurrently: the opaque token from which a later
   * source continues once the pipeline has taken `page` (the last page it took before a run was cut) and every page
   * before it; without `page`, the token continues from where this source started. Keys the source listed but the
   * pipeline did not take are left to the later run.
   */
  resumeToken?(page?: KeyPage): string | undefined;
  /**
   * Optional: true when the source honours `KeySourceContext.deadline` (stops listing when it aborts, then yields
   * the pages it already holds and ends, at once). A run cut by its deadline then takes those pages (they cost no
   * request more) instead of dropping them, and its `signal` aborts only for an abort or a failure. At most the
   * pages the source holds are taken past the deadline: for a partitioned listing, `concurrency` pages. A source that
   * has not ended 500 ms after the deadline is stopped like any other (its iterator's `return()` is called), so the
   * run never waits on it longer; the pages it did not yield by then are the next run's.
   */
  readonly drainsAtDeadline?: boolean;
}

/** Options of one presign call. */
export interface PresignOptions {
  /** Seconds the URL stays valid, 1..604800. */
  readonly expiresIn: number;
}

/**
 * Turns an object into a presigned GET URL. Implementations: {@link sdkPresigner}, and the fast SigV4 presigner.
 * A presigner never logs the URL it returns.
 */
export interface Presigner {
  /** Presigns a GET of `object` valid for `options.expiresIn` seconds. */
  presign(object: ObjectRef, options: PresignOptions): Promise<string>;
  /**
   * Optional synchronous fast path for presigners whose work is pure computation: returns the URL, or `undefined`
   * when it cannot answer synchronously right now (say, credentials need a refresh), in which case the pipeline
   * calls {@link Presigner.presign}. Saves a promise per key; may throw like `presign` rejects.
   */
  presignSync?(object: ObjectRef, options: PresignOptions): string | undefined;
  /**
   * When the credentials that sign the URLs expire, if they do (temporary credentials always do). A URL dies with
   * its credentials whatever its `expiresIn`, so the pipeline compares the two. Optional.
   */
  credentialsExpiration?(): Promise<Date | undefined>;
}

/** One line of a manifest: `{"key": …, "url": …}`. */
export interface ManifestEntry {
  /** The object key. */
  readonly key: string;
  /** The presigned GET URL of the object. */
  readonly url: string;
}

/** Where a finished manifest went. */
export interface ManifestInfo {
  /** The S3 key of the manifest, for writers that store it in S3. */
  readonly key?: string;
  /** A presigned GET URL of the manifest, for writers that can make one. */
  readonly url?: string;
  /** The manifest's size in bytes. */
  readonly bytes: number;
  /** A human-readable location (`s3://bucket/key`, a file path, `memory`). */
  readonly location?: string;
}

/** What a {@link ManifestWriter} is handed when the run starts. */
export interface ManifestContext {
  /** The run's request id. */
  readonly requestId: string;
  /** The run's URL lifetime in seconds; writers that presign the manifest use it. */
  readonly expiresIn: number;
  /** Aborts when the run is aborted or fails. */
  readonly signal: AbortSignal;
}

/**
 * Stores the manifest. The pipeline calls `open` once, `write` with batches of entries (never concurrently: each
 * call's promise settles before the next call), then exactly one of `close` (success) or `abort` (failure).
 * Implementations: {@link s3ManifestWriter}, {@link fileManifestWriter}, {@link memoryManifestWriter}.
 */
export interface ManifestWriter {
  /** Prepares the manifest before the first write. */
  open?(context: ManifestContext): void | Promise<void>;
  /** Appends entries, in order. May return a promise to apply backpressure. */
  write(entries: readonly ManifestEntry[]): void | Promise<void>;
  /** Completes the manifest and says where it is. */
  close(): Promise<ManifestInfo>;
  /** Discards everything written so far, leaving nothing behind (no orphan multipart upload). Idempotent. */
  abort(reason?: unknown): Promise<void>;
  /** Bytes stored or handed to storage so far, for progress displays (`entries-written` events). Optional. */
  bytesWritten?(): number;
}

/** A listener of the event `K`: it gets the event's payload. Its return value is ignored (it may be async). */
export type PipelineEventListener<K extends keyof PresignPipelineEvents> = (...args: PresignPipelineEvents[K]) => void;

/**
 * The typed event emitter a run reports through: what a {@link Reporter} is handed. Only these methods are part of
 * the contract; the emitter behind them (each listener guarded, so a throw never reaches the run) may change.
 */
export interface PipelineEventEmitter {
  /** Calls `listener` on every `event` until removed with {@link PipelineEventEmitter.off}. */
  on<K extends keyof PresignPipelineEvents>(event: K, listener: PipelineEventListener<K>): this;
  /** Calls `listener` on the next `event` only. */
  once<K extends keyof PresignPipelineEvents>(event: K, listener: PipelineEventListener<K>): this;
  /** Removes `listener` from `event`, or every listener of `event` when none is given. */
  off<K extends keyof PresignPipelineEvents>(event: K, listener?: PipelineEventListener<K>): this;
  /** Calls the listeners of `event` with `args`; true when there was one. Reporters do not emit: the run does. */
  emit<K extends keyof PresignPipelineEvents>(event: K, ...args: PresignPipelineEvents[K]): boolean;
  /** How many listeners `event` has (a reporter can skip work nobody would see). */
  listenerCount(event: keyof PresignPipelineEvents): number;
}

/**
 * Subscribes to a run's events to log or measure it. Reporters must not throw into the pipeline: an exception in a
 * listener is caught and dropped by the pipeline.
 */
export interface Reporter {
  /** Attaches listeners to a run's emitter; may return a function that detaches them. */
  subscribe(events: PipelineEventEmitter): void | (() => void);
  /** Called once when the run has ended (success or failure), after the final event. */
  flush?(): void | Promise<void>;
}

/** Emitted when a run starts, after its options were validated. */
export interface PipelineStartedEvent {
  /** The run's request id. */
  readonly requestId: string;
  /** The source's bucket. */
  readonly bucket: string;
  /** Requested URL lifetime in seconds. */
  readonly expiresIn: number;
  /** Worker count. */
  readonly concurrency: number;
  /** Most keys buffered between source and workers. */
  readonly queueMax: number;
}

/** Emitted for every page the source yields. */
export interface PageListedEvent {
  /** The run's request id. */
  readonly requestId: string;
  /** 1-based page number. */
  readonly page: number;
  /** Keys on the page, after filtering. */
  readonly keys: number;
}

/** Emitted when one key could not be presigned; the run goes on. */
export interface ItemErrorEvent {
  /** The run's request id. */
  readonly requestId: string;
  /** The key (for a non-string value from a custom source, a description of it). */
  readonly key: string;
  /** The error. */
  readonly error: Error;
  /** The error's message, safe to log (never a URL or a credential). */
  readonly message: string;
}

/** Emitted when the URL lifetime asked for outlives the signing credentials. */
export interface ExpiryCappedEvent {
  /** The run's request id. */
  readonly requestId: string;
  /** The requested lifetime in seconds. */
  readonly requestedExpiresIn: number;
  /** The lifetime the URLs really have, in seconds: min(requested, seconds until the credentials expire). */
  readonly effectiveExpiresIn: number;
  /** When the signing credentials expire. */
  readonly credentialsExpireAt: Date;
}

/** Emitted after each batch of entries was handed to the manifest writer: the run's progress. */
export interface EntriesWrittenEvent {
  /** The run's request id. */
  readonly requestId: string;
  /** Entries in this batch. */
  readonly entries: number;
  /** Keys presigned so far in the run. */
  readonly count: number;
  /** Bytes the manifest writer reports written so far, when it tells (see `ManifestWriter.bytesWritten`). */
  readonly bytes?: number;
}

/** Emitted when the manifest was completed. */
export interface ManifestCompletedEvent {
  /** The run's request id. */
  readonly requestId: string;
  /** Where the manifest is. Its `url` is a bearer credential: reporters must not log it. */
  readonly manifest: ManifestInfo;
}

/** Emitted when a run succeeded. */
export interface PipelineCompletedEvent {
  /** The run's request id. */
  readonly requestId: string;
  /** The run's result. */
  readonly result: PipelineResult;
}

/** Emitted when a run failed or was aborted. */
export interface PipelineFailedEvent {
  /** The run's request id. */
  readonly requestId: string;
  /** Why it failed (the error the run rejects with). */
  readonly error: unknown;
  /** Keys presigned before the failure. */
  readonly count: number;
  /** Item errors before the failure. */
  readonly errors: number;
  /** Pages listed before the failure. */
  readonly pages: number;
  /** Milliseconds from start to failure. */
  readonly durationMs: number;
}

/** The events of a run, by name. Payloads are single objects so fields can be added later. */
export interface PresignPipelineEvents {
  /** The run started. */
  'pipeline-started': [event: PipelineStartedEvent];
  /** The source yielded a page. */
  'page-listed': [event: PageListedEvent];
  /** One key failed to presign. */
  'item-error': [event: ItemErrorEvent];
  /** A batch of entries went to the manifest writer. */
  'entries-written': [event: EntriesWrittenEvent];
  /** The URLs will die before `expiresIn` because the credentials expire first. */
  'expiry-capped': [event: ExpiryCappedEvent];
  /** The manifest is complete. */
  'manifest-completed': [event: ManifestCompletedEvent];
  /** The run succeeded. */
  'pipeline-completed': [event: PipelineCompletedEvent];
  /** The run failed. */
  'pipeline-failed': [event: PipelineFailedEvent];
}

/** Options of {@link presignPipeline}. */
export interface PresignPipelineOptions {
  /** Where the keys come from. */
  source: KeySource;
  /** Makes the URLs. */
  presigner: Presigner;
  /** Stores the manifest. */
  manifest: ManifestWriter;
  /** Presign calls in flight at once, an integer ≥ 1. Default 4. Buys overlap only for asynchronous presigners. */
  concurrency?: number;
  /** The most keys buffered between the source and the workers, an integer ≥ 1. Default 2000. */
  queueMax?: number;
  /** URL lifetime in seconds, an integer in 1..604800. Default 900. */
  expiresIn?: number;
  /** Aborts the run: listing and presigning stop, the manifest is aborted, the promise rejects with an AbortError. */
  signal?: AbortSignal;
  /** Log and metric reporters subscribed to the run's events. */
  reporters?: readonly Reporter[];
  /** The run's id in events and logs. Default: a random UUID. */
  requestId?: string;
  /**
   * Epoch milliseconds after which the run stops pulling new pages, finishes what it holds, completes the manifest
   * and resolves with `complete: false` and a `nextStartAfter` cursor. The deadline is hard: a page request still in
   * flight when it comes is aborted (the source's signal) and not waited for; its keys are left to the next run.
   */
  deadline?: number;
  /**
   * What to do when the signing credentials expire before `expiresIn`: `'warn'` (default) emits `expiry-capped`
   * and goes on; `'refuse'` rejects with `CREDENTIALS_EXPIRE_TOO_SOON` before anything is listed.
   */
  onExpiryCapped?: 'warn' | 'refuse';
}

/** What a run resolves with. */
export interface PipelineResult {
  /** Keys presigned and written to the manifest. */
  readonly count: number;
  /** Keys that failed to presign (each reported by an `item-error` event). */
  readonly errors: number;
  /** Pages the source yielded (pages that `continue` the previous one are not counted again). */
  readonly pages: number;
  /** Where the manifest is. */
  readonly manifest: ManifestInfo;
  /** Milliseconds from start to finish. */
  readonly durationMs: number;
  /** The lifetime the URLs really have, in seconds (the requested one unless the credentials expire first). */
  readonly effectiveExpiresIn: number;
  /** False when the run stopped early at its deadline; true otherwise. */
  readonly complete: boolean;
  /** When `complete` is false: where the next run should start (`startAfter`) to continue. */
  readonly nextStartAfter?: string;
  /**
   * When `complete` is false and the source can resume a concurrent listing (`s3ListSource` with
   * `partitions: { by: 'auto' }`): the opaque token (at most 4 KB) that `s3ListSource({ resumeToken })` continues
   * from, listing exactly the keys this run did not write.
   */
  readonly resumeToken?: string;
}
