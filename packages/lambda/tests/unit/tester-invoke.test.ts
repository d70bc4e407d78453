import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { invokeSide } from '../../src/tester/invoke.js';
import type { TesterSide } from '../../src/tester/handler-module.js';

/** A side whose module has only a plain `handler` (no signal): the tester can only stop waiting for it. */
function plainSide(handler: () => Promise<unknown>): TesterSide {
  return { label: 'plain', functionName: 'plain-fn', module: { handler } } as unknown as TesterSide;
}

const runOptions = (signal: AbortSignal) => ({
  event: {},
  overrides: {},
  timeoutMs: 5_000,
  signal,
  onProgress: () => {},
});

describe('invokeSide with a plain handler', () => {
  it('leaves no abort listener on a signal shared by many runs', async () => {
    // Prepare
    const shared = new AbortController().signal;
    const side = plainSide(async () => ({ statusCode: 200, body: '{}' }));

    // Act
    for (let run = 0; run < 15; run++) await invokeSide(side, runOptions(shared));

    // Assess
    expect(getEventListeners(shared, 'abort')).toHaveLength(0);
  });

  it('stops waiting for it when the signal aborts, and says it was cancelled', async () => {
    // Prepare
    const controller = new AbortController();
    const side = plainSide(() => new Promise(() => {}));

    // Act
    const outcome = invokeSide(side, runOptions(controller.signal));
    setTimeout(() => controller.abort(), 10);

    // Assess
    await expect(outcome).resolves.toMatchObject({ status: 'cancelled' });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});

/** A side whose module builds its handler with `createHandler`. */
function createdSide(createHandler: NonNullable<TesterSide['module']['createHandler']>): TesterSide {
  return { label: 'created', functionName: 'created-fn', module: { createHandler } };
}

describe('invokeSide with what a module can get wrong', () => {
  it('shows a createHandler that throws as threw', async () => {
    const side = createdSide(() => {
      throw new Error('createHandler boom');
    });
    const outcome = await invokeSide(side, runOptions(new AbortController().signal));
    expect(outcome).toMatchObject({ status: 'threw', error: { name: 'Error', message: 'createHandler boom' } });
  });

  it('says a response JSON cannot hold is unserialisable, and the outcome stays serialisable', async () => {
    const circular: Record<string, unknown> = { ok: true };
    circular.self = circular;
    const bigint = plainSide(async () => ({ statusCode: 200, body: 1n }));
    const cyclicBody = plainSide(async () => ({ statusCode: 200, body: circular }));
    const cyclic = plainSide(async () => circular);
    for (const side of [bigint, cyclicBody, cyclic]) {
      const outcome = await invokeSide(side, runOptions(new AbortController().signal));
      expect(outcome).toMatchObject({ status: 'unserialisable', error: { name: 'UnserialisableResult' } });
      expect(outcome.error?.message).toMatch(/JSON cannot hold/);
      expect(() => JSON.stringify(outcome)).not.toThrow();
    }
  });

  it('aborts the signal it gave the handler when the side times out', async () => {
    let given: AbortSignal | undefined;
    const side = createdSide((options) => {
      given = options.signal;
      return () => new Promise(() => {});
    });
    const outcome = await invokeSide(side, { ...runOptions(new AbortController().signal), timeoutMs: 20 });
    expect(outcome.status).toBe('timed-out');
    expect(given?.aborted).toBe(true);
  });

  it('masks a presigned URL inside escaped quotes of a log line and keeps the line', async () => {
    const line = { event: 'invalid_request', error: 'expiry_seconds (got "http://h/?X-Amz-Signature=a")' };
    const side = plainSide(async () => {
      process.stdout.write(`${JSON.stringify(line)}\n`);
      return { statusCode: 400, body: '{}' };
    });
    const outcome = await invokeSide(side, runOptions(new AbortController().signal));
    expect(outcome.logs).toEqual([{ event: 'invalid_request', error: 'expiry_seconds (got "[presigned URL]")' }]);
  });
});
