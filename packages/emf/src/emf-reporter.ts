import type {
  ExpiryCappedEvent,
  PipelineCompletedEvent,
  PipelineEventEmitter,
  PipelineFailedEvent,
  Reporter,
} from '@presign-pipeline/core';
import { MAX_DIMENSIONS_PER_SET } from './constants.js';
import type { EmfStorageResolution, EmfUnit } from './constants.js';
import { addToSeries, serializeEmf } from './serialize.js';
import type { MetricSeries } from './serialize.js';
import {
  metricValues,
  propertyJson,
  quote,
  validateDimension,
  validateMetricName,
  validateNamespace,
  validateStorageResolution,
  validateUnit,
} from './validate.js';

/** What a run amounted to, handed to {@link EmfReporterOptions.metrics} to turn into metric values. */
export interface RunSummary {
  /** Keys presigned (on failure: before the failure). */
  readonly count: number;
  /** Keys that failed to presign. */
  readonly errors: number;
  /** Pages the source yielded. */
  readonly pages: number;
  /** Bytes of the manifest; 0 when the run failed. */
  readonly bytes: number;
  /** Milliseconds from start to end. */
  readonly durationMs: number;
  /** True when the run failed or was aborted. */
  readonly failed: boolean;
}

/** Options of {@link emfReporter}. */
export interface EmfReporterOptions {
  /** The CloudWatch namespace, 1..255 printable ASCII characters, not starting with `AWS/`. */
  namespace: string;
  /** Dimensions of every document. Default: none (no dimension is forced on you). */
  dimensions?: Readonly<Record<string, string>>;
  /**
   * Maps a run to metric values.
   * Default: `{ PresignCount: count, PresignErrors: errors, S3ListPages: pages, ManifestBytes: bytes }`.
   */
  metrics?: (summary: RunSummary) => Record<string, number>;
  /** Units by metric name, overriding the inferred one (`…Bytes` → `Bytes`, else `Count`). */
  units?: Readonly<Record<string, EmfUnit>>;
  /** Where each document goes, one JSON line without newline. Default: a synchronous write to stdout plus `\n`. */
  write?: (line: string) => void;
  /**
   * When true, the pipeline's `flush()` writes nothing and the owner calls `publish()`, so metrics known only after
   * the run (a response size, say) land in the same document. Default: false.
   */
  deferPublish?: boolean;
  /** Top-level non-metric fields written in every document. */
  properties?: Readonly<Record<string, unknown>>;
  /** Storage resolution of every metric (1 = high resolution), or per metric name. Default: 60. */
  storageResolution?: EmfStorageResolution | Readonly<Record<string, EmfStorageResolution>>;
  /** Epoch milliseconds for `_aws.Timestamp`. Default: `Date.now`. */
  clock?: () => number;
  /**
   * Receives errors raised while handling pipeline events or flushing, which are never thrown into the pipeline.
   * Default: one line on stderr.
   */
  onError?: (error: unknown) => void;
}

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

const defaultMetrics = (summary: RunSummary): Record<string, number> => ({
  PresignCount: summary.count,
  PresignErrors: summary.errors,
  S3ListPages: summary.pages,
  ManifestBytes: summary.bytes,
});

const defaultWrite = (line: string): void => {
  // On Linux, stdout writes to files and pipes are synchronous, so the line is out before the process freezes.
  process.stdout.write(`${line}\n`);
};

const defaultOnError = (error: unknown): void => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`@presign-pipeline/emf: ${message}\n`);
};

function copyRecord<T>(record: Readonly<Record<string, T>> | undefined, field: string): Record<string, T> {
  if (record === undefined) return {};
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    throw new TypeError(`emfReporter option "${field}" must be an object`);
  }
  return { ...record };
}

function checkFunction(value: unknown, field: string): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new TypeError(`emfReporter option "${field}" must be a function`);
  }
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
  if (options === null || typeof options !== 'object') {
    throw new TypeError('emfReporter needs an options object with a namespace');
  }
  const { namespace } = options;
  validateNamespace(namespace);
  checkFunction(options.metrics, 'metrics');
  checkFunction(options.write, 'write');
  checkFunction(options.clock, 'clock');
  checkFunction(options.onError, 'onError');

  const baseDimensions = copyRecord(options.dimensions, 'dimensions');
  const names = Object.keys(baseDimensions);
  if (names.length > MAX_DIMENSIONS_PER_SET) {
    throw new RangeError(
      `emfReporter option "dimensions" has ${names.length} dimensions (${quote(names[MAX_DIMENSIONS_PER_SET])} is one too many); at most ${MAX_DIMENSIONS_PER_SET} are allowed`,
    );
  }
  for (const [name, value] of Object.entries(baseDimensions)) validateDimension(name, value);

  const units = copyRecord(options.units, 'units');
  for (const [name, unit] of Object.entries(units)) validateUnit(name, unit);

  const resolutionOption = options.storageResolution;
  let defaultResolution: EmfStorageResolution | undefined;
  let resolutions: Record<string, EmfStorageResolution> = {};
  if (typeof resolutionOption === 'number') {
    validateStorageResolution('*', resolutionOption);
    defaultResolution = resolutionOption;
  } else {
    resolutions = copyRecord(resolutionOption, 'storageResolution');
    for (const [name, resolution] of Object.entries(resolutions)) validateStorageResolution(name, resolution);
  }

  const baseProperties = copyRecord(options.properties, 'properties');
  for (const [name, value] of Object.entries(baseProperties)) {
    propertyJson(name, value);
    if (Object.hasOwn(baseDimensions, name)) throw new RangeError(`EMF property ${quote(name)} has the name of a dimension`);
  }

  const mapSummary = options.metrics ?? defaultMetrics;
  const write = options.write ?? defaultWrite;
  const clock = options.clock ?? Date.now;
  const onError = options.onError ?? defaultOnError;
  const deferPublish = options.deferPublish === true;

  // Per-invocation state; everything below is cleared by reset().
  let series = new Map<string, MetricSeries>();
  let addedDimensions = new Map<string, string>();
  let addedProperties = new Map<string, unknown>();

  const hasDimension = (name: string): boolean => Object.hasOwn(baseDimensions, name) || addedDimensions.has(name);
  const hasProperty = (name: string): boolean => Object.hasOwn(baseProperties, name) || addedProperties.has(name);
  const currentDimensions = (): Record<string, string> =>
    Object.fromEntries([...Object.entries(baseDimensions), ...addedDimensions]);
  const currentProperties = (): Record<string, unknown> =>
    Object.fromEntries([...Object.entries(baseProperties), ...addedProperties]);

  const reset = (): void => {
    series = new Map();
    addedDimensions = new Map();
    addedProperties = new Map();
  };

  const addMetric = (name: string, value: number, unit?: EmfUnit, storageResolution?: EmfStorageResolution): void => {
    validateMetricName(name);
    // Validate the value before touching state, so an invalid value leaves nothing behind.
    metricValues(name, value);
    if (hasDimension(name)) throw new RangeError(`EMF metric ${quote(name)} has the name of a dimension`);
    if (hasProperty(name)) throw new RangeError(`EMF metric ${quote(name)} has the name of a property`);
    const resolvedUnit = unit ?? (Object.hasOwn(units, name) ? units[name] : undefined);
    const resolvedResolution =
      storageResolution ?? (Object.hasOwn(resolutions, name) ? resolutions[name] : undefined) ?? defaultResolution;
    // addToSeries validates unit, resolution and consistency with earlier values before it mutates anything.
    addToSeries(series, name, value, resolvedUnit, resolvedResolution);
  };

  const addDimension = (name: string, value: string): void => {
    validateDimension(name, value);
    if (series.has(name)) throw new RangeError(`EMF dimension ${quote(name)} has the name of a metric`);
    if (hasProperty(name)) throw new RangeError(`EMF dimension ${quote(name)} has the name of a property`);
    if (!hasDimension(name) && Object.keys(currentDimensions()).length >= MAX_DIMENSIONS_PER_SET) {
      throw new RangeError(
        `EMF dimension ${quote(name)} would be dimension ${MAX_DIMENSIONS_PER_SET + 1} of the set; at most ${MAX_DIMENSIONS_PER_SET} are allowed`,
      );
    }
    addedDimensions.set(name, value);
  };

  const setProperty = (name: string, value: unknown): void => {
    if (value === undefined && typeof name === 'string') {
      addedProperties.delete(name);
      return;
    }
    propertyJson(name, value);
    if (series.has(name)) throw new RangeError(`EMF property ${quote(name)} has the name of a metric`);
    if (hasDimension(name)) throw new RangeError(`EMF property ${quote(name)} has the name of a dimension`);
    addedProperties.set(name, value);
  };

  const publish = (): void => {
    try {
      if (series.size === 0) return;
      const lines = serializeEmf({
        namespace,
        dimensions: currentDimensions(),
        metrics: [...series.values()].map((s) => ({
          name: s.name,
          value: s.values,
          unit: s.unit,
          storageResolution: s.resolution,
        })),
        properties: currentProperties(),
        timestamp: clock(),
      });
      for (const line of lines) write(line);
    } finally {
      reset();
    }
  };

  // Listener path: telemetry never throws into the pipeline.
  const guarded =
    <A extends unknown[]>(fn: (...args: A) => void) =>
    (...args: A): void => {
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

  const recordSummary = (summary: RunSummary): void => {
    const values = mapSummary(summary);
    if (values === null || typeof values !== 'object') {
      throw new TypeError(`emfReporter option "metrics" returned ${values === null ? 'null' : typeof values}, not an object`);
    }
    // Each metric on its own: one bad value is reported and dropped, the others are still published.
    for (const [name, value] of Object.entries(values)) guarded(() => addMetric(name, value))();
  };

  const onCompleted = guarded((event: PipelineCompletedEvent): void => {
    const { result } = event;
    recordSummary({
      count: result.count,
      errors: result.errors,
      pages: result.pages,
      bytes: result.manifest.bytes,
      durationMs: result.durationMs,
      failed: false,
    });
  });
  const onFailed = guarded((event: PipelineFailedEvent): void => {
    recordSummary({
      count: event.count,
      errors: event.errors,
      pages: event.pages,
      bytes: 0,
      durationMs: event.durationMs,
      failed: true,
    });
  });
  const onExpiryCapped = guarded((_event: ExpiryCappedEvent): void => {
    addMetric('PresignExpiryCapped', 1);
  });

  return {
    subscribe(events: PipelineEventEmitter): () => void {
      events.on('pipeline-completed', onCompleted);
      events.on('pipeline-failed', onFailed);
      events.on('expiry-capped', onExpiryCapped);
      return () => {
        events.off('pipeline-completed', onCompleted);
        events.off('pipeline-failed', onFailed);
        events.off('expiry-capped', onExpiryCapped);
      };
    },
    flush: guarded((): void => {
      if (!deferPublish) publish();
    }),
    publish,
    addMetric,
    addDimension,
    setProperty,
    reset,
  };
}
