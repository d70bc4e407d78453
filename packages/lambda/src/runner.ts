import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { extractEmfMetrics, extractJsonLogs, type ExtractedEmfMetric } from '@presign-pipeline/emf';
import type { PipelineEventEmitter, Reporter } from '@presign-pipeline/core';
import type { Context, SQSEvent } from 'aws-lambda';

/** A Lambda context good enough for local runs: a fresh request id and a clock that counts down from the timeout. */
export function stubContext(functionName: string, timeoutMs: number, now: () => number = Date.now): Context {
  const deadline = now() + timeoutMs;
  const fail = (): never => {
    throw new Error('The local runner does not support callback-style handlers');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '1769',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - now()),
    done: fail,
    fail,
    succeed: fail,
  };
}

/** Wraps a plain job event as a one-message SQS batch; an event that already has `Records` is returned as is. */
export function asSqsEvent(event: unknown): SQSEvent {
  if (event !== null && typeof event === 'object' && Array.isArray((event as { Records?: unknown }).Records)) {
    return event as SQSEvent;
  }
  const now = String(Date.now());
  return {
    Records: [
      {
        messageId: randomUUID(),
        receiptHandle: 'local',
        body: JSON.stringify(event ?? {}),
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: now,
          SenderId: 'local',
          ApproximateFirstReceiveTimestamp: now,
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:local:000000000000:presign-local',
        awsRegion: 'local',
      },
    ],
  };
}

/** What one captured invocation produced. */
export interface CapturedRun {
  /** The handler's return value (undefined when it threw). */
  readonly result: unknown;
  /** The error it threw, if it did. */
  readonly error?: { readonly name: string; readonly message: string };
  /** True when it did not settle within the timeout. */
  readonly timedOut: boolean;
  /** Everything it wrote to stdout. */
  readonly stdout: string;
  /** The structured log lines (JSON objects that are not EMF). */
  readonly logs: Array<Record<string, unknown>>;
  /** The EMF metrics, flattened. */
  readonly metrics: ExtractedEmfMetric[];
  /** Lines on stdout that were neither JSON logs nor EMF. */
  readonly otherOutput: string[];
}

/** The longest delay `setTimeout` honours (2^31 - 1 ms, about 24.8 days); a longer one fires at once. */
export const MAX_TIMEOUT_MS = 2_147_483_647;

/** Where one invocation's stdout goes: its chunks while it is captured; nowhere once it was abandoned. */
interface OutputSink {
  readonly chunks: string[];
  open: boolean;
}

const invocationOutput = new AsyncLocalStorage<OutputSink>();
let stdoutRouted = false;

/**
 * Routes stdout by invocation, once per process: a write made inside a captured invocation (however late, through
 * timers and promises) goes to that invocation's chunks, or nowhere once its capture ended (a timed-out or cancelled
 * handler that keeps running must not fill another run's panels); any other write goes to the terminal.
 */
function routeStdoutByInvocation(): void {
  if (stdoutRouted) return;
  stdoutRouted = true;
  const stdout = process.stdout;
  const original = stdout.write;
  stdout.write = function write(this: unknown, chunk: unknown, encodingOrCallback?: unknown, callback?: unknown) {
    const sink = invocationOutput.getStore();
    if (sink === undefined) return Reflect.apply(original, stdout, [chunk, encodingOrCallback, callback]) as boolean;
    if (sink.open)
      sink.chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    const done = typeof encodingOrCallback === 'function' ? encodingOrCallback : callback;
    if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
    return true;
  } as typeof stdout.write;
}

/** Settles with the invocation's value, `'timeout'` after `timeoutMs`, clearing the timer either way. */
async function raceTimeout<T>(invocation: Promise<T>, timeoutMs: number): Promise<{ value: T } | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), Math.min(timeoutMs, MAX_TIMEOUT_MS));
  });
  try {
    return await Promise.race([invocation.then((value) => ({ value })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Lines that are not JSON objects: what neither the logs nor the metrics panel shows. */
function linesNotJsonObjects(text: string): string[] {
  return text.split(/\r?\n/).filter((line) => line.trim() !== '' && !isJsonObjectLine(line));
}

function isJsonObjectLine(line: string): boolean {
  // The readers tolerate a Lambda console prefix before a tab.
  const tab = line.lastIndexOf('\t');
  const candidate = (tab < 0 ? line : line.slice(tab + 1)).trim();
  if (!candidate.startsWith('{')) return false;
  try {
    const parsed: unknown = JSON.parse(candidate);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed);
  } catch {
    return false;
  }
}

/**
 * Calls `invoke` with its stdout captured (not printed), racing it against `timeoutMs` like Lambda would. Whatever
 * the handler printed is parsed into logs and metrics. On a timeout `abort` (if given) is aborted so the handler can
 * stop; whatever it prints afterwards is dropped, never shown in another invocation's output.
 */
export async function captureInvocation(
  invoke: () => Promise<unknown>,
  timeoutMs: number,
  abort?: AbortController,
): Promise<CapturedRun> {
  routeStdoutByInvocation();
  const sink: OutputSink = { chunks: [], open: true };
  let result: unknown;
  let error: { name: string; message: string } | undefined;
  let timedOut = false;
  try {
    const outcome = await invocationOutput.run(sink, () => raceTimeout(Promise.resolve().then(invoke), timeoutMs));
    if (outcome === 'timeout') {
      timedOut = true;
      abort?.abort();
    } else result = outcome.value;
  } catch (thrown) {
    error =
      thrown instanceof Error
        ? { name: thrown.name, message: thrown.message }
        : { name: 'Error', message: String(thrown) };
  } finally {
    sink.open = false;
  }

  const text = sink.chunks.join('');
  const logs = extractJsonLogs(text);
  const metrics = extractEmfMetrics(text);
  const otherOutput = linesNotJsonObjects(text);
  return { result, ...(error !== undefined ? { error } : {}), timedOut, stdout: text, logs, metrics, otherOutput };
}

const PRESIGNED = /https?:\/\/[^\s"']*X-Amz-(?:Signature|Credential|Security-Token)[^\s"']*/gi;

/** Masks anything that looks like a presigned URL: the logs panel never shows one. */
export function maskPresignedUrls(text: string): string {
  return text.replace(PRESIGNED, '[presigned URL]');
}

/**
 * A copy of a JSON value with every string masked by {@link maskPresignedUrls}. Masking the values, not their
 * serialised text, keeps the result valid JSON: an escaped quote next to a URL is never swallowed.
 */
export function maskPresignedUrlsIn<T>(value: T): T {
  if (typeof value === 'string') return maskPresignedUrls(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => maskPresignedUrlsIn(item)) as T;
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([name, item]) => [maskPresignedUrls(name), maskPresignedUrlsIn(item)]),
  ) as T;
}

function cell(value: unknown): string {
  const masked = maskPresignedUrlsIn(value);
  return typeof masked === 'string' ? masked : (JSON.stringify(masked) ?? String(masked));
}

function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function heading(title: string): string {
  return `\n== ${title} ${'='.repeat(Math.max(3, 72 - title.length))}\n`;
}

/** Renders a captured run as the three panels: the result, the structured logs, the EMF metrics. */
export function renderPanels(run: CapturedRun): string {
  const parts: string[] = [];
  parts.push(heading('Result'));
  if (run.timedOut) parts.push('Timed out: the handler did not finish within --timeout-ms.');
  else if (run.error !== undefined) parts.push(`Threw ${run.error.name}: ${maskPresignedUrls(run.error.message)}`);
  else {
    const result = run.result as { statusCode?: unknown; body?: unknown } | undefined;
    if (result !== null && typeof result === 'object' && typeof result.body === 'string') {
      let body: unknown = result.body;
      try {
        body = JSON.parse(result.body);
      } catch {
        // Shown as the raw string.
      }
      parts.push(`statusCode: ${String(result.statusCode)}`);
      parts.push(`body: ${JSON.stringify(body, null, 2)}`);
    } else {
      parts.push(JSON.stringify(run.result, null, 2) ?? 'undefined');
    }
  }

  parts.push(heading(`Structured logs (${run.logs.length})`));
  if (run.logs.length === 0) parts.push('(none)');
  else {
    const rows = run.logs.map((entry) => {
      const details = Object.entries(entry)
        .filter(([name]) => name !== 'event' && name !== 'request_id')
        .map(([name, value]) => `${name}=${cell(value)}`)
        .join(' ');
      return [cell(entry.event ?? ''), cell(entry.request_id ?? ''), details];
    });
    parts.push(table(['event', 'request_id', 'fields'], rows));
  }

  parts.push(heading(`EMF metrics (${run.metrics.length})`));
  if (run.metrics.length === 0) parts.push('(none)');
  else {
    const first = run.metrics[0];
    if (first !== undefined) {
      const dims = Object.entries(first.dimensions)
        .map(([name, value]) => `${name}=${value}`)
        .join(', ');
      parts.push(`namespace: ${first.namespace}${dims === '' ? '' : `   dimensions: ${dims}`}`);
    }
    parts.push(
      table(
        ['metric', 'unit', 'value'],
        run.metrics.map((metric) => [
          metric.name,
          metric.unit,
          Array.isArray(metric.value) ? metric.value.join(', ') : String(metric.value),
        ]),
      ),
    );
  }
  if (run.otherOutput.length > 0) {
    parts.push(heading('Other output'));
    parts.push(run.otherOutput.map(maskPresignedUrls).join('\n'));
  }
  return `${parts.join('\n')}\n`;
}

/** A reporter that counts listed pages and keys, for the runner's progress line. */
export function progressReporter(): Reporter & { readonly pages: () => number; readonly keys: () => number } {
  let pages = 0;
  let keys = 0;
  return {
    subscribe(events: PipelineEventEmitter) {
      const onPage = (event: { keys: number }): void => {
        pages++;
        keys += event.keys;
      };
      events.on('page-listed', onPage);
      return () => events.off('page-listed', onPage);
    },
    pages: () => pages,
    keys: () => keys,
  };
}
