import { parseArgs } from 'node:util';
import { loadSide } from './handler-module.js';
import { startTester } from './server.js';

/** The `presign-local ui` usage text. */
export const UI_USAGE = `Usage: presign-local ui [--handler MODULE] [--compare MODULE] [--port N] [--timeout-ms N]

Serves the tester page on http://127.0.0.1:PORT/ (loopback only) and prints its URL: an event editor, environment
overrides, Invoke with live progress and Cancel, the Result / Structured logs / EMF metrics panels, a manifest
preview, the session's history, and two handlers side by side.

  --handler MODULE   the first side: "documented" (default) or a JavaScript module exporting a Lambda handler
                     (and optionally createHandler, for progress, cancel and environment overrides)
  --compare MODULE   a second side, run with the same event and compared
  --port N           port on 127.0.0.1 (default: a free one)
  --timeout-ms N     the stub context's time budget per invocation (default 900000)
  --help             this text`;

function positiveInteger(text: string | undefined, name: string, allowZero: boolean): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (
    !/^\d+$/.test(text) ||
    !Number.isSafeInteger(value) ||
    (!allowZero && value < 1) ||
    value > (name === '--port' ? 65535 : Number.MAX_SAFE_INTEGER)
  ) {
    throw new RangeError(`${name} must be ${allowZero ? 'an integer from 0' : 'a positive integer'} (got ${text})`);
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
    const sides = [await loadSide(values.handler ?? 'documented')];
    if (values.compare !== undefined) sides.push(await loadSide(values.compare));
    const tester = await startTester({
      sides,
      ...(port !== undefined ? { port } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      log: (line) => err(`presign-local ui: ${line}\n`),
    });
    out(`presign-local ui: the tester is at ${tester.url}\n`);
    const stop = (): void => {
      void tester.close().then(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    return undefined;
  } catch (error) {
    err(`presign-local ui: ${error instanceof Error ? error.message : String(error)}\n`);
    return 64;
  }
}
