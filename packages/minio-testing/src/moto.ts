import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { delimiter, isAbsolute, join } from 'node:path';

/** A running moto_server process. */
export interface MotoServer {
  /** Base URL, `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** The process id, so callers can check it is gone after `stop()`. */
  readonly pid: number;
  /** Stops the process (SIGTERM, then SIGKILL after a grace period) and waits for it to exit. */
  stop(): Promise<void>;
}

/** Options of {@link startMotoServer}. */
export interface MotoServerOptions {
  /** The command to run; default `moto_server`, looked up on PATH. */
  readonly command?: string;
  /** How long to wait for the server to answer, default 20 s. */
  readonly startTimeoutMs?: number;
}

/** Default deadline for moto_server to answer after it is spawned. */
export const DEFAULT_MOTO_START_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 3_000;
const PORT_ATTEMPTS = 3;

/**
 * Finds an executable on PATH, the way a shell would.
 * @returns its full path, or undefined when absent.
 */
export function findExecutable(command: string, path: string = process.env.PATH ?? ''): string | undefined {
  const candidates =
    isAbsolute(command) || command.includes('/')
      ? [command]
      : path
          .split(delimiter)
          .filter(Boolean)
          .map((dir) => join(dir, command));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A port on 127.0.0.1 that was free a moment ago (the caller retries if another process takes it first). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/**
 * Starts `moto_server` on a free loopback port and waits until `/moto-api/` answers.
 * The process is killed when `stop()` is called and, failing that, when this Node
 * process exits, so it cannot outlive the test run.
 * @throws Error when the command is missing, exits early or does not answer in time.
 */
export async function startMotoServer(options: MotoServerOptions = {}): Promise<MotoServer> {
  const command = options.command ?? 'moto_server';
  const timeoutMs = options.startTimeoutMs ?? DEFAULT_MOTO_START_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new RangeError(`startTimeoutMs must be a positive number, got ${String(timeoutMs)}`);
  }
  const executable = findExecutable(command);
  if (!executable) throw new Error(`${command} is not on PATH`);
  const deadline = Date.now() + timeoutMs;
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < PORT_ATTEMPTS && Date.now() < deadline; attempt++) {
    const port = await freePort();
    try {
      return await launch(executable, port, deadline);
    } catch (error) {
      lastError = error as Error;
      // Only a lost race for the port is worth another try.
      if (!/address already in use|EADDRINUSE|port .* in use/i.test(lastError.message)) throw lastError;
    }
  }
  throw lastError ?? new Error(`moto_server did not answer within ${timeoutMs} ms`);
}

/**
 * Runs the server under a small POSIX shell guard. The guard's stdin is a pipe from this
 * process that is never written: when this process ends, however it ends (even SIGKILL,
 * which runs no exit handler), the pipe closes and the guard stops the server.
 * SIGTERM to the guard stops the server too. The guard prints the server's pid first.
 */
const GUARD = [
  'exec 3<&0',
  '"$0" "$@" </dev/null 3<&- &',
  'pid=$!',
  '( while read -r _; do :; done; kill -TERM "$pid" 2>/dev/null ) <&3 &',
  'watch=$!',
  'exec 3<&-',
  'echo "moto-testing-pid:$pid"',
  'trap \'kill -TERM "$pid" 2>/dev/null\' TERM INT HUP',
  'status=0',
  'while kill -0 "$pid" 2>/dev/null; do wait "$pid"; status=$?; done',
  'kill "$watch" 2>/dev/null',
  'exit "$status"',
].join('\n');

async function launch(executable: string, port: number, deadline: number): Promise<MotoServer> {
  const endpoint = `http://127.0.0.1:${port}`;
  const args = ['-H', '127.0.0.1', '-p', String(port)];
  const guarded = process.platform !== 'win32';
  const child = guarded
    ? spawn('/bin/sh', ['-c', GUARD, executable, ...args], {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, PYTHONUNBUFFERED: '1' },
      })
    : spawn(executable, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1' } });
  // The guard's stdin is held open, unused, until stop(); errors on it (EPIPE) are expected.
  child.stdin?.on('error', () => undefined);

  // moto logs every request; the pipes must be drained or it blocks. Keep a tail for errors.
  let tail = '';
  let serverPid = guarded ? undefined : child.pid;
  let head = '';
  const onStdout = (chunk: Buffer): void => {
    const text = chunk.toString('utf8');
    if (serverPid === undefined) {
      head += text;
      const match = /^moto-testing-pid:(\d+)$/m.exec(head);
      if (match?.[1]) {
        serverPid = Number(match[1]);
        head = '';
      }
    }
    tail = (tail + text).slice(-2_000);
  };
  child.stdout?.on('data', onStdout);
  child.stderr?.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-2_000);
  });

  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve();
    });
    child.once('error', (error) => {
      spawnError = error;
      exit ??= { code: null, signal: null };
      resolve();
    });
  });
  const killServer = (signal: NodeJS.Signals): void => {
    if (serverPid !== undefined && serverPid !== child.pid) {
      try {
        process.kill(serverPid, signal);
      } catch {
        // already gone
      }
    }
    if (!exit) child.kill(signal);
  };
  // Exit handlers must be synchronous: no waiting, just the strongest signal.
  const killOnExit = (): void => {
    if (!exit) killServer('SIGKILL');
  };
  process.once('exit', killOnExit);

  const stop = async (): Promise<void> => {
    if (!exit) {
      killServer('SIGTERM');
      const grace = setTimeout(() => {
        if (!exit) killServer('SIGKILL');
      }, STOP_GRACE_MS);
      await exited;
      clearTimeout(grace);
    }
    process.removeListener('exit', killOnExit);
    child.stdin?.destroy();
    child.stdout?.destroy();
    child.stderr?.destroy();
  };

  try {
    for (;;) {
      if (spawnError) throw new Error(`moto_server could not start: ${spawnError.message}`);
      if (exit) {
        throw new Error(
          `moto_server exited early (code ${String(exit.code)}, signal ${String(exit.signal)}): ${tail.trim().split('\n').slice(-3).join(' | ')}`,
        );
      }
      if (serverPid !== undefined && (await answers(`${endpoint}/moto-api/`))) break;
      if (Date.now() >= deadline) throw new Error(`moto_server did not answer on ${endpoint} in time`);
      await Promise.race([sleep(50), exited]);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, pid: serverPid, stop };
}

function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = get(url, { agent: false, timeout: 1_000 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
