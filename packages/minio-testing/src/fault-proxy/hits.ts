import type { S3Operation } from '../s3-operations.js';
import type { FaultRuleHits } from './rules.js';

/** A snapshot of what the proxy has seen since it started (or since `resetHits`). */
export interface FaultProxyHits {
  /** Requests received. */
  readonly total: number;
  /** Requests received, per operation. */
  readonly byOperation: Readonly<Partial<Record<S3Operation, number>>>;
  /** Faults injected (delays included), per operation. */
  readonly injectedByOperation: Readonly<Partial<Record<S3Operation, number>>>;
  /** Faults injected in all, delays included. */
  readonly injected: number;
  /** Requests passed on to the target (not those answered with a request-phase fault, nor abandoned ones). */
  readonly forwarded: number;
  /**
   * Requests whose client gave up (closed the connection) while a delay held them: they were never forwarded, so
   * an aborted or timed-out PutObject does not land on the target after the client has moved on.
   */
  readonly abandoned: number;
  /** Per-rule counters, in rule order; reset by `setRules`. */
  readonly rules: readonly FaultRuleHits[];
}

/** The proxy's request counters (the rules keep their own). */
export class HitCounters {
  total = 0;
  injected = 0;
  forwarded = 0;
  abandoned = 0;
  #byOperation: Partial<Record<S3Operation, number>> = {};
  #injectedByOperation: Partial<Record<S3Operation, number>> = {};

  /** Counts a request received. */
  received(operation: S3Operation): void {
    this.total++;
    this.#byOperation[operation] = (this.#byOperation[operation] ?? 0) + 1;
  }

  /** Counts `count` faults injected into one request. */
  injectedInto(operation: S3Operation, count: number): void {
    if (count === 0) return;
    this.injected += count;
    this.#injectedByOperation[operation] = (this.#injectedByOperation[operation] ?? 0) + count;
  }

  /** A copy of the counters, with the rules' own. */
  snapshot(rules: readonly FaultRuleHits[]): FaultProxyHits {
    return {
      total: this.total,
      injected: this.injected,
      forwarded: this.forwarded,
      abandoned: this.abandoned,
      byOperation: { ...this.#byOperation },
      injectedByOperation: { ...this.#injectedByOperation },
      rules,
    };
  }

  /** Zeroes every counter. */
  reset(): void {
    this.total = 0;
    this.injected = 0;
    this.forwarded = 0;
    this.abandoned = 0;
    this.#byOperation = {};
    this.#injectedByOperation = {};
  }
}
