import {
  EMF_UNITS,
  MAX_DIMENSION_NAME_LENGTH,
  MAX_DIMENSION_VALUE_LENGTH,
  MAX_METRIC_NAME_LENGTH,
  MAX_METRIC_VALUE_MAGNITUDE,
  MAX_NAMESPACE_LENGTH,
} from './constants.js';
import type { EmfStorageResolution, EmfUnit } from './constants.js';
import { optionRangeError, optionTypeError } from '@presign-pipeline/core/internal';

const UNITS: ReadonlySet<string> = new Set(EMF_UNITS);
const RESERVED_KEY = '_aws';
// Printable ASCII: CloudWatch namespaces and dimension names must be ASCII.
const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

/** Quotes a name for an error message without letting a huge or odd name flood it. */
export function quote(name: unknown): string {
  if (typeof name !== 'string') return `(${typeof name})`;
  const shown = name.length > 80 ? `${name.slice(0, 77)}...` : name;
  return JSON.stringify(shown);
}

/** The unit a metric gets when none is given: `Bytes` for names ending in `Bytes`, else `Count`. */
export function inferEmfUnit(name: string): EmfUnit {
  return name.endsWith('Bytes') ? 'Bytes' : 'Count';
}

export function validateNamespace(namespace: unknown): asserts namespace is string {
  if (typeof namespace !== 'string') {
    throw optionTypeError(`EMF namespace must be a string, got ${typeof namespace}`);
  }
  if (namespace.length < 1 || namespace.length > MAX_NAMESPACE_LENGTH) {
    throw optionRangeError(`EMF namespace must be 1..${MAX_NAMESPACE_LENGTH} characters, got ${namespace.length}`);
  }
  if (!PRINTABLE_ASCII.test(namespace) || namespace.trim() === '') {
    throw optionRangeError(`EMF namespace ${quote(namespace)} must be printable ASCII with a non-blank character`);
  }
  if (namespace.startsWith('AWS/')) {
    throw optionRangeError(`EMF namespace ${quote(namespace)} must not start with "AWS/" (reserved for AWS services)`);
  }
}

export function validateMetricName(name: unknown): asserts name is string {
  if (typeof name !== 'string') {
    throw optionTypeError(`EMF metric name must be a string, got ${typeof name}`);
  }
  if (name.length < 1 || name.length > MAX_METRIC_NAME_LENGTH) {
    throw optionRangeError(
      `EMF metric ${quote(name)}: name must be 1..${MAX_METRIC_NAME_LENGTH} characters, got ${name.length}`,
    );
  }
  if (name.trim() === '') {
    throw optionRangeError(`EMF metric ${quote(name)}: name needs a non-whitespace character`);
  }
  if (name === RESERVED_KEY) {
    throw optionRangeError(`EMF metric name "${RESERVED_KEY}" is reserved for the EMF metadata`);
  }
}

export function validateMetricValue(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number') {
    throw optionTypeError(`EMF metric ${quote(name)}: value must be a number, got ${typeof value}`);
  }
  if (!Number.isFinite(value)) {
    throw optionRangeError(`EMF metric ${quote(name)}: value ${String(value)} is not a finite number`);
  }
  if (Math.abs(value) > MAX_METRIC_VALUE_MAGNITUDE) {
    throw optionRangeError(`EMF metric ${quote(name)}: value ${String(value)} exceeds CloudWatch's range of ±2^360`);
  }
}

/** Checks one value or an array of values and returns them as an array. */
export function metricValues(name: string, value: unknown): number[] {
  if (Array.isArray(value)) {
    if (value.length === 0) throw optionRangeError(`EMF metric ${quote(name)}: value array is empty`);
    const values: number[] = [];
    for (const v of value as unknown[]) {
      validateMetricValue(name, v);
      values.push(v);
    }
    return values;
  }
  validateMetricValue(name, value);
  return [value];
}

export function validateUnit(name: string, unit: unknown): asserts unit is EmfUnit {
  if (typeof unit !== 'string' || !UNITS.has(unit)) {
    throw optionRangeError(`EMF metric ${quote(name)}: unit ${quote(unit)} is not a CloudWatch unit`);
  }
}

export function validateStorageResolution(
  name: string,
  resolution: unknown,
): asserts resolution is EmfStorageResolution {
  if (resolution !== 1 && resolution !== 60) {
    throw optionRangeError(`EMF metric ${quote(name)}: storage resolution must be 1 or 60, got ${String(resolution)}`);
  }
}

export function validateDimension(name: unknown, value: unknown): asserts name is string {
  if (typeof name !== 'string') {
    throw optionTypeError(`EMF dimension name must be a string, got ${typeof name}`);
  }
  if (name.length < 1 || name.length > MAX_DIMENSION_NAME_LENGTH) {
    throw optionRangeError(
      `EMF dimension ${quote(name)}: name must be 1..${MAX_DIMENSION_NAME_LENGTH} characters, got ${name.length}`,
    );
  }
  if (!PRINTABLE_ASCII.test(name) || name.trim() === '' || name.startsWith(':')) {
    throw optionRangeError(
      `EMF dimension ${quote(name)}: name must be printable ASCII, not blank, and not start with ":"`,
    );
  }
  if (name === RESERVED_KEY) {
    throw optionRangeError(`EMF dimension name "${RESERVED_KEY}" is reserved for the EMF metadata`);
  }
  if (typeof value !== 'string') {
    throw optionTypeError(`EMF dimension ${quote(name)}: value must be a string, got ${typeof value}`);
  }
  if (value.length < 1 || value.length > MAX_DIMENSION_VALUE_LENGTH) {
    throw optionRangeError(
      `EMF dimension ${quote(name)}: value must be 1..${MAX_DIMENSION_VALUE_LENGTH} characters, got ${value.length}`,
    );
  }
  if (value.trim() === '') {
    throw optionRangeError(`EMF dimension ${quote(name)}: value needs a non-whitespace character`);
  }
}

/** Checks a property and returns its JSON text (properties are written verbatim at the document's top level). */
export function propertyJson(name: unknown, value: unknown): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw optionTypeError(`EMF property name must be a non-empty string, got ${quote(name)}`);
  }
  if (name === RESERVED_KEY) {
    throw optionRangeError(`EMF property name "${RESERVED_KEY}" is reserved for the EMF metadata`);
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw optionTypeError(`EMF property ${quote(name)}: value cannot be serialized as JSON`, { cause: error });
  }
  if (json === undefined) {
    throw optionTypeError(`EMF property ${quote(name)}: value of type ${typeof value} cannot be serialized as JSON`);
  }
  return json;
}
