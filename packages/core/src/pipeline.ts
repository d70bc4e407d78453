import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { EventEmitter } from 'eventemitter3';
import { abortError, PresignPipelineError, type PresignPipelineErrorCode } from './errors.js';
import { markEscapeFreeBatch, vouchesForSyncUrls } from './manifest/jsonl.js';
import { messageOf, redactSecrets } from './redact.js';
import { urlLifetime } from './url-lifetime.js';
import type {
  KeyPage,
  KeySource,
  ManifestEntry,
  ManifestInfo,
  ManifestWriter,
  PipelineResult,
  Presigner,
  PresignOptions,
  PresignPipelineEvents,
  PresignPipelineOptions,
  Reporter,
} from './types.js';
import {
  checkFiniteNumber,
  checkInteger,
  checkMethod,
  checkNonEmptyString,
  checkObject,
  checkOneOf,
  describeValue,
  invalidType,
  typeOfValue,
} from './validate.js';

const OWNER = 'presignPipeline';
const DEFAULT_CONCURRENCY = 4;
const DEFAULT_QUEUE_MAX = 2000;
const DEFAULT_EXPIRES_IN = 900;
/** SigV4 presigned URLs live at most seven days. */
const MAX_EXPIRES_IN = 604_800;
/** Entries handed to the manifest writer per `write` call: few calls, bounded memory. */
const WRITE_BATCH = 512;
/**
 * The producer lets timers and I/O run at least this often (ms). Without it, a synchronous source feeding a
 * synchronous presigner is a pure microtask chain and an abort timer would never get to fire.
 */
const YIELD_EVERY_MS = 8;
/**
 * How long after the deadline a source that declares `drainsAtDeadline` may take to yield the pages it holds and
 * end (ms). A conforming source needs no time at all; one that keeps waiting past this is stopped like any other
 * source, so a misbehaving custom source cannot hold the run past its deadline.
 */
const DRAIN_GRACE_MS = 500;

/** Marks an empty queue (a source may yield `undefined` as a key, so that cannot be the marker). */
const NONE: unique symbol = Symbol('none');

interface Config {
  readonly source: KeySource;
  readonly presigner: Presigner;
  readonly manifest: ManifestWriter;
  readonly concurrency: number;
  readonly queueMax: number;
  readonly expiresIn: number;
  readonly signal: AbortSignal | undefined;
  readonly reporters: readonly Reporter[];
  readonly requestId: string;
  readonly deadline: number | undefined;
  readonly onExpiryCapped: 'warn' | 'refuse';
}

interface QueuedPage {
  readonly bucket: string;
  readonly keys: readonly unknown[];
}

interface Waiter {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
}

function waiter(): Waiter {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function noop(): void {}

type AnyListener = (...args: never[]) => unknown;

/**
 * The emitter handed to a reporter. Each listener it registers is wrapped so that a throw, or the rejection of an
 * async listener (which would otherwise be an unhandled rejection and end the process), is dropped: telemetry never
 * fails the pipeline, and one failing listener does not keep the others from an event.
 */
class GuardedEmitter extends EventEmitter<PresignPipelineEvents> {
  private readonly guarded = new WeakMap<AnyListener, AnyListener>();

  private guard<F>(fn: F): F {
    if (typeof fn !== 'function') return fn;
    const original = fn as unknown as AnyListener;
    let wrapped = this.guarded.get(original);
    if (wrapped === undefined) {
      wrapped = function (this: unknown, ...args: never[]): void {
        try {
          const returned = original.apply(this, args);
          if (isThenable(returned)) returned.then(undefined, noop);
        } catch {
          // Dropped: see the class comment.
        }
      };
      this.guarded.set(original, wrapped);
    }
    return wrapped as unknown as F;
  }

  override on<T extends EventEmitter.EventNames<PresignPipelineEvents>>(
    event: T,
    fn: EventEmitter.EventListener<PresignPipelineEvents, T>,
    context?: unknown,
  ): this {
    return super.on(event, this.guard(fn), context);
  }

  override addListener<T extends EventEmitter.EventNames<PresignPipelineEvents>>(
    event: T,
    fn: EventEmitter.EventListener<PresignPipelineEvents, T>,
    context?: unknown,
  ): this {
    return super.addListener(event, this.guard(fn), context);
  }

  override once<T extends EventEmitter.EventNames<PresignPipelineEvents>>(
    event: T,
    fn: EventEmitter.EventListener<PresignPipelineEvents, T>,
    context?: unknown,
  ): this {
    return super.once(event, this.guard(fn), context);
  }

  override removeListener<T extends EventEmitter.EventNames<PresignPipelineEvents>>(
    event: T,
    fn?: EventEmitter.EventListener<PresignPipelineEvents, T>,
    context?: unknown,
    once?: boolean,
  ): this {
    const wrapped =
      fn === undefined ? undefined : (this.guarded.get(fn as unknown as AnyListener) as typeof fn | undefined);
    return super.removeListener(event, wrapped ?? fn, context, once);
  }

  override off<T extends EventEmitter.EventNames<PresignPipelineEvents>>(
    event: T,
    fn?: EventEmitter.EventListener<PresignPipelineEvents, T>,
    context?: unknown,
    once?: boolean,
  ): this {
    return this.removeListener(event, fn, context, once);
  }
}

/** The iterator of what `source.pages()` returned: an async iterable, or (leniently) a sync one such as an array. */
function pageIterator(pages: unknown): AsyncIterator<KeyPage> {
  if (typeof pages === 'object' && pages !== null) {
    const asyncIterate = (pages as Partial<AsyncIterable<KeyPage>>)[Symbol.asyncIterator];
    if (typeof asyncIterate === 'function') return asyncIterate.call(pages);
    const iterate = (pages as Partial<Iterable<KeyPage>>)[Symbol.iterator];
    // `await` on a sync iterator's results works the same; only the type differs.
    if (typeof iterate === 'function') return iterate.call(pages) as unknown as AsyncIterator<KeyPage>;
  }
  throw new PresignPipelineError(
    'SOURCE_FAILED',
    `presignPipeline: source.pages() must return an async iterable of pages, got ${describeValue(pages)}`,
  );
}

/** The three parts a run is made of, each checked for the methods the pipeline calls. */
function checkParts(o: Record<string, unknown>): Pick<Config, 'source' | 'presigner' | 'manifest'> {
  const source = checkObject(OWNER, 'source', o.source, 'a KeySource (an object with bucket and pages())');
  checkMethod(OWNER, 'source', source, 'pages');
  checkMethod(OWNER, 'source', source, 'resumeToken', true);
  checkNonEmptyString(OWNER, 'source.bucket', source.bucket);

  const presigner = checkObject(OWNER, 'presigner', o.presigner, 'a Presigner (an object with presign())');
  checkMethod(OWNER, 'presigner', presigner, 'presign');
  checkMethod(OWNER, 'presigner', presigner, 'presignSync', true);
  checkMethod(OWNER, 'presigner', presigner, 'credentialsExpiration', true);

  const manifest = checkObject(
    OWNER,
    'manifest',
    o.manifest,
    'a ManifestWriter (an object with write(), close(), abort())',
  );
  checkMethod(OWNER, 'manifest', manifest, 'open', true);
  checkMethod(OWNER, 'manifest', manifest, 'write');
  checkMethod(OWNER, 'manifest', manifest, 'close');
  checkMethod(OWNER, 'manifest', manifest, 'abort');
  return {
    source: source as unknown as KeySource,
    presigner: presigner as unknown as Presigner,
    manifest: manifest as unknown as ManifestWriter,
  };
}

function checkSignal(o: Record<string, unknown>): AbortSignal | undefined {
  let signal: AbortSignal | undefined;
  if (o.signal !== undefined) {
    const s = o.signal as Partial<AbortSignal> | null;
    if (
      typeof s !== 'object' ||
      s === null ||
      typeof s.aborted !== 'boolean' ||
      typeof s.addEventListener !== 'function'
    ) {
      invalidType(OWNER, 'signal', 'an AbortSignal', o.signal);
    }
    signal = o.signal as AbortSignal;
  }
  return signal;
}

function checkReporters(o: Record<string, unknown>): Reporter[] {
  const reporters: Reporter[] = [];
  if (o.reporters !== undefined) {
    if (!Array.isArray(o.reporters)) invalidType(OWNER, 'reporters', 'an array of reporters', o.reporters);
    (o.reporters as unknown[]).forEach((reporter, i) => {
      const r = checkObject(OWNER, `reporters[${i}]`, reporter, 'a Reporter (an object with subscribe())');
      checkMethod(OWNER, `reporters[${i}]`, r, 'subscribe');
      checkMethod(OWNER, `reporters[${i}]`, r, 'flush', true);
      reporters.push(reporter as Reporter);
    });
  }
  return reporters;
}

function validateOptions(options: unknown): Config {
  const o = checkObject(OWNER, 'options', options);
  const { source, presigner, manifest } = checkParts(o);

  const concurrency =
    o.concurrency === undefined ? DEFAULT_CONCURRENCY : checkInteger(OWNER, 'concurrency', o.concurrency, 1);
  const queueMax = o.queueMax === undefined ? DEFAULT_QUEUE_MAX : checkInteger(OWNER, 'queueMax', o.queueMax, 1);
  const expiresIn =
    o.expiresIn === undefined ? DEFAULT_EXPIRES_IN : checkInteger(OWNER, 'expiresIn', o.expiresIn, 1, MAX_EXPIRES_IN);
  const signal = checkSignal(o);
  const reporters = checkReporters(o);

  const requestId = o.requestId === undefined ? randomUUID() : checkNonEmptyString(OWNER, 'requestId', o.requestId);
  const deadline = o.deadline === undefined ? undefined : checkFiniteNumber(OWNER, 'deadline', o.deadline);
  const onExpiryCapped =
    o.onExpiryCapped === undefined
      ? 'warn'
      : checkOneOf(OWNER, 'onExpiryCapped', o.onExpiryCapped, ['warn', 'refuse'] as const);

  return {
    source,
    presigner,
    manifest,
    concurrency,
    queueMax,
    expiresIn,
    signal,
    reporters,
    requestId,
    deadline,
    onExpiryCapped,
  };
}

/**
 * One run. Pages flow from the producer into a queue of page arrays (no per-key nodes); workers take keys from it,
 * presign them, and gather entries into batches that go to the manifest writer one `write` at a time.
 */
class Run {
  private readonly cfg: Config;
  private readonly controller = new AbortController();
  private readonly emitters: GuardedEmitter[] = [];
  private readonly detachers: (() => void)[] = [];
  private readonly failurePromise: Promise<never>;
  private rejectFailure!: (error: unknown) => void;
  private failed = false;
  private failure: unknown;
  /** Set on failure: workers and producer stop at their next step. */
  private stopped = false;
  private producerDone = false;
  private iterator: AsyncIterator<KeyPage> | undefined;

  private readonly queue: QueuedPage[] = [];
  private head: readonly unknown[] | undefined;
  private headBucket = '';
  private headPos = 0;
  private queued = 0;
  private keysWaiter: Waiter | undefined;
  private spaceWaiter: Waiter | undefined;

  private batch: ManifestEntry[] = [];
  /** Whether the presigner vouches for its synchronous URLs, and whether every URL in `batch` is one of those. */
  private readonly vouching: boolean;
  private batchVouched = true;
  private writing: Promise<void> | undefined;

  private count = 0;
  private errors = 0;
  private pages = 0;
  private lastCursor: string | undefined;
  /** The last page taken, kept for sources that make resume tokens (see `KeySource.resumeToken`). */
  private lastPage: KeyPage | undefined;
  private reachedDeadline = false;
  /** Aborted at the deadline: cancels the page request in flight, which the producer then stops waiting for. */
  private readonly deadlineController = new AbortController();
  private readonly deadlineWaiter = waiter();
  /** The source said its latest page was the last one: the deadline can no longer leave anything unlisted. */
  private sawLastPage = false;
  private effectiveExpiresIn: number;
  private presignOptions: PresignOptions;
  private readonly startedAt = performance.now();
  private readonly keepsLastPage: boolean;
  /** The source yields the pages it holds when the deadline comes (`KeySource.drainsAtDeadline`): they are taken. */
  private readonly drains: boolean;
  /** Resolves when a draining source has had `DRAIN_GRACE_MS` after the deadline: it is then stopped anyway. */
  private readonly drainGrace = waiter();
  private drainGraceOver = false;
  private drainGraceTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(cfg: Config) {
    this.cfg = cfg;
    this.vouching = vouchesForSyncUrls(cfg.presigner);
    this.keepsLastPage = typeof cfg.source.resumeToken === 'function';
    this.drains = cfg.deadline !== undefined && cfg.source.drainsAtDeadline === true;
    this.effectiveExpiresIn = cfg.expiresIn;
    this.presignOptions = Object.freeze({ expiresIn: cfg.expiresIn });
    this.failurePromise = new Promise<never>((_, reject) => {
      this.rejectFailure = reject;
    });
    this.failurePromise.catch(noop);
  }

  async execute(): Promise<PipelineResult> {
    const userSignal = this.cfg.signal;
    const onAbort = (): void => this.fail(abortError(userSignal?.reason));
    userSignal?.addEventListener('abort', onAbort, { once: true });
    this.subscribeReporters();
    const progress = { opened: false };
    try {
      return await this.run(progress);
    } catch (error) {
      throw await this.failRun(error, progress.opened);
    } finally {
      userSignal?.removeEventListener('abort', onAbort);
    }
  }

  /** The run from start to result; `progress.opened` tells the failure path whether the manifest needs aborting. */
  private async run(progress: { opened: boolean }): Promise<PipelineResult> {
    const { cfg } = this;
    this.emit('pipeline-started', {
      requestId: cfg.requestId,
      bucket: cfg.source.bucket,
      expiresIn: cfg.expiresIn,
      concurrency: cfg.concurrency,
      queueMax: cfg.queueMax,
    });
    await this.guard(this.checkCredentials());

    progress.opened = true;
    if (cfg.manifest.open !== undefined) {
      await this.guard(
        cfg.manifest.open({
          requestId: cfg.requestId,
          expiresIn: this.effectiveExpiresIn,
          signal: this.controller.signal,
        }),
      );
    }

    const work: Promise<void>[] = [this.produce()];
    for (let i = 0; i < cfg.concurrency; i++) work.push(this.work().catch((error: unknown) => this.fail(error)));
    await this.guard(Promise.all(work));
    await this.guard(this.flush());
    if (this.failed) throw this.failure;

    const manifest: ManifestInfo = await this.guard(cfg.manifest.close());
    this.emit('manifest-completed', { requestId: cfg.requestId, manifest });
    const result = this.resultFor(manifest);
    this.emit('pipeline-completed', { requestId: cfg.requestId, result });
    await this.finishReporters();
    return result;
  }

  private resultFor(manifest: ManifestInfo): PipelineResult {
    // A deadline that came after the last page arrived left nothing unlisted.
    const complete = !this.reachedDeadline || this.sawLastPage;
    return {
      count: this.count,
      errors: this.errors,
      pages: this.pages,
      manifest,
      durationMs: performance.now() - this.startedAt,
      effectiveExpiresIn: this.effectiveExpiresIn,
      complete,
      ...(!complete && this.lastCursor !== undefined ? { nextStartAfter: this.lastCursor } : {}),
      ...(!complete ? this.resumeTokenField() : {}),
    };
  }

  /** Fails the run, aborts an opened manifest and reports; returns the error the run fails with. */
  private async failRun(error: unknown, opened: boolean): Promise<unknown> {
    const { cfg } = this;
    // The first failure wins: a source error, an abort, a write error, whatever came first.
    const reason = this.failed ? this.failure : error;
    this.fail(reason);
    if (opened) {
      try {
        await cfg.manifest.abort(reason);
      } catch {
        // The run already failed; the original error is the one worth reporting.
      }
    }
    this.emit('pipeline-failed', {
      requestId: cfg.requestId,
      error: reason,
      count: this.count,
      errors: this.errors,
      pages: this.pages,
      durationMs: performance.now() - this.startedAt,
    });
    await this.finishReporters();
    return reason;
  }

  /** Settles with `value`, or rejects as soon as the run fails (an abort, a source error), whichever comes first. */
  private guard<T>(value: T | PromiseLike<T>): Promise<T> {
    if (this.failed) return this.failurePromise;
    if (!isThenable(value)) return Promise.resolve(value);
    return Promise.race([value, this.failurePromise]);
  }

  private fail(error: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.failure = error;
    this.stopped = true;
    this.controller.abort(error);
    this.wakeWorkers();
    this.wakeProducer();
    this.rejectFailure(error);
    const iterator = this.iterator;
    if (iterator?.return !== undefined) {
      // Lets a generator source run its `finally`; never awaited, since a hung source would hang us too.
      try {
        Promise.resolve(iterator.return()).catch(noop);
      } catch {
        // A source whose return() throws has nothing left to release.
      }
    }
  }

  /** The source's resume token for the cut after the last page taken, when the source makes them. */
  private resumeTokenField(): { resumeToken?: string } {
    const source = this.cfg.source;
    if (typeof source.resumeToken !== 'function') return {};
    const token = source.resumeToken(this.lastPage);
    return typeof token === 'string' ? { resumeToken: token } : {};
  }

  // ---- credentials -------------------------------------------------------------------------------------------

  private async checkCredentials(): Promise<void> {
    const { cfg } = this;
    const lifetime = await urlLifetime(cfg.presigner, cfg.expiresIn, cfg.onExpiryCapped, OWNER);
    if (lifetime.credentialsExpireAt === undefined) return;
    this.effectiveExpiresIn = lifetime.expiresIn;
    this.presignOptions = Object.freeze({ expiresIn: lifetime.expiresIn });
    this.emit('expiry-capped', {
      requestId: cfg.requestId,
      requestedExpiresIn: cfg.expiresIn,
      effectiveExpiresIn: lifetime.expiresIn,
      credentialsExpireAt: lifetime.credentialsExpireAt,
    });
  }

  // ---- producer ----------------------------------------------------------------------------------------------

  private async produce(): Promise<void> {
    const { cfg } = this;
    let lastYield = performance.now();
    const timer = this.armDeadline();
    try {
      const signal =
        cfg.deadline === undefined || this.drains
          ? this.controller.signal
          : AbortSignal.any([this.controller.signal, this.deadlineController.signal]);
      const context = cfg.deadline === undefined ? { signal } : { signal, deadline: this.deadlineController.signal };
      const iterator = pageIterator(cfg.source.pages(context));
      this.iterator = iterator;
      for (;;) {
        // Backpressure: the source is not pulled while queueMax keys wait.
        while (this.queued >= cfg.queueMax && !this.stopped && !this.reachedDeadline) await this.waitForSpace();
        if (this.stopped) return;
        if (cfg.deadline !== undefined && !this.sawLastPage && Date.now() >= cfg.deadline) this.stopListing();
        // A draining source ends by itself once it has yielded the pages it held at the deadline (or its grace ends).
        if (this.reachedDeadline && (!this.drains || this.drainGraceOver)) {
          if (iterator.return !== undefined) Promise.resolve(iterator.return()).catch(noop);
          return;
        }
        if (performance.now() - lastYield >= YIELD_EVERY_MS) {
          await yieldToEventLoop();
          lastYield = performance.now();
          if (this.stopped) return;
        }
        const step = await this.nextPage(iterator);
        if (this.stopped) return;
        if (step === undefined) continue; // the deadline came first: the loop stops above
        if (step.done === true) return;
        this.accept(step.value);
      }
    } catch (error) {
      // A page cut off by the deadline is not a failure: the run ends with what it accepted before.
      if (!this.reachedDeadline) this.fail(error);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      if (this.drainGraceTimer !== undefined) clearTimeout(this.drainGraceTimer);
      this.producerDone = true;
      this.wakeWorkers();
    }
  }

  /** The source's next page, or undefined when the deadline comes first (the page in flight is not awaited). */
  private nextPage(iterator: AsyncIterator<KeyPage>): Promise<IteratorResult<KeyPage> | undefined> {
    const next = Promise.resolve(iterator.next());
    if (this.cfg.deadline === undefined) return next;
    // The losing page request is aborted through the signal; its rejection has nobody left to tell.
    next.catch(noop);
    // A draining source answers at once when the deadline comes, with a page it held or with its end; one that
    // has not ended when its grace is over is stopped like any other.
    const stop = this.drains ? this.drainGrace : this.deadlineWaiter;
    return Promise.race([next, stop.promise.then(() => undefined)]);
  }

  /** Stops listing when the deadline comes, even while a page request is in flight. */
  private armDeadline(): ReturnType<typeof setTimeout> | undefined {
    const { deadline } = this.cfg;
    if (deadline === undefined) return undefined;
    return setTimeout(() => this.stopListing(), Math.max(0, deadline - Date.now()));
  }

  private stopListing(): void {
    if (this.reachedDeadline || this.sawLastPage || this.producerDone) return;
    this.reachedDeadline = true;
    this.deadlineController.abort(
      new PresignPipelineError(
        'DEADLINE_REACHED',
        'presignPipeline: the deadline came; the page request in flight was cancelled',
      ),
    );
    this.deadlineWaiter.resolve();
    if (this.drains) {
      this.drainGraceTimer = setTimeout(() => {
        this.drainGraceOver = true;
        this.drainGrace.resolve();
      }, DRAIN_GRACE_MS);
    }
    this.wakeProducer();
  }

  private accept(page: KeyPage): void {
    if (typeof page !== 'object' || page === null || !Array.isArray(page.keys)) {
      throw new PresignPipelineError(
        'SOURCE_FAILED',
        `presignPipeline: the source yielded ${describeValue(page)} where a page ({ bucket, keys: [...] }) was expected`,
      );
    }
    if (page.continues !== true) this.pages++;
    if (page.last === true) this.sawLastPage = true;
    if (this.keepsLastPage) this.lastPage = page;
    const keys = page.keys;
    // The resume point moves with every page that says where it ended. A page without a cursor moves it only when
    // it carried keys (the source cannot say where those end, so no resume point is safe); an empty one listed
    // nothing, so the previous cursor still marks exactly how far the run got.
    if (typeof page.cursor === 'string') this.lastCursor = page.cursor;
    else if (keys.length > 0) this.lastCursor = undefined;
    if (this.listening('page-listed')) {
      this.emit('page-listed', { requestId: this.cfg.requestId, page: this.pages, keys: keys.length });
    }
    if (keys.length === 0) return;
    const bucket = typeof page.bucket === 'string' && page.bucket.length > 0 ? page.bucket : this.cfg.source.bucket;
    this.queue.push({ bucket, keys });
    this.queued += keys.length;
    this.wakeWorkers();
  }

  private waitForSpace(): Promise<void> {
    this.spaceWaiter ??= waiter();
    return this.spaceWaiter.promise;
  }

  private wakeProducer(): void {
    const w = this.spaceWaiter;
    if (w !== undefined) {
      this.spaceWaiter = undefined;
      w.resolve();
    }
  }

  // ---- workers -----------------------------------------------------------------------------------------------

  /** Takes the next key (setting `headBucket` to its bucket), or NONE when the queue is empty. */
  private take(): unknown {
    for (;;) {
      const keys = this.head;
      if (keys !== undefined && this.headPos < keys.length) {
        const key = keys[this.headPos++];
        this.queued--;
        if (this.spaceWaiter !== undefined && this.queued < this.cfg.queueMax) this.wakeProducer();
        return key;
      }
      const next = this.queue.shift();
      if (next === undefined) {
        this.head = undefined;
        return NONE;
      }
      this.head = next.keys;
      this.headBucket = next.bucket;
      this.headPos = 0;
    }
  }

  private waitForKeys(): Promise<void> {
    this.keysWaiter ??= waiter();
    return this.keysWaiter.promise;
  }

  private wakeWorkers(): void {
    const w = this.keysWaiter;
    if (w !== undefined) {
      this.keysWaiter = undefined;
      w.resolve();
    }
  }

  private async work(): Promise<void> {
    const presigner = this.cfg.presigner;
    const sync = typeof presigner.presignSync === 'function';
    for (;;) {
      if (this.stopped) return;
      const key = this.take();
      if (key === NONE) {
        if (this.producerDone) return;
        await this.waitForKeys();
        continue;
      }
      if (typeof key !== 'string' || key.length === 0) {
        this.itemError(
          key,
          new PresignPipelineError('INVALID_KEY', `key must be a non-empty string, got ${typeOfValue(key)}`),
          'INVALID_KEY',
        );
        continue;
      }
      const object = { bucket: this.headBucket, key };
      let url: unknown;
      let vouched = this.vouching;
      try {
        url = sync ? presigner.presignSync?.(object, this.presignOptions) : undefined;
        if (url === undefined) {
          vouched = false;
          url = await presigner.presign(object, this.presignOptions);
        }
      } catch (error) {
        if (this.stopped) return;
        this.itemError(key, error, 'PRESIGN_FAILED');
        continue;
      }
      if (this.stopped) return;
      if (typeof url !== 'string' || url.length === 0) {
        this.itemError(
          key,
          new TypeError(`presigner returned ${typeOfValue(url)}, expected a non-empty URL string`),
          'PRESIGN_FAILED',
        );
        continue;
      }
      this.count++;
      if (!vouched) this.batchVouched = false;
      if (this.batch.push({ key, url }) >= WRITE_BATCH) await this.flush();
    }
  }

  /** Hands the gathered entries to the manifest writer; writes never overlap, and a pending one holds workers back. */
  private async flush(): Promise<void> {
    while (this.writing !== undefined) await this.writing;
    if (this.stopped || this.batch.length === 0) return;
    const entries = this.batch;
    if (this.vouching && this.batchVouched) markEscapeFreeBatch(entries);
    this.batch = [];
    this.batchVouched = true;
    const pending = this.cfg.manifest.write(entries);
    if (isThenable(pending)) {
      const tracked = Promise.resolve(pending).then(() => {
        this.writing = undefined;
      });
      this.writing = tracked;
      await tracked;
    }
    if (!this.stopped) this.entriesWritten(entries.length);
  }

  /** Reports progress after a write; costs nothing when no reporter listens. */
  private entriesWritten(entries: number): void {
    if (!this.listening('entries-written')) return;
    const bytes = this.cfg.manifest.bytesWritten?.();
    this.emit('entries-written', {
      requestId: this.cfg.requestId,
      entries,
      count: this.count,
      ...(typeof bytes === 'number' ? { bytes } : {}),
    });
  }

  private itemError(value: unknown, cause: unknown, code: PresignPipelineErrorCode): void {
    this.errors++;
    if (!this.listening('item-error')) return;
    const key = typeof value === 'string' ? value : `(${describeValue(value)})`;
    const message = redactSecrets(messageOf(cause));
    const error =
      cause instanceof PresignPipelineError && cause.message === message
        ? cause
        : new PresignPipelineError(code, message, { cause, key });
    this.emit('item-error', { requestId: this.cfg.requestId, key, error, message });
  }

  // ---- reporters ---------------------------------------------------------------------------------------------

  /** Each reporter gets its own emitter, so one whose listener throws cannot keep the others from an event. */
  private subscribeReporters(): void {
    for (const reporter of this.cfg.reporters) {
      const emitter = new GuardedEmitter();
      this.emitters.push(emitter);
      try {
        const detach = reporter.subscribe(emitter);
        if (typeof detach === 'function') this.detachers.push(detach);
      } catch {
        // A reporter must never break the run it observes.
      }
    }
  }

  private listening(name: keyof PresignPipelineEvents): boolean {
    for (const emitter of this.emitters) if (emitter.listenerCount(name) > 0) return true;
    return false;
  }

  private emit<K extends keyof PresignPipelineEvents>(name: K, event: PresignPipelineEvents[K][0]): void {
    for (const emitter of this.emitters) {
      if (emitter.listenerCount(name) === 0) continue;
      try {
        (emitter.emit as (name: K, event: PresignPipelineEvents[K][0]) => boolean)(name, event);
      } catch {
        // Listener exceptions are dropped: telemetry never fails the pipeline.
      }
    }
  }

  private async finishReporters(): Promise<void> {
    for (const reporter of this.cfg.reporters) {
      if (reporter.flush === undefined) continue;
      try {
        await reporter.flush();
      } catch {
        // Same rule as listeners: a reporter's failure is not the run's.
      }
    }
    for (const detach of this.detachers) {
      try {
        detach();
      } catch {
        // Nothing more to release.
      }
    }
    for (const emitter of this.emitters) emitter.removeAllListeners();
  }
}

/**
 * Streams every key of `options.source` through `options.presigner` into `options.manifest`, with bounded memory:
 * at most `queueMax` keys wait between the source and the `concurrency` workers, and entries reach the manifest
 * writer in batches, one write at a time.
 *
 * - A key that fails to presign (or is not a non-empty string) counts in `errors`, emits `item-error`, and the run
 *   goes on.
 * - A source error, a manifest writer error or an abort ends the run: listing and presigning stop, the manifest is
 *   aborted, and the promise rejects with that very error (an `AbortError` for an abort).
 * - Options are validated before anything happens: a bad one throws a TypeError or RangeError naming it.
 * - With `deadline`, the run stops pulling pages once the deadline has passed (checked before each page, including
 *   the first, and by a timer: a page request in flight at the deadline is aborted through the source's signal and
 *   not awaited, so its keys are neither presigned nor counted in the cursor), finishes the keys it holds (at most
 *   `queueMax` plus one page), completes the manifest and resolves with `complete: false` and
 *   `nextStartAfter` set to the last cursor a page gave (an empty page without a cursor keeps the previous one;
 *   undefined if no page gave one, or if the last page with keys gave none). Once a page says it is the `last`, the
 *   deadline no longer stops the run: the source has nothing left to list, so the run is `complete`. A source that
 *   declares `drainsAtDeadline` (the auto-partitioned `s3ListSource`) is not aborted: it stops listing, the run takes
 *   the pages it already held (at most its `concurrency`), and its `resumeToken` continues after them.
 * - Keys buffered may exceed `queueMax` by at most one page: the source is not pulled while `queueMax` keys wait.
 *
 * @example
 * ```ts
 * import { arrayKeySource, fileManifestWriter, presignPipeline, sdkPresigner } from '@presign-pipeline/core';
 * import { S3Client } from '@aws-sdk/client-s3';
 *
 * const result = await presignPipeline({
 *   source: arrayKeySource(['a.pdf', 'b.pdf'], { bucket: 'reports' }),
 *   presigner: sdkPresigner({ client: new S3Client({}) }),
 *   manifest: fileManifestWriter('/tmp/manifest.jsonl'),
 *   expiresIn: 3600,
 * });
 * console.log(result.count, result.errors, result.manifest.location);
 * ```
 */
export async function presignPipeline(options: PresignPipelineOptions): Promise<PipelineResult> {
  const cfg = validateOptions(options);
  if (cfg.signal?.aborted === true) throw abortError(cfg.signal.reason);
  return new Run(cfg).execute();
}
