// Test doubles shared by the pipeline, source, manifest and reporter tests.
import type {
  KeyPage,
  KeySource,
  KeySourceContext,
  ManifestContext,
  ManifestEntry,
  ManifestInfo,
  ManifestWriter,
  ObjectRef,
  PipelineEventEmitter,
  PresignOptions,
  Presigner,
  PresignPipelineEvents,
  Reporter,
} from '../../src/types.js';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Rejects if `promise` has not settled within `ms`, so a hang fails the test instead of stalling the suite. */
export async function within<T>(promise: Promise<T>, ms: number, what = 'the run'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`test deadline: ${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Settles to the rejection reason (or fails if the promise resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

export function keyList(n: number, prefix = 'k'): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}/${String(i).padStart(6, '0')}.pdf`);
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export interface ScriptedSource extends KeySource {
  /** How many times `next()` was called on the page iterator. */
  readonly pulls: number;
  /** The context of the last `pages()` call. */
  readonly context: KeySourceContext | undefined;
  /** Whether the iterator's `return()` ran (the pipeline closed it). */
  readonly returned: boolean;
}

export interface ScriptedSourceOptions {
  bucket?: string;
  /** Thrown instead of yielding the page of that 0-based index. */
  failAt?: { page: number; error: unknown };
  /** From this 0-based page index on, `next()` never settles. */
  hangAt?: number;
  /** Delay before each page, in ms. */
  delayMs?: number;
  /** Per-page delay, by 0-based index. */
  delayAt?: Record<number, number>;
}

/** A KeySource that yields the given pages, counting pulls; pages may be anything (to test garbage handling). */
export function scriptedSource(
  pages: readonly (readonly unknown[])[],
  options: ScriptedSourceOptions = {},
): ScriptedSource {
  const bucket = options.bucket ?? 'bucket';
  let pulls = 0;
  let context: KeySourceContext | undefined;
  let returned = false;
  return {
    bucket,
    get pulls() {
      return pulls;
    },
    get context() {
      return context;
    },
    get returned() {
      return returned;
    },
    pages(ctx: KeySourceContext): AsyncIterable<KeyPage> {
      context = ctx;
      let index = 0;
      const iterator: AsyncIterator<KeyPage> = {
        async next(): Promise<IteratorResult<KeyPage>> {
          const i = index++;
          pulls++;
          if (options.hangAt !== undefined && i >= options.hangAt) return new Promise<never>(() => {});
          const delay = options.delayAt?.[i] ?? options.delayMs;
          if (delay !== undefined) await sleep(delay);
          if (options.failAt !== undefined && options.failAt.page === i) throw options.failAt.error;
          const keys = pages[i];
          if (keys === undefined) return { done: true, value: undefined };
          const last = keys[keys.length - 1];
          return {
            done: false,
            value: { bucket, keys: keys as string[], ...(typeof last === 'string' ? { cursor: last } : {}) },
          };
        },
        async return(): Promise<IteratorResult<KeyPage>> {
          returned = true;
          return { done: true, value: undefined };
        },
      };
      return { [Symbol.asyncIterator]: () => iterator };
    },
  };
}

export interface FakePresigner extends Presigner {
  readonly calls: ObjectRef[];
  readonly options: PresignOptions[];
  readonly inFlight: number;
  readonly maxInFlight: number;
}

export interface FakePresignerOptions {
  /** Resolve after a random 0..maxDelayMs delay, so calls complete out of order. */
  maxDelayMs?: number;
  /** Never resolve (a hung remote signer). */
  hang?: boolean;
  /** Resolves only once this promise does. */
  gate?: Promise<void>;
  /** Makes a key fail: returns the value to throw, or undefined for success. */
  failFor?: (key: string) => unknown;
  credentialsExpiration?: () => Promise<Date | undefined>;
}

export function urlFor(object: ObjectRef, expiresIn = 900): string {
  return `https://s3.test/${object.bucket}/${encodeURIComponent(object.key)}?X-Amz-Expires=${expiresIn}&X-Amz-Signature=sig`;
}

export function fakePresigner(options: FakePresignerOptions = {}): FakePresigner {
  const calls: ObjectRef[] = [];
  const seen: PresignOptions[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const presigner: FakePresigner = {
    calls,
    options: seen,
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    async presign(object: ObjectRef, opts: PresignOptions): Promise<string> {
      calls.push(object);
      seen.push(opts);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        if (options.hang === true) await new Promise<never>(() => {});
        if (options.gate !== undefined) await options.gate;
        if (options.maxDelayMs !== undefined) await sleep(Math.random() * options.maxDelayMs);
        const failure = options.failFor?.(object.key);
        if (failure !== undefined) throw failure;
        return urlFor(object, opts.expiresIn);
      } finally {
        inFlight--;
      }
    },
  };
  if (options.credentialsExpiration !== undefined) presigner.credentialsExpiration = options.credentialsExpiration;
  return presigner;
}

export interface SpyWriter extends ManifestWriter {
  readonly entries: ManifestEntry[];
  readonly writeCalls: number;
  readonly overlaps: number;
  readonly opened: ManifestContext | undefined;
  readonly closed: number;
  readonly aborted: unknown[];
}

export interface SpyWriterOptions {
  /** Each write settles after this many ms (asynchronous writer). */
  writeDelayMs?: number;
  failWrite?: { afterCalls: number; error: unknown; sync?: boolean };
  failClose?: unknown;
  failOpen?: unknown;
  info?: ManifestInfo;
}

/** A manifest writer that records calls and checks the "one write at a time" contract. */
export function spyWriter(options: SpyWriterOptions = {}): SpyWriter {
  const entries: ManifestEntry[] = [];
  let writeCalls = 0;
  let writing = false;
  let overlaps = 0;
  let opened: ManifestContext | undefined;
  let closed = 0;
  const aborted: unknown[] = [];
  return {
    entries,
    get writeCalls() {
      return writeCalls;
    },
    get overlaps() {
      return overlaps;
    },
    get opened() {
      return opened;
    },
    get closed() {
      return closed;
    },
    aborted,
    async open(ctx: ManifestContext): Promise<void> {
      opened = ctx;
      if (options.failOpen !== undefined) throw options.failOpen;
    },
    write(batch: readonly ManifestEntry[]): void | Promise<void> {
      writeCalls++;
      if (writing) overlaps++;
      const fail = options.failWrite;
      if (fail !== undefined && writeCalls > fail.afterCalls) {
        if (fail.sync === true) throw fail.error;
        return Promise.reject(fail.error);
      }
      entries.push(...batch);
      if (options.writeDelayMs === undefined) return undefined;
      writing = true;
      return sleep(options.writeDelayMs).then(() => {
        writing = false;
      });
    },
    async close(): Promise<ManifestInfo> {
      closed++;
      if (options.failClose !== undefined) throw options.failClose;
      return options.info ?? { bytes: entries.length, location: 'spy' };
    },
    async abort(reason?: unknown): Promise<void> {
      aborted.push(reason);
    },
  };
}

type EventRecord = {
  [K in keyof PresignPipelineEvents]: { name: K; event: PresignPipelineEvents[K][0] };
}[keyof PresignPipelineEvents];

export interface RecordingReporter extends Reporter {
  readonly events: EventRecord[];
  readonly flushes: number;
  readonly emitter: PipelineEventEmitter | undefined;
  of<K extends keyof PresignPipelineEvents>(name: K): PresignPipelineEvents[K][0][];
}

const EVENT_NAMES: (keyof PresignPipelineEvents)[] = [
  'pipeline-started',
  'page-listed',
  'item-error',
  'expiry-capped',
  'manifest-completed',
  'pipeline-completed',
  'pipeline-failed',
];

/** Records every event it sees, in order. */
export function recordingReporter(): RecordingReporter {
  const events: EventRecord[] = [];
  let flushes = 0;
  let emitter: PipelineEventEmitter | undefined;
  return {
    events,
    get flushes() {
      return flushes;
    },
    get emitter() {
      return emitter;
    },
    of<K extends keyof PresignPipelineEvents>(name: K): PresignPipelineEvents[K][0][] {
      return events.filter((e) => e.name === name).map((e) => e.event) as PresignPipelineEvents[K][0][];
    },
    subscribe(e: PipelineEventEmitter): void {
      emitter = e;
      for (const name of EVENT_NAMES) {
        e.on(name, (event: unknown) => {
          events.push({ name, event } as EventRecord);
        });
      }
    },
    flush(): void {
      flushes++;
    },
  };
}
