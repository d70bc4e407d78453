import type { EmfStorageResolution, EmfUnit } from './constants.js';
import type { MetricSeries } from './emf-document.js';
import type { EmfMetricInput } from './serialize.js';
import { addToSeries } from './serialize.js';

/** The metric series of one invocation, by name, in the order they were first recorded. */
export class MetricsStore {
  #series = new Map<string, MetricSeries>();

  /** Number of distinct metrics recorded. */
  get size(): number {
    return this.#series.size;
  }

  has(name: string): boolean {
    return this.#series.has(name);
  }

  /**
   * Records one value; validates name, value, unit, resolution and consistency with earlier values of the same
   * metric before it changes anything.
   */
  add(name: string, value: number, unit?: EmfUnit, resolution?: EmfStorageResolution): void {
    addToSeries(this.#series, name, value, unit, resolution);
  }

  /** The recorded series as metric inputs of `serializeEmf`. */
  toInputs(): EmfMetricInput[] {
    return [...this.#series.values()].map((s) => ({
      name: s.name,
      value: s.values,
      unit: s.unit,
      storageResolution: s.resolution,
    }));
  }

  clear(): void {
    this.#series = new Map();
  }
}

/**
 * Named values configured once (`base`) plus those added for the current invocation, which may override a configured
 * one until {@link LayeredStore.clear}. Holds dimensions ({@link DimensionsStore}) and properties ({@link PropertiesStore}).
 */
export class LayeredStore<T> {
  readonly #base: Readonly<Record<string, T>>;
  #added = new Map<string, T>();

  constructor(base: Readonly<Record<string, T>>) {
    this.#base = base;
  }

  has(name: string): boolean {
    return Object.hasOwn(this.#base, name) || this.#added.has(name);
  }

  /** Number of distinct names, configured and added. */
  get size(): number {
    return Object.keys(this.toRecord()).length;
  }

  set(name: string, value: T): void {
    this.#added.set(name, value);
  }

  /** Removes an added value (a configured one stays). */
  delete(name: string): void {
    this.#added.delete(name);
  }

  /** Configured entries first, then added ones; an added value replaces a configured one in its place. */
  toRecord(): Record<string, T> {
    return Object.fromEntries([...Object.entries(this.#base), ...this.#added]);
  }

  /** Drops every added value. */
  clear(): void {
    this.#added = new Map();
  }
}

/** The dimensions of one invocation's documents. */
export class DimensionsStore extends LayeredStore<string> {}

/** The top-level non-metric fields of one invocation's documents. */
export class PropertiesStore extends LayeredStore<unknown> {}
