import type {
  ExpiryCappedEvent,
  PipelineCompletedEvent,
  PipelineEventEmitter,
  PipelineFailedEvent,
  Reporter,
} from '@presign-pipeline/core';
import type { EmfStorageResolution, EmfUnit } from './constants.js';
import { MAX_DIMENSIONS_PER_SET } from './constants.js';
import type { EmfReporterOptions, ResolvedEmfReporterOptions, RunSummary } from './emf-reporter-options.js';
import { resolveEmfReporterOptions } from './emf-reporter-options.js';
import { DimensionsStore, MetricsStore, PropertiesStore } from './emf-stores.js';
import { serializeEmf } from './serialize.js';
import { metricValues, propertyJson, quote, validateDimension, validateMetricName } from './validate.js';
import { type EventListeners, listenTo, optionRangeError, optionTypeError } from '@presign-pipeline/core/internal';

/**
 * A reporter (core's `Reporter`) that writes the metrics of one invocation as CloudWatch Embedded Metric Format documents.
 * State is per invocation: {@link EmfReporter.publish} and {@link EmfReporter.reset} clear it.
 */
export interface EmfReporter extends Reporter {
  /**
   * Listens to `pipeline-completed`, `pipeline-failed` (metrics are recorded on failure too) and `expiry-capped`
   * (adds `PresignExpiryCapped` = 1). Returns a function that removes the listeners.
   */
  subscribe(events: PipelineEventEmitter): () => void;
  /** Called by the pipeline when a run ends: publishes, unless `deferPublish` is set. Never throws. */
  flush(): void;
  /**
   * Writes the document(s) of the current invocation and clears all per-invocation state, also when writing fails.
   * Writes nothing when no metric was recorded.
   */
  publish(): void;
  /**
   * Records a value of a metric; repeated calls for one name collect a series.
   * @throws TypeError or RangeError naming the metric when the name, value, unit or resolution is invalid.
   */
  addMetric(name: string, value: number, unit?: EmfUnit, storageResolution?: EmfStorageResolution): void;
  /**
   * Adds a dimension to this invocation's documents (or overrides a configured one until the next reset).
   * @throws TypeError or RangeError naming the dimension when it is invalid, collides or exceeds the limit.
   */
  addDimension(name: string, value: string): void;
  /**
   * Sets a top-level non-metric field of this invocation's documents; `undefined` removes it.
   * @throws TypeError or RangeError naming the property when it cannot be written.
   */
  setProperty(name: string, value: unknown): void;
  /** Drops everything recorded for the current invocation without writing it. */
  reset(): void;
}

/**
 * The state of one invocation — metrics, dimensions, properties — and the operations on it. Every check runs before
 * any change, so a rejected call leaves the state as it was.
 */
export class EmfInvocation {
  readonly #config: ResolvedEmfReporterOptions;
  readonly #metrics = new MetricsStore();
  readonly #dimensions: DimensionsStore;
  readonly #properties: PropertiesStore;

  constructor(config: ResolvedEmfReporterOptions) {
    this.#config = config;
    this.#dimensions = new DimensionsStore(config.dimensions);
    this.#properties = new PropertiesStore(config.properties);
  }

  addMetric(name: string, value: number, unit?: EmfUnit, storageResolution?: EmfStorageResolution): void {
    validateMetricName(name);
    // Validate the value before touching state, so an invalid value leaves nothing behind.
    metricValues(name, value);
    if (this.#dimensions.has(name)) throw optionRangeError(`EMF metric ${quote(name)} has the name of a dimension`);
    if (this.#properties.has(name)) throw optionRangeError(`EMF metric ${quote(name)} has the name of a property`);
    const { units, resolutions, defaultResolution } = this.#config;
    const resolvedUnit = unit ?? (Object.hasOwn(units, name) ? units[name] : undefined);
    const resolvedResolution =
      storageResolution ?? (Object.hasOwn(resolutions, name) ? resolutions[name] : undefined) ?? defaultResolution;
    // The store validates unit, resolution and consistency with earlier values before it mutates anything.
    this.#metrics.add(name, value, resolvedUnit, resolvedResolution);
  }

  addDimension(name: string, value: string): void {
    validateDimension(name, value);
    if (this.#metrics.has(name)) throw optionRangeError(`EMF dimension ${quote(name)} has the name of a metric`);
    if (this.#properties.has(name)) throw optionRangeError(`EMF dimension ${quote(name)} has the name of a property`);
    if (!this.#dimensions.has(name) && this.#dimensions.size >= MAX_DIMENSIONS_PER_SET) {
      throw optionRangeError(
        `EMF dimension ${quote(name)} would be dimension ${MAX_DIMENSIONS_PER_SET + 1} of the set; at most ${MAX_DIMENSIONS_PER_SET} are allowed`,
      );
    }
    this.#dimensions.set(name, value);
  }

  setProperty(name: string, value: unknown): void {
    if (value === undefined && typeof name === 'string') {
      this.#properties.delete(name);
      return;
    }
    propertyJson(name, value);
    if (this.#metrics.has(name)) throw optionRangeError(`EMF property ${quote(name)} has the name of a metric`);
    if (this.#dimensions.has(name)) throw optionRangeError(`EMF property ${quote(name)} has the name of a dimension`);
    this.#properties.set(name, value);
  }

  /** Writes the invocation's document(s), if any metric was recorded, then clears the state (also on failure). */
  publish(): void {
    try {
      if (this.#metrics.size === 0) return;
      const lines = serializeEmf({
        namespace: this.#config.namespace,
        dimensions: this.#dimensions.toRecord(),
        metrics: this.#metrics.toInputs(),
        properties: this.#properties.toRecord(),
        timestamp: this.#config.clock(),
      });
      for (const line of lines) this.#config.write(line);
    } finally {
      this.reset();
    }
  }

  reset(): void {
    this.#metrics.clear();
    this.#dimensions.clear();
    this.#properties.clear();
  }
}

/** Wraps a listener so that what it throws goes to `onError`, never into the pipeline. */
export function guardWith(
  onError: (error: unknown) => void,
): <A extends unknown[]>(fn: (...args: A) => void) => (...args: A) => void {
  return (fn) =>
    (...args) => {
      try {
        fn(...args);
      } catch (error) {
        try {
          onError(error);
        } catch {
          // An error handler that throws has nowhere left to report to.
        }
      }
    };
}

/** Records a run's summary as metrics; one bad value is reported and dropped, the others are still recorded. */
function recordSummary(
  invocation: EmfInvocation,
  config: ResolvedEmfReporterOptions,
  guarded: ReturnType<typeof guardWith>,
  summary: RunSummary,
): void {
  const values = config.mapSummary(summary);
  if (values === null || typeof values !== 'object') {
    throw optionTypeError(
      `emfReporter option "metrics" returned ${values === null ? 'null' : typeof values}, not an object`,
    );
  }
  for (const [name, value] of Object.entries(values)) guarded(() => invocation.addMetric(name, value))();
}

function completedSummary({ result }: PipelineCompletedEvent): RunSummary {
  return {
    count: result.count,
    errors: result.errors,
    pages: result.pages,
    bytes: result.manifest.bytes,
    durationMs: result.durationMs,
    failed: false,
  };
}

function failedSummary(event: PipelineFailedEvent): RunSummary {
  return {
    count: event.count,
    errors: event.errors,
    pages: event.pages,
    bytes: 0,
    durationMs: event.durationMs,
    failed: true,
  };
}

/** The pipeline listeners of one reporter (made once, so unsubscribing removes exactly what subscribing added). */
function pipelineListeners(
  invocation: EmfInvocation,
  config: ResolvedEmfReporterOptions,
  guarded: ReturnType<typeof guardWith>,
): EventListeners {
  return {
    'pipeline-completed': guarded((event: PipelineCompletedEvent): void =>
      recordSummary(invocation, config, guarded, completedSummary(event)),
    ),
    'pipeline-failed': guarded((event: PipelineFailedEvent): void =>
      recordSummary(invocation, config, guarded, failedSummary(event)),
    ),
    'expiry-capped': guarded((_event: ExpiryCappedEvent): void => invocation.addMetric('PresignExpiryCapped', 1)),
  };
}

/**
 * Creates a reporter that writes one EMF document per invocation (more only when a CloudWatch limit forces a split).
 *
 * @example
 * ```ts
 * const metrics = emfReporter({ namespace: 'MyApp', dimensions: { Function: 'sign' } });
 * await presignPipeline({ source, presigner, manifest, reporters: [metrics] });
 * ```
 * @throws TypeError or RangeError naming the bad option.
 */
export function emfReporter(options: EmfReporterOptions): EmfReporter {
  const config = resolveEmfReporterOptions(options);
  const invocation = new EmfInvocation(config);
  const guarded = guardWith(config.onError);
  const listeners = pipelineListeners(invocation, config, guarded);
  const publish = (): void => invocation.publish();
  return {
    subscribe: (events: PipelineEventEmitter): (() => void) => listenTo(events, listeners),
    flush: guarded((): void => {
      if (!config.deferPublish) publish();
    }),
    publish,
    addMetric: (name: string, value: number, unit?: EmfUnit, storageResolution?: EmfStorageResolution): void =>
      invocation.addMetric(name, value, unit, storageResolution),
    addDimension: (name: string, value: string): void => invocation.addDimension(name, value),
    setProperty: (name: string, value: unknown): void => invocation.setProperty(name, value),
    reset: (): void => invocation.reset(),
  };
}
