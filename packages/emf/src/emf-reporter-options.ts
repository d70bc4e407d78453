import type { EmfStorageResolution, EmfUnit } from './constants.js';
import { MAX_DIMENSIONS_PER_SET } from './constants.js';
import type { EmfReporterOptions, RunSummary } from './emf-reporter.js';
import {
  propertyJson,
  quote,
  validateDimension,
  validateNamespace,
  validateStorageResolution,
  validateUnit,
} from './validate.js';

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
    throw new TypeError(`emfReporter option "${field}" must be an object`);
  }
  return { ...record };
}

function checkFunction(value: unknown, field: string): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new TypeError(`emfReporter option "${field}" must be a function`);
  }
}

function resolveDimensions(options: EmfReporterOptions): Record<string, string> {
  const dimensions = copyRecord(options.dimensions, 'dimensions');
  const names = Object.keys(dimensions);
  if (names.length > MAX_DIMENSIONS_PER_SET) {
    throw new RangeError(
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
      throw new RangeError(`EMF property ${quote(name)} has the name of a dimension`);
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
    throw new TypeError('emfReporter needs an options object with a namespace');
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
