// Test helpers: invoke a Lambda handler in-process the way the Lambda runtime would, and read what it printed.
// Each example carries its own copy of this file so it can be copied on its own.
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

/** A Lambda context with the fields the handler reads: a request id and the time left. */
export function lambdaContext(requestId: string = randomUUID(), remainingMs = 300_000): Context {
  return {
    awsRequestId: requestId,
    functionName: 'distributed-map',
    functionVersion: '$LATEST',
    memoryLimitInMB: '1024',
    getRemainingTimeInMillis: () => remainingMs,
  } as unknown as Context;
}

/** What one invocation returned (or threw) and every line it wrote to stdout. */
export interface Invocation<T> {
  readonly result?: T;
  readonly error?: Error;
  readonly lines: string[];
}

/**
 * Calls `invoke` with stdout captured: the handler writes its JSON logs and its EMF document there, as in
 * Lambda, where CloudWatch Logs picks them up. Nothing captured is printed.
 */
export async function captureStdout<T>(invoke: () => Promise<T>): Promise<Invocation<T>> {
  const chunks: string[] = [];
  const original = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    if (callback !== undefined) queueMicrotask(callback);
    return true;
  }) as typeof process.stdout.write;
  try {
    const result = await invoke();
    return { result, lines: splitLines(chunks) };
  } catch (error) {
    return { error: error as Error, lines: splitLines(chunks) };
  } finally {
    process.stdout.write = original;
  }
}

function splitLines(chunks: string[]): string[] {
  return chunks
    .join('')
    .split('\n')
    .filter((line) => line.trim() !== '');
}

/** Sets environment variables for a test and returns a function that puts the old values back. */
export function setEnv(values: Record<string, string | undefined>): () => void {
  const saved = Object.fromEntries(Object.keys(values).map((name) => [name, process.env[name]]));
  const apply = (next: Record<string, string | undefined>): void => {
    for (const [name, value] of Object.entries(next)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(values);
  return () => apply(saved);
}
