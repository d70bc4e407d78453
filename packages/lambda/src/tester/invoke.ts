import type { ExtractedEmfMetric } from '@presign-pipeline/emf';
import { captureInvocation, maskPresignedUrls, stubContext } from '../runner.js';
import type { TesterLambdaHandler, TesterSide } from './handler-module.js';
import { noProgress, progressEventsReporter, type TesterProgress } from './progress.js';

/** How one side's run ended. */
export type SideStatus = 'ok' | 'threw' | 'cancelled' | 'timed-out';

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
  /** Aborted by Cancel. */
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

function handlerFor(side: TesterSide, options: SideRunOptions, progress: TesterProgress): TesterLambdaHandler {
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
      signal: options.signal,
    });
  }
  const plain = side.module.handler as TesterLambdaHandler;
  return async (event, context) => {
    const restore = patchEnv(options.overrides);
    try {
      return await untilAbandoned(plain(event, context), options.signal);
    } finally {
      restore();
    }
  };
}

/** Invokes one side with the run's event and environment, capturing its output into the panels' data. */
export async function invokeSide(side: TesterSide, options: SideRunOptions): Promise<SideOutcome> {
  const progress = noProgress();
  const handler = handlerFor(side, options, progress);
  const context = stubContext(side.functionName, options.timeoutMs);
  const started = performance.now();
  const run = await captureInvocation(() => handler(options.event, context), options.timeoutMs);
  const durationMs = Math.round((performance.now() - started) * 10) / 10;
  const status: SideStatus = run.timedOut
    ? 'timed-out'
    : run.error === undefined
      ? 'ok'
      : options.signal.aborted
        ? 'cancelled'
        : 'threw';
  const response = run.result as { statusCode?: unknown; body?: unknown } | undefined;
  const shaped = response !== null && typeof response === 'object' && typeof response.statusCode === 'number';
  return {
    label: side.label,
    status,
    ...(shaped ? { statusCode: response.statusCode as number, body: parseBody(response.body) } : {}),
    ...(!shaped && run.result !== undefined ? { result: run.result } : {}),
    ...(run.error !== undefined
      ? { error: { name: run.error.name, message: maskPresignedUrls(run.error.message) } }
      : {}),
    logs: JSON.parse(maskPresignedUrls(JSON.stringify(run.logs))) as Array<Record<string, unknown>>,
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
