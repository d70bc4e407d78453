export { emfReporter } from './emf-reporter.js';
export type { EmfReporter } from './emf-reporter.js';
export type { EmfReporterOptions, RunSummary } from './emf-reporter-options.js';
export { serializeEmf } from './serialize.js';
export type { EmfMetricInput, EmfMetricMap, SerializeEmfInput } from './serialize.js';
export { extractEmfMetrics, extractJsonLogs, parseEmfDocuments } from './readers.js';
export type { EmfDocument, EmfMetricDefinition, EmfMetricDirective, ExtractedEmfMetric } from './readers.js';
export { inferEmfUnit } from './validate.js';
export {
  EMF_UNITS,
  MAX_DIMENSIONS_PER_SET,
  MAX_DIMENSION_NAME_LENGTH,
  MAX_DIMENSION_VALUE_LENGTH,
  MAX_DOCUMENT_BYTES,
  MAX_METRICS_PER_DIRECTIVE,
  MAX_METRIC_NAME_LENGTH,
  MAX_METRIC_VALUE_MAGNITUDE,
  MAX_NAMESPACE_LENGTH,
  MAX_VALUES_PER_METRIC,
} from './constants.js';
export type { EmfStorageResolution, EmfUnit } from './constants.js';

/** The package version. */
export const VERSION = '0.1.0';
