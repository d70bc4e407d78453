import type { PipelineEventEmitter } from '@presign-pipeline/core';
import { describe, expect, it } from 'vitest';
import { noProgress, progressEventsReporter } from '../../src/tester/progress.js';

/** The part of an emitter the reporter uses: listeners by event, and an emit that calls them. */
function fakeEmitter() {
  const listeners = new Map<string, Set<(event: unknown) => void>>();
  const emitter = {
    on(event: string, listener: (event: unknown) => void) {
      listeners.set(event, (listeners.get(event) ?? new Set()).add(listener));
      return emitter;
    },
    off(event: string, listener: (event: unknown) => void) {
      listeners.get(event)?.delete(listener);
      return emitter;
    },
  };
  const emit = (event: string, payload: unknown): void => {
    for (const listener of listeners.get(event) ?? []) listener(payload);
  };
  const count = (): number => [...listeners.values()].reduce((sum, set) => sum + set.size, 0);
  return { events: emitter as unknown as PipelineEventEmitter, emit, count };
}

describe('progressEventsReporter', () => {
  it('counts pages, keys, presigned keys and bytes from the run events, and stops once unsubscribed', () => {
    // Prepare
    const progress = noProgress();
    let changes = 0;
    const { events, emit, count } = fakeEmitter();
    const unsubscribe = progressEventsReporter(progress, () => changes++).subscribe(events) as () => void;

    // Act
    emit('page-listed', { page: 1, keys: 1000 });
    emit('page-listed', { page: 2, keys: 400 });
    emit('entries-written', { count: 1200, bytes: 2_000_000 });
    emit('manifest-completed', { manifest: { bytes: 2_400_000 } });
    unsubscribe();
    emit('page-listed', { page: 3, keys: 5 });

    // Assess
    expect(progress).toEqual({ pages: 2, keysListed: 1400, presigned: 1200, bytes: 2_400_000 });
    expect(changes).toBe(4);
    expect(count()).toBe(0);
  });
});
