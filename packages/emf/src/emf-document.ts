import type { EmfStorageResolution, EmfUnit } from './constants.js';
import { MAX_DOCUMENT_BYTES, MAX_METRICS_PER_DIRECTIVE, MAX_VALUES_PER_METRIC } from './constants.js';
import { quote } from './validate.js';
import { optionRangeError } from '@presign-pipeline/core/internal';

/** A validated metric: a name, its unit and resolution, and every value recorded for it. */
export interface MetricSeries {
  name: string;
  unit: EmfUnit;
  resolution: EmfStorageResolution;
  values: number[];
}

const json = JSON.stringify;
const byteLength = (text: string): number => Buffer.byteLength(text, 'utf8');

/**
 * The parts every document of one emission repeats: the text before the metric definitions (`head`), between the
 * definitions and the metric members (`middle`: dimensions), and after the members (`tail`: properties).
 */
export interface EmfDocumentFrame {
  readonly head: string;
  readonly middle: string;
  readonly tail: string;
  /** Bytes of head, middle and tail: what a document weighs before any metric. */
  readonly baseBytes: number;
}

/**
 * Builds the frame of one emission from validated parts; property values come already serialized.
 * @throws RangeError when the frame alone is over {@link MAX_DOCUMENT_BYTES}, naming the largest property.
 */
export function documentFrame(
  namespace: string,
  timestamp: number,
  dimensions: readonly (readonly [string, string])[],
  properties: readonly (readonly [string, string])[],
): EmfDocumentFrame {
  const dimensionNames = dimensions.map(([name]) => name);
  const head =
    `{"_aws":{"Timestamp":${Math.round(timestamp)},"CloudWatchMetrics":[{"Namespace":${json(namespace)},` +
    `"Dimensions":[${json(dimensionNames)}],"Metrics":[`;
  const middle = `]}]}${dimensions.map(([name, value]) => `,${json(name)}:${json(value)}`).join('')}`;
  const tail = `${properties.map(([name, text]) => `,${json(name)}:${text}`).join('')}}`;
  const baseBytes = byteLength(head) + byteLength(middle) + byteLength(tail);
  if (baseBytes > MAX_DOCUMENT_BYTES) throw frameTooLarge(baseBytes, properties);
  return { head, middle, tail, baseBytes };
}

function frameTooLarge(baseBytes: number, properties: readonly (readonly [string, string])[]): RangeError {
  let largest = properties[0];
  for (const entry of properties) if (largest && entry[1].length > largest[1].length) largest = entry;
  const culprit = largest ? `property ${quote(largest[0])} (${byteLength(largest[1])} bytes)` : 'its dimensions';
  return optionRangeError(
    `EMF document would hold ${baseBytes} bytes before any metric, over the ${MAX_DOCUMENT_BYTES}-byte limit; the largest part is ${culprit}`,
  );
}

/**
 * One EMF document being filled: metric definitions and members are added until a CloudWatch limit (metrics per
 * directive, document bytes) says stop.
 */
export class EmfDocumentBuilder {
  readonly #frame: EmfDocumentFrame;
  readonly #definitions: string[] = [];
  readonly #members: string[] = [];
  #bytes: number;

  constructor(frame: EmfDocumentFrame) {
    this.#frame = frame;
    this.#bytes = frame.baseBytes;
  }

  /** Metrics added so far. */
  get metricCount(): number {
    return this.#definitions.length;
  }

  /** True when the directive holds as many metrics as CloudWatch allows. */
  get isFull(): boolean {
    return this.#definitions.length >= MAX_METRICS_PER_DIRECTIVE;
  }

  /** Bytes the document would have if built now. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Adds one metric with the given values (one value is written as a number, several as a list).
   * Returns false, adding nothing, when the document would exceed {@link MAX_DOCUMENT_BYTES}.
   */
  tryAdd(series: Pick<MetricSeries, 'name' | 'unit' | 'resolution'>, values: readonly number[]): boolean {
    const definition = json(
      series.resolution === 1
        ? { Name: series.name, Unit: series.unit, StorageResolution: 1 }
        : { Name: series.name, Unit: series.unit },
    );
    const member = `,${json(series.name)}:${values.length === 1 ? json(values[0]) : json(values)}`;
    // One byte more than needed for the separating comma of the first definition: an upper bound is enough.
    const cost = byteLength(definition) + 1 + byteLength(member);
    if (this.#bytes + cost > MAX_DOCUMENT_BYTES) return false;
    this.#bytes += cost;
    this.#definitions.push(definition);
    this.#members.push(member);
    return true;
  }

  /** The document as one JSON line. */
  build(): string {
    const { head, middle, tail } = this.#frame;
    return head + this.#definitions.join(',') + middle + this.#members.join('') + tail;
  }
}

/**
 * Spreads every value of `series` over as few documents as the limits allow, in order: each document takes at most
 * {@link MAX_VALUES_PER_METRIC} values of a metric, and a metric that does not fit starts the next document.
 * @throws RangeError naming a metric that does not fit even in an empty document.
 */
export function packDocuments(frame: EmfDocumentFrame, series: readonly MetricSeries[]): string[] {
  const offsets = new Map<MetricSeries, number>(series.map((s) => [s, 0]));
  const documents: string[] = [];
  while (series.some((s) => (offsets.get(s) ?? 0) < s.values.length)) {
    const document = new EmfDocumentBuilder(frame);
    for (const s of series) {
      if (document.isFull) break;
      const offset = offsets.get(s) ?? 0;
      if (offset >= s.values.length) continue;
      const chunk = s.values.slice(offset, offset + MAX_VALUES_PER_METRIC);
      if (!document.tryAdd(s, chunk)) {
        if (document.metricCount === 0) {
          throw optionRangeError(`EMF metric ${quote(s.name)} does not fit in a ${MAX_DOCUMENT_BYTES}-byte document`);
        }
        break;
      }
      offsets.set(s, offset + chunk.length);
    }
    documents.push(document.build());
  }
  return documents;
}
