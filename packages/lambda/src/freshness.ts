/**
 * The event's `modified_after` / `modified_before`: a `LastModified` window that narrows an inventory run to the
 * objects changed in it (an inventory is up to a day or a week old; see docs/scaling.md). Event fields only: a fixed
 * timestamp in a function's environment would go stale with every new report.
 */
import type { RequestRejection } from './config.js';

/** The window an inventory run keeps: `modifiedAfter` ≤ LastModified < `modifiedBefore`. @internal */
export interface ModifiedWindow {
  /** Keep objects last modified at or after this time. */
  readonly modifiedAfter?: Date;
  /** Keep objects last modified before this time. */
  readonly modifiedBefore?: Date;
}

/** The event fields of the window. */
export const MODIFIED_FIELDS = ['modified_after', 'modified_before'] as const;

// A calendar date, optionally a time with seconds and fractions, which then needs a zone (Z or ±hh:mm).
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2})))?$/;

/**
 * An ISO-8601 timestamp as an instant, or undefined when it is not one: `2026-04-01` (midnight UTC),
 * `2026-04-01T09:30:00Z`, `2026-04-01T09:30:00.250+02:00`. A time without a zone is refused (whose local time?).
 * Fractions finer than a millisecond round up to the next millisecond (`…00.0001Z` is `…00.001Z`).
 * @internal
 */
export function parseIsoInstant(text: string): Date | undefined {
  const match = ISO_8601.exec(text);
  if (match === null) return undefined;
  const [
    ,
    year,
    month,
    day,
    hour = '00',
    minute = '00',
    second = '00',
    fraction = '',
    ,
    offsetHour = '00',
    offsetMinute = '00',
  ] = match;
  const daysInMonth = new Date(Date.UTC(Number(year), Number(month), 0)).getUTCDate();
  if (Number(month) < 1 || Number(month) > 12 || Number(day) < 1 || Number(day) > daysInMonth) return undefined;
  if (
    Number(hour) > 23 ||
    Number(minute) > 59 ||
    Number(second) > 59 ||
    Number(offsetHour) > 23 ||
    Number(offsetMinute) > 59
  ) {
    return undefined;
  }
  const zone = match[8] ?? 'Z';
  const instant = new Date(`${year}-${month}-${day}T${hour}:${minute}:${second}${fraction.slice(0, 4)}${zone}`);
  if (Number.isNaN(instant.getTime())) return undefined;
  // Digits past the millisecond round up: LastModified has millisecond resolution, so the first millisecond at or
  // after the instant is the bound that keeps and drops the same objects, inclusive (after) or exclusive (before).
  return /[1-9]/.test(fraction.slice(4)) ? new Date(instant.getTime() + 1) : instant;
}

function reject(field: string, error: string): RequestRejection {
  return { statusCode: 400, field, error };
}

/** One field: absent (undefined, null or empty), an instant, or a rejection naming the field. */
function instantOf(
  fields: Record<string, unknown>,
  field: (typeof MODIFIED_FIELDS)[number],
): Date | RequestRejection | undefined {
  const value = fields[field];
  if (value === undefined || value === null || value === '') return undefined;
  const instant = typeof value === 'string' ? parseIsoInstant(value) : undefined;
  if (instant === undefined) {
    const shown =
      typeof value === 'string'
        ? JSON.stringify(value.slice(0, 64))
        : typeof value === 'number'
          ? String(value)
          : typeof value;
    return reject(
      field,
      `${field} must be an ISO-8601 date or timestamp with a zone, e.g. 2026-04-01 or 2026-04-01T09:30:00Z (got ${shown})`,
    );
  }
  return instant;
}

/**
 * Reads `modified_after` and `modified_before` from the event: the window (empty when neither is given) or a
 * rejection naming the field at fault. `inventory` says whether the run reads an inventory: a listing cannot
 * narrow by date, so the fields are refused there rather than ignored. @internal
 */
export function resolveModifiedWindow(
  fields: Record<string, unknown>,
  inventory: boolean,
): ModifiedWindow | RequestRejection {
  const after = instantOf(fields, 'modified_after');
  if (after !== undefined && !(after instanceof Date)) return after;
  const before = instantOf(fields, 'modified_before');
  if (before !== undefined && !(before instanceof Date)) return before;
  if (!inventory && (after !== undefined || before !== undefined)) {
    const field = after !== undefined ? 'modified_after' : 'modified_before';
    return reject(
      field,
      `${field} narrows an inventory run (inventory_manifest) by LastModified; a listing run cannot filter by date`,
    );
  }
  if (after !== undefined && before !== undefined && before.getTime() <= after.getTime()) {
    return reject(
      'modified_before',
      `modified_before must be later than modified_after (got ${before.toISOString()} ≤ ${after.toISOString()})`,
    );
  }
  return {
    ...(after !== undefined ? { modifiedAfter: after } : {}),
    ...(before !== undefined ? { modifiedBefore: before } : {}),
  };
}
