import { readFileSync } from 'node:fs';
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
 * `DOCKER_HOST`) cannot hang the caller: the answer is "not available" after `timeoutMs`.
 * A runtime left unanswered may keep its socket open until the process exits.
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
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ContainerRuntimeStatus>((resolve) => {
    timer = setTimeout(
      () => resolve({ available: false, reason: `no container runtime answered within ${timeoutMs} ms` }),
      timeoutMs,
    );
  });
  const probe = getContainerRuntimeClient().then(
    (): ContainerRuntimeStatus => ({ available: true }),
    (error: unknown): ContainerRuntimeStatus => ({ available: false, reason: messageOf(error) }),
  );
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
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
