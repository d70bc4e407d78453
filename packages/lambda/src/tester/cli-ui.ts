import { parseArgs } from 'node:util';
import { MAX_TIMEOUT_MS } from '../runner.js';
import { loadSide, type TesterSide } from './handler-module.js';
import { type RunningTester, startTester } from './server.js';

/** The `presign-local ui` usage text. */
export const UI_USAGE = `Usage: presign-local ui [--handler MODULE] [--compare MODULE] [--port N] [--timeout-ms N]

Serves the tester page on http://127.0.0.1:PORT/ (loopback only) and prints its URL: an event editor, environment
overrides, Invoke with live progress and Cancel, the Result / Structured logs / EMF metrics panels, a manifest
preview, the session's history, and two handlers side by side.

  --handler MODULE   the first side: "documented" (default) or a JavaScript module exporting a Lambda handler
                     (and optionally createHandler, for progress, cancel and environment overrides)
  --compare MODULE   a second side, run with the same event and compared
  --port N           port on 127.0.0.1 (default: a free one)
  --timeout-ms N     the stub context's time budget per invocation, at most 2147483647 (default 900000)
  --help             this text

Ctrl+C (or SIGTERM) cancels a run in progress, as Cancel does, and gives it up to 5 s to clean up before the
tester exits; a second Ctrl+C exits at once.`;

function positiveInteger(text: string | undefined, name: string, allowZero: boolean): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (
    !/^\d+$/.test(text) ||
    !Number.isSafeInteger(value) ||
    (!allowZero && value < 1) ||
    value > (name === '--port' ? 65535 : MAX_TIMEOUT_MS)
  ) {
    const range = name === '--port' ? ' up to 65535' : ` up to ${MAX_TIMEOUT_MS}`;
    throw new RangeError(
      `${name} must be ${allowZero ? 'an integer from 0' : 'a positive integer'}${range} (got ${text})`,
    );
  }
  return value;
}

/** Runs `presign-local ui`; resolves when the server is listening, with the exit code for bad arguments. */
export async function runUi(
  args: readonly string[],
  out: (text: string) => void,
  err: (text: string) => void,
): Promise<number | undefined> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        handler: { type: 'string', default: 'documented' },
        compare: { type: 'string' },
        port: { type: 'string' },
        'timeout-ms': { type: 'string' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    err(`presign-local ui: ${error instanceof Error ? error.message : String(error)}\n\n${UI_USAGE}\n`);
    return 64;
  }
  if (values.help === true) {
    out(`${UI_USAGE}\n`);
    return 0;
  }
  try {
    const port = positiveInteger(values.port, '--port', true);
    const timeoutMs = positiveInteger(values['timeout-ms'], '--timeout-ms', false);
    const sides = [await loadSideOrExplain(values.handler ?? 'documented', err)];
    if (values.compare !== undefined) sides.push(await loadSideOrExplain(values.compare, err));
    const tester = await startTester({
      sides,
      ...(port !== undefined ? { port } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      log: (line) => err(`presign-local ui: ${line}\n`),
    });
    out(`presign-local ui: the tester is at ${tester.url}\n`);
    stopOnInterrupt(tester, err);
    return undefined;
  } catch (error) {
    err(`presign-local ui: ${error instanceof Error ? error.message : String(error)}\n`);
    return 64;
  }
}

/** How long a run in progress may take to clean up after Ctrl+C before the tester exits anyway. */
const INTERRUPT_GRACE_MS = 5000;

/**
 * On the first SIGINT or SIGTERM, cancels the run in progress (its handler stops and aborts its upload), waits for it
 * at most {@link INTERRUPT_GRACE_MS}, and exits; a second signal exits at once.
 */
function stopOnInterrupt(tester: RunningTester, err: (text: string) => void): void {
  let stopping = false;
  const stop = (): void => {
    if (stopping) process.exit(130);
    stopping = true;
    err('presign-local ui: stopping (a run in progress is cancelled; again to exit at once)\n');
    void tester.close(INTERRUPT_GRACE_MS).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/**
 * Loads a side, and says which module never finished loading when the event loop empties first (a top-level await
 * that never settles): the process then exits with status 1 instead of 0 without a word.
 */
async function loadSideOrExplain(spec: string, err: (text: string) => void): Promise<TesterSide> {
  const neverLoaded = (): void => {
    err(`presign-local ui: ${spec} never finished loading: its top-level await never settles\n`);
    process.exitCode = 1;
  };
  process.once('beforeExit', neverLoaded);
  try {
    return await loadSide(spec);
  } finally {
    process.off('beforeExit', neverLoaded);
  }
}
