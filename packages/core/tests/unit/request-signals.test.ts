import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { RequestSignals } from '../../src/s3/request-signals.js';

describe('RequestSignals', () => {
  it('aborts a held signal with the group until it is released, and no later', () => {
    const group = new RequestSignals();
    const streaming = group.hold();
    const done = group.hold();
    done.release();
    group.abort('stopped');
    expect(streaming.signal.aborted).toBe(true);
    expect(streaming.signal.reason).toBe('stopped');
    expect(done.signal.aborted).toBe(false);
    // Held after the group aborted: already aborted.
    expect(group.hold().signal.reason).toBe('stopped');
  });

  it('gives each of many requests in flight a signal of its own, adding no listener to any', async () => {
    const group = new RequestSignals();
    const signals: AbortSignal[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const requests = Array.from({ length: 32 }, () =>
      group.run(async (signal) => {
        signals.push(signal);
        await gate;
      }),
    );
    release();
    await Promise.all(requests);
    expect(new Set(signals).size).toBe(32);
    expect(signals.every((signal) => getEventListeners(signal, 'abort').length === 0)).toBe(true);
    group.abort();
    // Settled requests are no longer held: aborting the group reaches none of them.
    expect(signals.some((signal) => signal.aborted)).toBe(false);
  });
});
