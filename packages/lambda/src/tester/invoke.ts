import type { ExtractedEmfMetric } from '@presign-pipeline/emf';
import { type CapturedRun, captureInvocation, maskPresignedUrls, maskPresignedUrlsIn, stubContext } from '../runner.js';
import type { TesterLambdaHandler, TesterSide } from './handler-module.js';
import { noProgress, progressEventsReporter, type TesterProgress } from './progress.js';

/**
 * How one side's run ended; `unserialisable` when it returned a value JSON cannot hold (a BigInt, a cycle), which
 * Lambda would fail.
 */
export type SideStatus = 'ok' | 'threw' | 'cancelled' | 'timed-out' | 'unserialisable';

/** What the page shows for one side of a run. */
export interface SideOutcome {
  /** The side's label. */
  readonly label: string;
  /** How the run ended. */
  readonly status: SideStatus;
  /** The handler's status code, when it returned one. */
  readonly statusCode?: number;
  /** The response body, parsed when it is JSON. */
  readonly body?: unknown;
  /** The whole return value when it is not `{statusCode, body}`. */
  readonly result?: unknown;
  /** The error it threw (masked). */
  readonly error?: { readonly name: string; readonly message: string };
  /** Structured log lines, newest last, presigned URLs masked. */
  readonly logs: ReadonlyArray<Record<string, unknown>>;
  /** EMF metrics. */
  readonly metrics: ReadonlyArray<Pick<ExtractedEmfMetric, 'namespace' | 'name' | 'unit' | 'value' | 'dimensions'>>;
  /** Other lines the handler printed (masked). */
  readonly otherOutput: readonly string[];
  /** Wall-clock milliseconds of the invocation. */
  readonly durationMs: number;
  /** The last progress seen. */
  readonly progress: TesterProgress;
}

/** What one side's run needs. */
export interface SideRunOptions {
  /** The event. */
  readonly event: unknown;
  /** The environment overrides of the run. */
  readonly overrides: Readonly<Record<string, string>>;
  /** The stub context's time budget. */
  readonly timeoutMs: number;
  /** Aborted by Cancel (the side's own signal is also aborted when it times out). */
  readonly signal: AbortSignal;
  /** Called on each progress update. */
  readonly onProgress: (progress: TesterProgress) => void;
}

/** Sets variables for the duration of a run of a module that reads `process.env` itself, and gives back a restorer. */
function patchEnv(overrides: Readonly<Record<string, string>>): () => void {
  const saved = new Map(Object.keys(overrides).map((name) => [name, process.env[name]]));
  Object.assign(process.env, overrides);
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

/**
 * Runs a plain handler until it answers, or rejects when the signal aborts: a plain handler cannot be stopped, so the
 * tester stops waiting for it. The abort listener goes once the race is settled, so a signal shared by many runs
 * keeps none of them.
 */
async function untilAbandoned<T>(run: Promise<T>, signal: AbortSignal): Promise<T> {
  let fail: (() => void) | undefined;
  const abandoned = new Promise<never>((_, reject) => {
    fail = (): void =>
      reject(
        Object.assign(new Error('Cancelled: the handler takes no signal, so its run was abandoned'), {
          name: 'AbortError',
        }),
      );
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
  try {
    return await Promise.race([run, abandoned]);
  } finally {
    if (fail !== undefined) signal.removeEventListener('abort', fail);
  }
}

function handlerFor(
  side: TesterSide,
  options: SideRunOptions,
  progress: TesterProgress,
  signal: AbortSignal,
): TesterLambdaHandler {
  const changed = (): void => options.onProgress(progress);
  const create = side.module.createHandler;
  if (create !== undefined) {
    return create({
      env: { ...process.env, ...options.overrides },
      write: (line) => process.stdout.write(`${line}\n`),
      reporters: [progressEventsReporter(progress, changed)],
      onProgress: (update) => {
        Object.assign(progress, update);
        changed();
      },
      signal,
    });
  }
  const plain = side.module.handler as TesterLambdaHandler;
  return async (event, context) => {
    const restore = patchEnv(options.overrides);
    try {
      return await untilAbandoned(plain(event, context), signal);
    } finally {
      restore();
    }
  };
}

/** The side's own signal: aborted by the run's Cancel, and by its timeout. The remover unlinks it from the run's. */
function sideController(runSignal: AbortSignal): { controller: AbortController; unlink: () => void } {
  const controller = new AbortController();
  const abort = (): void => controller.abort(runSignal.reason);
  if (runSignal.aborted) abort();
  else runSignal.addEventListener('abort', abort, { once: true });
  return { controller, unlink: () => runSignal.removeEventListener('abort', abort) };
}

/** The response fields of the panels; a value JSON cannot hold is replaced by an error saying so. */
function responseFields(result: unknown): Pick<SideOutcome, 'statusCode' | 'body' | 'result' | 'error'> {
  const response = result as { statusCode?: unknown; body?: unknown } | undefined;
  const shaped = response !== null && typeof response === 'object' && typeof response.statusCode === 'number';
  const fields = shaped
    ? { statusCode: response.statusCode as number, body: parseBody(response.body) }
    : result !== undefined
      ? { result }
      : {};
  try {
    JSON.stringify(fields);
    return fields;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const message = `the handler returned a value JSON cannot hold (${reason}): Lambda would fail this invocation`;
    return { error: { name: 'UnserialisableResult', message } };
  }
}

function statusOf(run: CapturedRun, cancelled: boolean, response: Pick<SideOutcome, 'error'>): SideStatus {
  if (run.timedOut) return 'timed-out';
  if (run.error !== undefined) return cancelled ? 'cancelled' : 'threw';
  return response.error === undefined ? 'ok' : 'unserialisable';
}

/**
 * Invokes one side with the run's event and environment, capturing its output into the panels' data. The side's
 * handler is built inside the capture, so a `createHandler` that throws shows as `threw`; a timeout aborts the
 * side's signal as Cancel does.
 */
export async function invokeSide(side: TesterSide, options: SideRunOptions): Promise<SideOutcome> {
  const progress = noProgress();
  const { controller, unlink } = sideController(options.signal);
  const context = stubContext(side.functionName, options.timeoutMs);
  const started = performance.now();
  const invoke = () => handlerFor(side, options, progress, controller.signal)(options.event, context);
  const run = await captureInvocation(invoke, options.timeoutMs, controller).finally(unlink);
  const durationMs = Math.round((performance.now() - started) * 10) / 10;
  const response = responseFields(run.result);
  return {
    label: side.label,
    status: statusOf(run, options.signal.aborted, response),
    ...response,
    ...(run.error !== undefined
      ? { error: { name: run.error.name, message: maskPresignedUrls(run.error.message) } }
      : {}),
    logs: maskPresignedUrlsIn(run.logs),
    metrics: run.metrics.map(({ namespace, name, unit, value, dimensions }) => ({
      namespace,
      name,
      unit,
      value,
      dimensions,
    })),
    otherOutput: run.otherOutput.map(maskPresignedUrls),
    durationMs,
    progress: { ...progress },
  };
}

function parseBody(body: unknown): unknown {
  if (typeof body !== 'string') return body;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}
