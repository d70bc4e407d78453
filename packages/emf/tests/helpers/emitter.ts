import { createRequire } from 'node:module';
import type { PipelineEventEmitter } from '@presign-pipeline/core';

// eventemitter3 is core's dependency, not this package's: load the very copy core uses, from core's own folder.
const requireFromHere = createRequire(import.meta.url);
const requireFromCore = createRequire(requireFromHere.resolve('@presign-pipeline/core/package.json'));
const { EventEmitter } = requireFromCore('eventemitter3') as {
  EventEmitter: new () => PipelineEventEmitter;
};

/** A pipeline event emitter of the same kind the pipeline hands to reporters. */
export function createEmitter(): PipelineEventEmitter {
  return new EventEmitter();
}

/** An emitter `reporter` listens to, for a test to emit the pipeline's events on. */
export function subscribedEvents(reporter: {
  subscribe: (events: PipelineEventEmitter) => unknown;
}): PipelineEventEmitter {
  const events = createEmitter();
  reporter.subscribe(events);
  return events;
}
