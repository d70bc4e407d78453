/**
 * CloudWatch drops metric definitions beyond 100 in one directive without an error, so documents are split before that.
 */
export const MAX_METRICS_PER_DIRECTIVE = 100;

/** CloudWatch rejects a dimension set with more keys than this. */
export const MAX_DIMENSIONS_PER_SET = 30;

/** Longest metric name the EMF specification accepts, in characters. */
export const MAX_METRIC_NAME_LENGTH = 1024;

/** Longest dimension name CloudWatch accepts, in characters. */
export const MAX_DIMENSION_NAME_LENGTH = 255;

/** Longest dimension value CloudWatch accepts, in characters. */
export const MAX_DIMENSION_VALUE_LENGTH = 1024;

/** Longest CloudWatch namespace, in characters. */
export const MAX_NAMESPACE_LENGTH = 255;

/** CloudWatch ignores values past the 100th of one metric in one document, so longer series are split. */
export const MAX_VALUES_PER_METRIC = 100;

/**
 * Largest EMF document written, in UTF-8 bytes of the JSON line. A CloudWatch Logs event holds at most 1,048,576 bytes
 * minus 26 bytes of overhead; the margin leaves room for a runtime prefix or a log shipper's envelope.
 */
export const MAX_DOCUMENT_BYTES = 1_000_000;

/** CloudWatch rejects values whose magnitude exceeds 2^360. */
export const MAX_METRIC_VALUE_MAGNITUDE = 2 ** 360;

/** Every unit CloudWatch accepts for a metric. */
export const EMF_UNITS = [
  'Seconds',
  'Microseconds',
  'Milliseconds',
  'Bytes',
  'Kilobytes',
  'Megabytes',
  'Gigabytes',
  'Terabytes',
  'Bits',
  'Kilobits',
  'Megabits',
  'Gigabits',
  'Terabits',
  'Percent',
  'Count',
  'Bytes/Second',
  'Kilobytes/Second',
  'Megabytes/Second',
  'Gigabytes/Second',
  'Terabytes/Second',
  'Bits/Second',
  'Kilobits/Second',
  'Megabits/Second',
  'Gigabits/Second',
  'Terabits/Second',
  'Count/Second',
  'None',
] as const;

/** A CloudWatch metric unit. */
export type EmfUnit = (typeof EMF_UNITS)[number];

/** Storage resolution of a metric in seconds: 1 for high-resolution metrics, 60 (CloudWatch's default) otherwise. */
export type EmfStorageResolution = 1 | 60;
