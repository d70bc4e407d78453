import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import type { ClientRequest } from 'node:http';
import { fileURLToPath } from 'node:url';

/** The answer of {@link detectContainerRuntime}. */
export interface ContainerRuntimeStatus {
  /** Whether Testcontainers found a container runtime that answered. */
  readonly available: boolean;
  /** Why not, when it is not available (Testcontainers' own message, or a timeout). */
  readonly reason?: string;
}

/** How long {@link detectContainerRuntime} waits by default before answering "not available". */
export const DEFAULT_RUNTIME_TIMEOUT_MS = 5_000;

/**
 * Asks Testcontainers whether a container runtime (Docker, Podman, …) answers.
 * Loads `testcontainers` only when called, so nothing else in this package pays for it
 * (or breaks when it cannot load). A runtime address that never answers (a stale
 * `DOCKER_HOST`) cannot hang the caller: the answer is "not available" after `timeoutMs`,
 * and the requests the detection sent are then destroyed, so none of them keeps the process alive.
 * @param timeoutMs how long to wait for the runtime once Testcontainers is loaded, default 5 s.
 */
export async function detectContainerRuntime(
  timeoutMs: number = DEFAULT_RUNTIME_TIMEOUT_MS,
): Promise<ContainerRuntimeStatus> {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new RangeError(`detectContainerRuntime: timeoutMs must be a positive number, got ${String(timeoutMs)}`);
  }
  let getContainerRuntimeClient: () => Promise<unknown>;
  try {
    // Loading the module reads disk only; the clock starts once it is loaded, so a slow,
    // busy machine is not mistaken for one without a runtime.
    ({ getContainerRuntimeClient } = await import('testcontainers'));
  } catch (error) {
    return { available: false, reason: `testcontainers could not be loaded: ${messageOf(error)}` };
  }
  const requests = new DetectionRequests();
  const probe = requests.track(getContainerRuntimeClient).then(
    (): ContainerRuntimeStatus => ({ available: true }),
    (error: unknown): ContainerRuntimeStatus => ({ available: false, reason: messageOf(error) }),
  );
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ContainerRuntimeStatus>((resolve) => {
    timer = setTimeout(() => {
      requests.abandon();
      resolve({ available: false, reason: `no container runtime answered within ${timeoutMs} ms` });
    }, timeoutMs);
  });
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The detection an HTTP request was sent for, carried along the detection's async calls. */
const detectionContext = new AsyncLocalStorage<DetectionRequests>();

/** Node publishes every new HTTP client request here, in the async context that sent it. */
const REQUEST_CHANNEL = 'http.client.request.start';

/** How many detections are still running (abandoned ones included), to listen to the channel only meanwhile. */
let running = 0;

/**
 * The HTTP requests one detection sends to the runtime (Testcontainers talks to it through dockerode, over HTTP on a
 * TCP or Unix socket), so that a detection given up can destroy them: an unanswered request holds a socket, and that
 * socket keeps the event loop alive.
 */
class DetectionRequests {
  readonly #pending = new Set<ClientRequest>();
  #abandoned = false;

  /** Runs the detection, noting every request it sends until it settles. */
  async track<T>(detect: () => Promise<T>): Promise<T> {
    if (running++ === 0) subscribe(REQUEST_CHANNEL, onRequestStart);
    try {
      return await detectionContext.run(this, detect);
    } finally {
      if (--running === 0) unsubscribe(REQUEST_CHANNEL, onRequestStart);
    }
  }

  /** Notes a request of this detection, or destroys it when the detection was given up. */
  add(request: ClientRequest): void {
    // Destroyed on the next tick: the request is still being built when the channel reports it.
    if (this.#abandoned) return void process.nextTick(() => request.destroy());
    this.#pending.add(request);
    request.once('close', () => this.#pending.delete(request));
  }

  /** Destroys the requests still waiting for an answer, and any the detection sends from now on. */
  abandon(): void {
    this.#abandoned = true;
    for (const request of this.#pending) request.destroy();
    this.#pending.clear();
  }
}

function onRequestStart(message: unknown): void {
  detectionContext.getStore()?.add((message as { request: ClientRequest }).request);
}

/**
 * The MinIO image pinned in this package's `Dockerfile` (its first `FROM` line), so that
 * one file holds the pin and tooling such as Dependabot can bump it.
 */
export function pinnedMinioImage(): string {
  const path = fileURLToPath(new URL('../Dockerfile', import.meta.url));
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the pinned MinIO image from ${path}: ${messageOf(error)}`);
  }
  const match = /^\s*FROM\s+(\S+)/im.exec(text);
  if (!match?.[1]) throw new Error(`no FROM line in ${path}`);
  return match[1];
}

/** The message of an error-like value, for reasons shown to people. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
