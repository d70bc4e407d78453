import type { EmfStorageResolution, EmfUnit } from './constants.js';
import { MAX_DIMENSIONS_PER_SET } from './constants.js';
import { documentFrame, type MetricSeries, packDocuments } from './emf-document.js';
import {
  inferEmfUnit,
  metricValues,
  propertyJson,
  quote,
  validateDimension,
  validateMetricName,
  validateNamespace,
  validateStorageResolution,
  validateUnit,
} from './validate.js';
import { optionRangeError, optionTypeError } from '@presign-pipeline/core/internal';

/** One metric handed to {@link serializeEmf}. Entries sharing a name are merged into one series of values. */
export interface EmfMetricInput {
  /** The metric name, 1..1024 characters. */
  readonly name: string;
  /** One value, or several (a series); every value a finite number. */
  readonly value: number | readonly number[];
  /** The unit. Default: inferred from the name (`…Bytes` → `Bytes`, else `Count`). */
  readonly unit?: EmfUnit;
  /** 1 for a high-resolution metric. Default: 60 (standard resolution, not written). */
  readonly storageResolution?: EmfStorageResolution;
}

/** Metrics by name, each with one value or a series; units are inferred from the names. */
export type EmfMetricMap = Readonly<Record<string, number | readonly number[]>>;

/** Everything one EMF emission holds; see {@link serializeEmf}. */
export interface SerializeEmfInput {
  /** The CloudWatch namespace, 1..255 printable ASCII characters. */
  readonly namespace: string;
  /** Dimension names and values, forming the one dimension set of every document. Default: none. */
  readonly dimensions?: Readonly<Record<string, string>>;
  /** The metrics, as a list (units and resolutions per entry) or as a map of name to value(s). */
  readonly metrics: readonly EmfMetricInput[] | EmfMetricMap;
  /** Extra top-level fields that are not metrics (searchable in Logs Insights, not billed as metrics). */
  readonly properties?: Readonly<Record<string, unknown>>;
  /** When the metrics were taken, in epoch milliseconds. */
  readonly timestamp: number;
}

/** Validates one metric entry and adds its values to `series`, merging with an earlier entry of the same name. */
export function addToSeries(
  series: Map<string, MetricSeries>,
  name: unknown,
  value: unknown,
  unit?: unknown,
  resolution?: unknown,
): MetricSeries {
  validateMetricName(name);
  const values = metricValues(name, value);
  const resolvedUnit = unit === undefined ? inferEmfUnit(name) : unit;
  validateUnit(name, resolvedUnit);
  const resolvedResolution = resolution === undefined ? 60 : resolution;
  validateStorageResolution(name, resolvedResolution);
  const existing = series.get(name);
  if (existing) {
    if (existing.unit !== resolvedUnit) {
      throw optionRangeError(
        `EMF metric ${quote(name)}: unit ${resolvedUnit} conflicts with unit ${existing.unit} recorded earlier`,
      );
    }
    if (existing.resolution !== resolvedResolution) {
      throw optionRangeError(
        `EMF metric ${quote(name)}: storage resolution ${resolvedResolution} conflicts with ${existing.resolution} recorded earlier`,
      );
    }
    existing.values.push(...values);
    return existing;
  }
  const created: MetricSeries = { name, unit: resolvedUnit, resolution: resolvedResolution, values };
  series.set(name, created);
  return created;
}

function toSeries(metrics: SerializeEmfInput['metrics']): MetricSeries[] {
  const series = new Map<string, MetricSeries>();
  if (Array.isArray(metrics)) {
    for (const entry of metrics as readonly EmfMetricInput[]) {
      if (entry === null || typeof entry !== 'object') {
        throw optionTypeError(
          `EMF metrics list holds a ${entry === null ? 'null' : typeof entry}, not a metric object`,
        );
      }
      addToSeries(series, entry.name, entry.value, entry.unit, entry.storageResolution);
    }
  } else if (metrics !== null && typeof metrics === 'object') {
    for (const [name, value] of Object.entries(metrics)) addToSeries(series, name, value);
  } else {
    throw optionTypeError(`EMF metrics must be a list or a map, got ${metrics === null ? 'null' : typeof metrics}`);
  }
  return [...series.values()];
}

/**
 * Builds the EMF document(s) for one emission: one JSON line per document, without a newline.
 *
 * Everything fits in one document unless a limit forces a split: more than {@link MAX_METRICS_PER_DIRECTIVE} metrics,
 * more than {@link MAX_VALUES_PER_METRIC} values of one metric, or more than {@link MAX_DOCUMENT_BYTES} bytes. Every
 * document is valid on its own and repeats the dimensions and properties. Returns an empty list when there are no
 * metrics, so nothing is written for an empty invocation.
 *
 * Top-level members come in the order dimensions, metrics, properties.
 *
 * @throws TypeError or RangeError naming the offending namespace, dimension, metric or property; nothing is returned
 *   for invalid input, so an invalid value is never written.
 */
export function serializeEmf(input: SerializeEmfInput): string[] {
  if (input === null || typeof input !== 'object') throw optionTypeError('serializeEmf needs an input object');
  validateNamespace(input.namespace);
  checkTimestamp(input.timestamp);
  const dimensions = checkedDimensions(input.dimensions);
  const dimensionNames = new Set(dimensions.map(([name]) => name));
  const properties = checkedProperties(input.properties, dimensionNames);
  const series = toSeries(input.metrics);
  checkMetricNames(series, dimensionNames, new Set(properties.map(([name]) => name)));
  if (series.length === 0) return [];
  return packDocuments(documentFrame(input.namespace, input.timestamp, dimensions, properties), series);
}

function checkTimestamp(timestamp: unknown): void {
  if (typeof timestamp !== 'number' || !Number.isFinite(timestamp) || timestamp < 0) {
    throw optionRangeError(`EMF timestamp must be epoch milliseconds, got ${String(timestamp)}`);
  }
}

function checkedDimensions(record: SerializeEmfInput['dimensions']): [string, string][] {
  const dimensions = Object.entries(record ?? {});
  dimensions.forEach(([name, value], index) => {
    validateDimension(name, value);
    if (index >= MAX_DIMENSIONS_PER_SET) {
      throw optionRangeError(
        `EMF dimension ${quote(name)} is dimension ${index + 1} of the set; at most ${MAX_DIMENSIONS_PER_SET} are allowed`,
      );
    }
  });
  return dimensions;
}

/** Each property with its value already serialized. */
function checkedProperties(
  record: SerializeEmfInput['properties'],
  dimensionNames: ReadonlySet<string>,
): (readonly [string, string])[] {
  return Object.entries(record ?? {}).map(([name, value]) => {
    const text = propertyJson(name, value);
    if (dimensionNames.has(name)) {
      throw optionRangeError(`EMF property ${quote(name)} has the name of a dimension`);
    }
    return [name, text] as const;
  });
}

function checkMetricNames(
  series: readonly MetricSeries[],
  dimensionNames: ReadonlySet<string>,
  propertyNames: ReadonlySet<string>,
): void {
  for (const { name } of series) {
    if (dimensionNames.has(name)) throw optionRangeError(`EMF metric ${quote(name)} has the name of a dimension`);
    if (propertyNames.has(name)) throw optionRangeError(`EMF metric ${quote(name)} has the name of a property`);
  }
}
