import { afterEach, describe, expect, it, vi } from 'vitest';
import { armHardStop, deadlineOf, HARD_STOP_RESERVE_MS, hardStopOf } from '../../src/job-budget.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('the hard stop', () => {
  it('comes HARD_STOP_RESERVE_MS before the end, never within a quarter of the budget, and after the listing deadline', () => {
    expect(hardStopOf({ startedAt: 1000, remainingMs: 4000 })).toBe(1000 + 4000 - HARD_STOP_RESERVE_MS);
    expect(hardStopOf({ startedAt: 0, remainingMs: 800 })).toBe(600);
    for (const remainingMs of [400, 2000, 4000, 60_000, 900_000]) {
      const budget = { startedAt: 0, remainingMs };
      expect(hardStopOf(budget)).toBeGreaterThan(deadlineOf(budget, 1000));
    }
  });

  it('aborts its signal at the hard stop with DEADLINE_REACHED, and not once disposed', () => {
    vi.useFakeTimers({ now: 10_000 });
    const stop = armHardStop({ startedAt: 10_000, remainingMs: 3000 });
    vi.advanceTimersByTime(3000 - HARD_STOP_RESERVE_MS - 1);
    expect(stop.signal?.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(stop.signal?.aborted).toBe(true);
    expect(stop.signal?.reason).toMatchObject({ code: 'DEADLINE_REACHED' });

    const disposed = armHardStop({ startedAt: 10_000 + 3000, remainingMs: 3000 });
    disposed.dispose();
    vi.advanceTimersByTime(10_000);
    expect(disposed.signal?.aborted).toBe(false);
  });

  it('has no signal without a budget, nor with nothing left', () => {
    expect(armHardStop(undefined).signal).toBeUndefined();
    expect(armHardStop({ startedAt: 0, remainingMs: 0 }).signal).toBeUndefined();
  });
});
