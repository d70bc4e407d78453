import { EventEmitter } from 'eventemitter3';
import { describe, expect, it } from 'vitest';
import { listenTo } from '../../src/reporters/listen.js';
import type { PipelineEventEmitter } from '../../src/types.js';

describe('listenTo', () => {
  it('adds each listener for its event and the function it returns removes exactly those', () => {
    // Prepare: an emitter with a listener of its own that must survive.
    const events = new EventEmitter() as unknown as PipelineEventEmitter;
    const seen: string[] = [];
    const other = (): void => void seen.push('other');
    events.on('expiry-capped', other);

    // Act
    const stop = listenTo(events, {
      'expiry-capped': () => void seen.push('capped'),
      'page-listed': () => void seen.push('page'),
      'pipeline-failed': undefined,
    });
    events.emit('expiry-capped', { requested: 10, applied: 5, reason: 'credential-expiry' } as never);
    events.emit('page-listed', { keys: 3 } as never);
    stop();
    events.emit('expiry-capped', { requested: 10, applied: 5, reason: 'credential-expiry' } as never);
    events.emit('page-listed', { keys: 3 } as never);

    // Assess
    expect(seen).toEqual(['other', 'capped', 'page', 'other']);
    expect(events.listenerCount('expiry-capped')).toBe(1);
    expect(events.listenerCount('page-listed')).toBe(0);
    expect(events.listenerCount('pipeline-failed')).toBe(0);
  });
});
