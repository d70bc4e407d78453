import type { PipelineEventEmitter, PipelineEventListener, PresignPipelineEvents } from '../types.js';

/** Listeners for some of a run's events, by event name. @internal */
export type EventListeners = { readonly [K in keyof PresignPipelineEvents]?: PipelineEventListener<K> };

/**
 * Adds each of `listeners` to `events` for its event, in the order given; returns the function that removes exactly
 * those listeners (what a reporter's `subscribe` returns).
 * @internal
 */
export function listenTo(events: PipelineEventEmitter, listeners: EventListeners): () => void {
  const entries: [keyof PresignPipelineEvents, PipelineEventListener<keyof PresignPipelineEvents>][] = [];
  for (const [event, listener] of Object.entries(listeners)) {
    if (listener !== undefined) {
      entries.push([
        event as keyof PresignPipelineEvents,
        listener as PipelineEventListener<keyof PresignPipelineEvents>,
      ]);
    }
  }
  for (const [event, listener] of entries) events.on(event, listener);
  return () => {
    for (const [event, listener] of entries) events.off(event, listener);
  };
}
