#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createPresignHandler } from './handler.js';
import {
  asSqsEvent,
  type CapturedRun,
  captureInvocation,
  MAX_TIMEOUT_MS,
  maskPresignedUrlsIn,
  progressReporter,
  renderPanels,
  stubContext,
} from './runner.js';
import { createSqsHandler } from './sqs.js';

const USAGE = `Usage: presign-local ui [OPTIONS]   (the tester page: presign-local ui --help)
       presign-local [--event FILE | --event-json JSON] [--handler presign|sqs] [--json] [--timeout-ms N] [--quiet]

Invokes the presign handler in this process with a stub Lambda context, captures what it prints, and shows
the result, the structured logs and the EMF metrics. Configuration comes from the event and the environment
(BUCKET_NAME, PREFIX, URL_EXPIRY_SECONDS, QUEUE_MAX, S3_ENDPOINT_URL, S3_PUBLIC_ENDPOINT_URL, ...).

  --event FILE        read the event from a JSON file ("-" for stdin)
  --event-json JSON   the event inline (default: {})
  --handler NAME      presign (default) or sqs (a plain event is sent as a one-message batch)
  --json              print one JSON object {result, logs, metrics} instead of the panels
  --timeout-ms N      the stub context's time budget, at most 2147483647; the run is aborted after it
                      (default 900000)
  --quiet             no progress on stderr
  --help              this text

Exit status: 0 for a 200 response (or an SQS batch without failures), 2 for any other response,
1 when the handler throws or times out, 64 for bad arguments, 130 when interrupted. Ctrl+C (or SIGTERM) aborts
the run and gives it up to 5 s to clean up (its manifest upload is aborted); a second Ctrl+C exits at once.`;

function fail(message: string): never {
  process.stderr.write(`presign-local: ${message}\n\n${USAGE}\n`);
  process.exit(64);
}

/** What the command line asks for, checked. */
interface CliRequest {
  readonly handlerName: 'presign' | 'sqs';
  readonly timeoutMs: number;
  readonly json: boolean;
  readonly quiet: boolean;
  readonly event: unknown;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Reads the arguments; undefined after printing the usage for --help. Bad arguments exit with 64. */
function parseCli(): CliRequest | undefined {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        event: { type: 'string' },
        'event-json': { type: 'string' },
        handler: { type: 'string', default: 'presign' },
        json: { type: 'boolean', default: false },
        'timeout-ms': { type: 'string', default: '900000' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    fail(errorText(error));
  }
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return undefined;
  }
  if (values.event !== undefined && values['event-json'] !== undefined) fail('give --event or --event-json, not both');
  const handlerName = values.handler ?? 'presign';
  if (handlerName !== 'presign' && handlerName !== 'sqs') fail(`--handler must be presign or sqs (got ${handlerName})`);
  const timeoutText = values['timeout-ms'] ?? '900000';
  const timeoutMs = Number(timeoutText);
  if (!/^\d+$/.test(timeoutText) || !Number.isSafeInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS)
    fail(`--timeout-ms must be a positive integer up to ${MAX_TIMEOUT_MS} (got ${timeoutText})`);
  const event = readEvent(values.event, values['event-json']);
  return { handlerName, timeoutMs, json: values.json === true, quiet: values.quiet === true, event };
}

/** The event from --event (a file, or stdin for "-"), else from --event-json, else `{}`. */
function readEvent(file: string | undefined, inline: string | undefined): unknown {
  let eventText = inline ?? '{}';
  if (file !== undefined) {
    try {
      eventText = readFileSync(file === '-' ? 0 : file, 'utf8');
    } catch (error) {
      fail(`cannot read ${file}: ${errorText(error)}`);
    }
  }
  try {
    return JSON.parse(eventText);
  } catch (error) {
    fail(`the event is not valid JSON: ${errorText(error)}`);
  }
}

/** How long an interrupted run may take to clean up (abort its manifest upload) before the process exits anyway. */
const INTERRUPT_GRACE_MS = 5000;
/** The exit status of a run stopped by SIGINT or SIGTERM (128 + SIGINT, as shells report it). */
const INTERRUPTED = 130;

/**
 * On the first SIGINT or SIGTERM, aborts the run (the handler stops and cleans up) and exits after the grace time
 * if it has not ended by then; a second signal exits at once. Returns whether a signal came, and the remover.
 */
function abortOnInterrupt(controller: AbortController): { readonly interrupted: () => boolean; remove(): void } {
  let interrupted = false;
  let grace: NodeJS.Timeout | undefined;
  const onSignal = (): void => {
    if (interrupted) process.exit(INTERRUPTED);
    interrupted = true;
    process.stderr.write('presign-local: interrupted, stopping the run (again to exit at once)\n');
    controller.abort();
    grace = setTimeout(() => {
      process.stderr.write(`presign-local: the run did not stop within ${INTERRUPT_GRACE_MS} ms\n`);
      process.exit(INTERRUPTED);
    }, INTERRUPT_GRACE_MS);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    interrupted: () => interrupted,
    remove() {
      clearTimeout(grace);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** Invokes the handler once with a stub context, printing progress to stderr each second unless quiet. */
async function invokeOnce(request: CliRequest, controller: AbortController): Promise<CapturedRun> {
  const progress = progressReporter();
  // DynamoDB and Powertools load only when the environment turns idempotency on.
  const idempotencyStore = process.env.IDEMPOTENCY_TABLE
    ? (await import('./dynamodb-idempotency.js')).dynamoDbIdempotencyStore()
    : undefined;
  const options = {
    reporters: [progress],
    signal: controller.signal,
    ...(idempotencyStore !== undefined ? { idempotencyStore } : {}),
  };
  const context = stubContext(process.env.AWS_LAMBDA_FUNCTION_NAME || 'presign-local', request.timeoutMs);
  const invoke =
    request.handlerName === 'sqs'
      ? () => createSqsHandler(options)(asSqsEvent(request.event), context)
      : () => createPresignHandler(options)(request.event, context);
  const started = Date.now();
  const ticker = request.quiet
    ? undefined
    : setInterval(() => {
        const seconds = ((Date.now() - started) / 1000).toFixed(0);
        process.stderr.write(
          `presign-local: ${seconds}s, ${progress.pages()} pages listed, ${progress.keys()} keys kept\n`,
        );
      }, 1000);
  ticker?.unref();
  const run = await captureInvocation(invoke, request.timeoutMs, controller);
  if (ticker !== undefined) clearInterval(ticker);
  return run;
}

/** Prints the run: one JSON object with presigned URLs masked, or the panels. */
function printRun(run: CapturedRun, json: boolean): void {
  if (!json) {
    process.stdout.write(renderPanels(run));
    return;
  }
  process.stdout.write(
    `${JSON.stringify({
      result: run.result ?? null,
      ...(run.error !== undefined ? { error: run.error } : {}),
      ...(run.timedOut ? { timedOut: true } : {}),
      logs: maskPresignedUrlsIn(run.logs),
      metrics: run.metrics.map(({ name, unit, value, namespace, dimensions }) => ({
        name,
        unit,
        value,
        namespace,
        dimensions,
      })),
    })}\n`,
  );
}

/** 1 when the handler threw or timed out, 0 for a 200 (or an SQS batch without failures), 2 otherwise. */
function exitCodeOf(run: CapturedRun, handlerName: CliRequest['handlerName']): number {
  if (run.timedOut || run.error !== undefined) return 1;
  const result = run.result as { statusCode?: unknown; batchItemFailures?: unknown[] } | undefined;
  if (handlerName === 'sqs')
    return Array.isArray(result?.batchItemFailures) && result.batchItemFailures.length === 0 ? 0 : 2;
  return result?.statusCode === 200 ? 0 : 2;
}

async function main(): Promise<number> {
  const request = parseCli();
  if (request === undefined) return 0;
  const controller = new AbortController();
  const interrupt = abortOnInterrupt(controller);
  try {
    const run = await invokeOnce(request, controller);
    printRun(run, request.json);
    return interrupt.interrupted() ? INTERRUPTED : exitCodeOf(run, request.handlerName);
  } finally {
    interrupt.remove();
  }
}

// `presign-local ui` serves the tester page; everything else is the one-shot runner.
const start: Promise<number | undefined> =
  process.argv[2] === 'ui'
    ? import('./tester/cli-ui.js').then(({ runUi }) =>
        runUi(
          process.argv.slice(3),
          (text) => process.stdout.write(text),
          (text) => process.stderr.write(text),
        ),
      )
    : main();

start.then(
  (code) => {
    if (code === undefined) return; // The tester keeps serving until it is stopped.
    // Exits explicitly: an abandoned (timed-out) run may still hold sockets open.
    process.exitCode = code;
    setImmediate(() => process.exit(code));
  },
  (error: unknown) => {
    process.stderr.write(`presign-local: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
