import { optionRangeError, optionTypeError } from './errors.js';
/**
 * Option checks shared by the factories and the pipeline. Each throws a TypeError (wrong type) or a RangeError (right
 * type, bad value) whose message names the option, so a misconfiguration is caught before any side effect.
 * @internal
 */

/** Names a value's type for messages: `null`, `undefined`, `array`, `empty string`, `number 0`, `string "x"`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'string':
      return value.length === 0
        ? 'empty string'
        : `string ${JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)}`;
    case 'number':
    case 'bigint':
    case 'boolean':
      return `${typeof value} ${String(value)}`;
    case 'function':
      return 'function';
    case 'symbol':
      return 'symbol';
    default:
      return 'object';
  }
}

/**
 * Describes a value for an error message without echoing its content (a string could be a secret): `an empty string`,
 * `a string`, `an array`, `a Date`, numbers as they are.
 */
export function describeWithoutContent(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid Date' : 'a Date';
  if (typeof value === 'string') return value.length === 0 ? 'an empty string' : 'a string';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  return typeof value;
}

/** Names only a value's type (no content): `null`, `undefined`, `array`, `empty string`, `number`, `object`. */
export function typeOfValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value === '') return 'empty string';
  return typeof value;
}

function fail(kind: 'type' | 'range', owner: string, name: string, expected: string, value: unknown): never {
  const message = `${owner}: option "${name}" must be ${expected}, got ${describeValue(value)}`;
  throw kind === 'type' ? optionTypeError(message) : optionRangeError(message);
}

/** Checks an integer option in `min..max` (TypeError when not a number, RangeError otherwise). */
export function checkInteger(
  owner: string,
  name: string,
  value: unknown,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const expected = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in ${min}..${max}`;
  if (typeof value !== 'number' || Number.isNaN(value)) fail('type', owner, name, expected, value);
  if (!Number.isInteger(value) || value < min || value > max) fail('range', owner, name, expected, value);
  return value;
}

/** Checks a non-empty string option. */
export function checkNonEmptyString(owner: string, name: string, value: unknown): string {
  if (typeof value !== 'string') fail('type', owner, name, 'a non-empty string', value);
  if (value.length === 0) fail('range', owner, name, 'a non-empty string', value);
  return value;
}

/** Checks that an option is a non-null object. */
export function checkObject(
  owner: string,
  name: string,
  value: unknown,
  expected = 'an object',
): Record<string, unknown> {
  if (typeof value !== 'object' || value === null) fail('type', owner, name, expected, value);
  return value as Record<string, unknown>;
}

/** Checks that `object[member]` is a function (or absent, when `optional`). */
export function checkMethod(
  owner: string,
  name: string,
  object: Record<string, unknown>,
  member: string,
  optional = false,
): void {
  const value = object[member];
  if (optional && value === undefined) return;
  if (typeof value !== 'function') fail('type', owner, `${name}.${member}`, 'a function', value);
}

/** Checks a finite number (epoch milliseconds and the like). */
export function checkFiniteNumber(owner: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail('type', owner, name, 'a finite number', value);
  return value;
}

/** Checks that a value is one of `allowed`. */
export function checkOneOf<T extends string>(owner: string, name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string') fail('type', owner, name, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`, value);
  if (!(allowed as readonly string[]).includes(value))
    fail('range', owner, name, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`, value);
  return value as T;
}

/** Throws a TypeError naming an option that failed a structural check. */
export function invalidType(owner: string, name: string, expected: string, value: unknown): never {
  fail('type', owner, name, expected, value);
}
