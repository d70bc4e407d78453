/** One metric definition of an EMF directive. */
export interface EmfMetricDefinition {
  /** The metric name; its value is the document's top-level member of that name. */
  readonly Name: string;
  /** The unit; CloudWatch assumes `None` when absent. */
  readonly Unit?: string;
  /** 1 for a high-resolution metric. */
  readonly StorageResolution?: number;
}

/** One `CloudWatchMetrics` entry of an EMF document. */
export interface EmfMetricDirective {
  /** The CloudWatch namespace. */
  readonly Namespace: string;
  /** Dimension sets; each lists top-level member names whose values are the dimension values. */
  readonly Dimensions: readonly (readonly string[])[];
  /** The metrics of the directive. */
  readonly Metrics: readonly EmfMetricDefinition[];
}

/** An EMF document as read back from a log line. */
export interface EmfDocument {
  /** The EMF metadata. */
  readonly _aws: {
    /** Epoch milliseconds the metrics belong to. */
    readonly Timestamp: number;
    /** The metric directives. */
    readonly CloudWatchMetrics: readonly EmfMetricDirective[];
  };
  /** Dimension values, metric values and properties. */
  readonly [member: string]: unknown;
}

/** One metric of one dimension set of one EMF document, as CloudWatch would extract it. */
export interface ExtractedEmfMetric {
  /** The CloudWatch namespace. */
  readonly namespace: string;
  /** The metric name. */
  readonly name: string;
  /** The unit (`None` when the document gives none). */
  readonly unit: string;
  /** The value, or the values when the document holds a series. */
  readonly value: number | number[];
  /** The dimension names and values of this dimension set. */
  readonly dimensions: Record<string, string>;
  /** The document's `_aws.Timestamp`. */
  readonly timestamp: number;
  /** The storage resolution when the document gives one. */
  readonly storageResolution?: number;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * Finds the JSON text of a log line: the line itself, or what follows the last tab, as in the Lambda console's
 * `timestamp\trequestId\tLEVEL\tmessage` lines. JSON text never holds a raw tab, so the last tab is the separator.
 */
function jsonCandidate(line: string): string | undefined {
  const trimmed = line.trim();
  if (trimmed.startsWith('{')) return trimmed;
  const tab = trimmed.lastIndexOf('\t');
  if (tab < 0) return undefined;
  const rest = trimmed.slice(tab + 1).trim();
  return rest.startsWith('{') ? rest : undefined;
}

function jsonObjects(text: string): Array<Record<string, unknown>> {
  const objects: Array<Record<string, unknown>> = [];
  if (typeof text !== 'string') return objects;
  for (const line of text.split(/\r?\n/)) {
    const candidate = jsonCandidate(line);
    if (candidate === undefined) continue;
    try {
      const parsed: unknown = JSON.parse(candidate);
      if (isObject(parsed)) objects.push(parsed);
    } catch {
      // Not JSON: an ordinary log line.
    }
  }
  return objects;
}

function isEmfDocument(value: Record<string, unknown>): value is Record<string, unknown> & EmfDocument {
  const aws = value._aws;
  return isObject(aws) && Array.isArray(aws.CloudWatchMetrics);
}

/**
 * Every line of captured output that is a JSON object and not an EMF document (no `_aws` member): the structured
 * logs. Lines that are not JSON objects are skipped; Lambda console prefixes before a tab are tolerated.
 */
export function extractJsonLogs(text: string): Array<Record<string, unknown>> {
  return jsonObjects(text).filter((object) => !Object.hasOwn(object, '_aws'));
}

/** Every EMF document (a JSON object whose `_aws.CloudWatchMetrics` is an array) in captured output, as written. */
export function parseEmfDocuments(text: string): EmfDocument[] {
  return jsonObjects(text).filter(isEmfDocument);
}

const isNumberArray = (value: unknown): value is number[] =>
  Array.isArray(value) && value.every((v) => typeof v === 'number');

/**
 * Flattens the metrics of every EMF document in captured output: one entry per metric and dimension set (CloudWatch
 * publishes a metric once per dimension set), across all directives and documents. A metric whose value is missing
 * or not numeric is skipped, as CloudWatch would reject it.
 */
export function extractEmfMetrics(text: string): ExtractedEmfMetric[] {
  const metrics: ExtractedEmfMetric[] = [];
  for (const document of parseEmfDocuments(text)) {
    const timestamp = document._aws.Timestamp;
    for (const directive of document._aws.CloudWatchMetrics) {
      if (!isObject(directive) || !Array.isArray(directive.Metrics)) continue;
      const sets = Array.isArray(directive.Dimensions) && directive.Dimensions.length > 0 ? directive.Dimensions : [[]];
      for (const definition of directive.Metrics) {
        if (!isObject(definition) || typeof definition.Name !== 'string') continue;
        const raw = document[definition.Name];
        if (typeof raw !== 'number' && !isNumberArray(raw)) continue;
        for (const set of sets) {
          const pairs: Array<[string, string]> = [];
          if (Array.isArray(set)) {
            for (const key of set) {
              const value = typeof key === 'string' ? document[key] : undefined;
              if (typeof value === 'string') pairs.push([key, value]);
            }
          }
          // fromEntries defines own members, so a `__proto__` dimension stays an ordinary key.
          const dimensions: Record<string, string> = Object.fromEntries(pairs);
          metrics.push({
            namespace: String(directive.Namespace),
            name: definition.Name,
            unit: typeof definition.Unit === 'string' ? definition.Unit : 'None',
            value: Array.isArray(raw) ? [...raw] : raw,
            dimensions,
            timestamp,
            ...(typeof definition.StorageResolution === 'number'
              ? { storageResolution: definition.StorageResolution }
              : {}),
          });
        }
      }
    }
  }
  return metrics;
}
