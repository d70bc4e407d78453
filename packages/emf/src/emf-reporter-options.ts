import type { EmfStorageResolution, EmfUnit } from './constants.js';
import { MAX_DIMENSIONS_PER_SET } from './constants.js';
import {
  propertyJson,
  quote,
  validateDimension,
  validateNamespace,
  validateStorageResolution,
  validateUnit,
} from './validate.js';
import { optionRangeError, optionTypeError } from '@presign-pipeline/core/internal';

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

/** {@link EmfReporterOptions} checked, copied and with every default filled in. */
export interface ResolvedEmfReporterOptions {
  readonly namespace: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly units: Readonly<Record<string, EmfUnit>>;
  /** Resolution of every metric without one of its own; undefined means the standard 60. */
  readonly defaultResolution: EmfStorageResolution | undefined;
  readonly resolutions: Readonly<Record<string, EmfStorageResolution>>;
  readonly properties: Readonly<Record<string, unknown>>;
  readonly mapSummary: (summary: RunSummary) => Record<string, number>;
  readonly write: (line: string) => void;
  readonly clock: () => number;
  readonly onError: (error: unknown) => void;
  readonly deferPublish: boolean;
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
    throw optionTypeError(`emfReporter option "${field}" must be an object`);
  }
  return { ...record };
}

function checkFunction(value: unknown, field: string): void {
  if (value !== undefined && typeof value !== 'function') {
    throw optionTypeError(`emfReporter option "${field}" must be a function`);
  }
}

function resolveDimensions(options: EmfReporterOptions): Record<string, string> {
  const dimensions = copyRecord(options.dimensions, 'dimensions');
  const names = Object.keys(dimensions);
  if (names.length > MAX_DIMENSIONS_PER_SET) {
    throw optionRangeError(
      `emfReporter option "dimensions" has ${names.length} dimensions (${quote(names[MAX_DIMENSIONS_PER_SET])} is one too many); at most ${MAX_DIMENSIONS_PER_SET} are allowed`,
    );
  }
  for (const [name, value] of Object.entries(dimensions)) validateDimension(name, value);
  return dimensions;
}

function resolveUnits(options: EmfReporterOptions): Record<string, EmfUnit> {
  const units = copyRecord(options.units, 'units');
  for (const [name, unit] of Object.entries(units)) validateUnit(name, unit);
  return units;
}

function resolveResolutions(
  options: EmfReporterOptions,
): Pick<ResolvedEmfReporterOptions, 'defaultResolution' | 'resolutions'> {
  const resolutionOption = options.storageResolution;
  if (typeof resolutionOption === 'number') {
    validateStorageResolution('*', resolutionOption);
    return { defaultResolution: resolutionOption, resolutions: {} };
  }
  const resolutions = copyRecord(resolutionOption, 'storageResolution');
  for (const [name, resolution] of Object.entries(resolutions)) validateStorageResolution(name, resolution);
  return { defaultResolution: undefined, resolutions };
}

function resolveProperties(
  options: EmfReporterOptions,
  dimensions: Readonly<Record<string, string>>,
): Record<string, unknown> {
  const properties = copyRecord(options.properties, 'properties');
  for (const [name, value] of Object.entries(properties)) {
    propertyJson(name, value);
    if (Object.hasOwn(dimensions, name))
      throw optionRangeError(`EMF property ${quote(name)} has the name of a dimension`);
  }
  return properties;
}

/**
 * Checks every option of `emfReporter` in a fixed order (namespace, functions, dimensions, units, resolutions,
 * properties) and fills in the defaults.
 * @throws TypeError or RangeError naming the bad option.
 */
export function resolveEmfReporterOptions(options: EmfReporterOptions): ResolvedEmfReporterOptions {
  if (options === null || typeof options !== 'object') {
    throw optionTypeError('emfReporter needs an options object with a namespace');
  }
  const { namespace } = options;
  validateNamespace(namespace);
  checkFunction(options.metrics, 'metrics');
  checkFunction(options.write, 'write');
  checkFunction(options.clock, 'clock');
  checkFunction(options.onError, 'onError');
  const dimensions = resolveDimensions(options);
  const units = resolveUnits(options);
  const { defaultResolution, resolutions } = resolveResolutions(options);
  const properties = resolveProperties(options, dimensions);
  return {
    namespace,
    dimensions,
    units,
    defaultResolution,
    resolutions,
    properties,
    mapSummary: options.metrics ?? defaultMetrics,
    write: options.write ?? defaultWrite,
    clock: options.clock ?? Date.now,
    onError: options.onError ?? defaultOnError,
    deferPublish: options.deferPublish === true,
  };
}
