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
