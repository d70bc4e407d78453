import { type ChildProcess, spawn } from 'node:child_process';
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

type Exit = { code: number | null; signal: NodeJS.Signals | null };

/** Spawns the server, under the guard where there is a POSIX shell. */
function spawnServer(executable: string, args: readonly string[]): { child: ChildProcess; guarded: boolean } {
  const guarded = process.platform !== 'win32';
  const env = { ...process.env, PYTHONUNBUFFERED: '1' };
  const child = guarded
    ? spawn('/bin/sh', ['-c', GUARD, executable, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env })
    : spawn(executable, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  return { child, guarded };
}

/**
 * One spawned moto_server and its state in one place: the server's pid (printed by the guard), the tail of its output
 * for error messages, how it exited, and how to stop it (also when this Node process exits first).
 */
class MotoProcess {
  /** The server's own pid; under the guard, undefined until the guard prints it. */
  serverPid: number | undefined;
  /** Resolves when the child exits or fails to spawn. */
  readonly exited: Promise<void>;
  private exit: Exit | undefined;
  private spawnError: Error | undefined;
  private head = '';
  private tail = '';
  // Exit handlers must be synchronous: no waiting, just the strongest signal.
  private readonly killOnExit = (): void => {
    if (!this.exit) this.killServer('SIGKILL');
  };

  constructor(
    private readonly child: ChildProcess,
    guarded: boolean,
  ) {
    this.serverPid = guarded ? undefined : child.pid;
    // The guard's stdin is held open, unused, until stop(); errors on it (EPIPE) are expected.
    child.stdin?.on('error', () => undefined);
    // moto logs every request; the pipes must be drained or it blocks. Keep a tail for errors.
    child.stdout?.on('data', (chunk: Buffer) => this.onStdout(chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => this.keepTail(chunk.toString('utf8')));
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve();
      });
      child.once('error', (error) => {
        this.spawnError = error;
        this.exit ??= { code: null, signal: null };
        resolve();
      });
    });
    process.once('exit', this.killOnExit);
  }

  /** Throws when the server could not start or has exited, with the last lines it printed. */
  assertRunning(): void {
    if (this.spawnError) throw new Error(`moto_server could not start: ${this.spawnError.message}`);
    if (this.exit) {
      const last = this.tail.trim().split('\n').slice(-3).join(' | ');
      throw new Error(
        `moto_server exited early (code ${String(this.exit.code)}, signal ${String(this.exit.signal)}): ${last}`,
      );
    }
  }

  /** SIGTERM, then SIGKILL after a grace period; waits for the exit and releases the pipes. */
  async stop(): Promise<void> {
    if (!this.exit) {
      this.killServer('SIGTERM');
      const grace = setTimeout(() => {
        if (!this.exit) this.killServer('SIGKILL');
      }, STOP_GRACE_MS);
      await this.exited;
      clearTimeout(grace);
    }
    process.removeListener('exit', this.killOnExit);
    this.child.stdin?.destroy();
    this.child.stdout?.destroy();
    this.child.stderr?.destroy();
  }

  private onStdout(text: string): void {
    if (this.serverPid === undefined) {
      this.head += text;
      const match = /^moto-testing-pid:(\d+)$/m.exec(this.head);
      if (match?.[1]) {
        this.serverPid = Number(match[1]);
        this.head = '';
      }
    }
    this.keepTail(text);
  }

  private keepTail(text: string): void {
    this.tail = (this.tail + text).slice(-2_000);
  }

  private killServer(signal: NodeJS.Signals): void {
    if (this.serverPid !== undefined && this.serverPid !== this.child.pid) {
      try {
        process.kill(this.serverPid, signal);
      } catch {
        // already gone
      }
    }
    if (!this.exit) this.child.kill(signal);
  }
}

/** Waits until the server's pid is known and `/moto-api/` answers, or throws (exited, or out of time). */
async function untilAnswering(moto: MotoProcess, endpoint: string, deadline: number): Promise<number> {
  for (;;) {
    moto.assertRunning();
    if (moto.serverPid !== undefined && (await answers(`${endpoint}/moto-api/`))) return moto.serverPid;
    if (Date.now() >= deadline) throw new Error(`moto_server did not answer on ${endpoint} in time`);
    await Promise.race([sleep(50), moto.exited]);
  }
}

async function launch(executable: string, port: number, deadline: number): Promise<MotoServer> {
  const endpoint = `http://127.0.0.1:${port}`;
  const { child, guarded } = spawnServer(executable, ['-H', '127.0.0.1', '-p', String(port)]);
  const moto = new MotoProcess(child, guarded);
  let pid: number;
  try {
    pid = await untilAnswering(moto, endpoint, deadline);
  } catch (error) {
    await moto.stop();
    throw error;
  }
  return { endpoint, pid, stop: () => moto.stop() };
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
