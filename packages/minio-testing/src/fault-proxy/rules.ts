import type { S3Operation, S3RequestInfo } from '../s3-operations.js';
import { S3_OPERATIONS } from '../s3-operations.js';

/**
 * What a rule does to a matching request:
 * - `slow-down`: HTTP 503 with an S3 `SlowDown` error body (throttling; the SDK retries it).
 * - `internal-error`: HTTP 500 with an S3 `InternalError` body (transient; the SDK retries it).
 * - `reset`: the connection is reset (TCP RST) without a response.
 * - `delay`: the request waits `delayMs` and then proceeds; delays add up with other rules.
 * - `foreign-body`: HTTP 200 (or the rule's `status`) with a body that is not S3's: by default an HTML page such as a
 *   gateway or captive portal sends; the rule's `body` and `contentType` replace it (foreign XML, JSON, garbage).
 * - `empty-body`: HTTP 200 with an empty body and no S3 headers (no ETag, no request id).
 * - `truncate`: the request is forwarded; the client gets S3's status and headers, then half of S3's body, and the
 *   connection is reset (a response cut off mid-body). An answer without a body (PutObject, UploadPart, any HEAD) is
 *   cut off inside its headers instead. It always acts after S3 has answered, whatever `phase` says.
 *
 * With `phase: 'request'` (the default) the target never sees the request; with `phase: 'response'` it carries the
 * request out and the client gets the fault instead of its answer.
 */
export type FaultKind = 'slow-down' | 'internal-error' | 'reset' | 'delay' | 'foreign-body' | 'empty-body' | 'truncate';

/** One injection rule. Every rule counts every request it matches; the first eligible non-delay rule wins. */
export interface FaultRule {
  /** What to inject. */
  readonly fault: FaultKind;
  /** Operations this rule applies to; all when omitted. */
  readonly operation?: S3Operation | readonly S3Operation[];
  /** A further test on the request, e.g. on the key. */
  readonly match?: (request: S3RequestInfo) => boolean;
  /** Let this many matching requests through untouched first. Default 0. */
  readonly after?: number;
  /** Inject at most this many times, then let requests through. Default: no limit. */
  readonly times?: number;
  /** Milliseconds to wait, for `delay` (required there). */
  readonly delayMs?: number;
  /**
   * When to inject: `request` (default) before S3 sees the request, or `response` after
   * S3 has carried it out, so the client fails although the operation took effect.
   */
  readonly phase?: 'request' | 'response';
  /** For `foreign-body`: the body sent. Default: an HTML "502 Bad Gateway" page. */
  readonly body?: string;
  /** For `foreign-body`: its content type. Default `text/html` (with the default body), else `application/xml`. */
  readonly contentType?: string;
  /** For `foreign-body`: the HTTP status, 200..299. Default 200. */
  readonly status?: number;
}

/** Counters for one rule, in the order of the rules. */
export interface FaultRuleHits {
  /** Requests the rule matched. */
  readonly matched: number;
  /** Times it injected its fault. */
  readonly injected: number;
}

/** The fault a request gets instead of (or on top of) being forwarded. */
export interface ChosenFault {
  readonly kind: Exclude<FaultKind, 'delay'>;
  readonly phase: 'request' | 'response';
  readonly rule: FaultRule;
}

/** What the rules decided for one request. */
export interface FaultPlan {
  /** Milliseconds to hold the request before forwarding it (or answering it with a request-phase fault). */
  readonly delayBefore: number;
  /** Milliseconds to hold the target's answer before passing it on. */
  readonly delayAfter: number;
  /** The first eligible non-delay fault, if any. */
  readonly fault?: ChosenFault;
  /** Rules that injected something (delays included). */
  readonly injections: number;
}

const FAULT_KINDS: readonly FaultKind[] = [
  'slow-down',
  'internal-error',
  'reset',
  'delay',
  'foreign-body',
  'empty-body',
  'truncate',
];

interface RuleState {
  readonly rule: FaultRule;
  readonly operations: ReadonlySet<S3Operation> | undefined;
  matched: number;
  injected: number;
}

/** The proxy's rules with their counters: decides what each request gets, counting as it goes. */
export class FaultRuleSet {
  readonly #states: RuleState[];

  /** Checks the rules; a bad one throws naming it (`rules[i].field`). */
  constructor(rules: readonly FaultRule[]) {
    if (!Array.isArray(rules)) throw new TypeError('startFaultProxy: rules must be an array');
    this.#states = rules.map((rule: FaultRule, i) => {
      const operations = checkRule(rule, `rules[${i}]`);
      return {
        rule,
        operations: operations && new Set(operations),
        matched: 0,
        injected: 0,
      };
    });
  }

  /** Matches a request against every rule in order: delays add up, the first eligible other fault wins. */
  plan(request: S3RequestInfo): FaultPlan {
    let delayBefore = 0;
    let delayAfter = 0;
    let fault: ChosenFault | undefined;
    let injections = 0;
    for (const state of this.#states) {
      if (!matches(state, request)) continue;
      state.matched++;
      if (!eligible(state)) continue;
      const { rule } = state;
      if (rule.fault === 'delay') {
        if (rule.phase === 'response') delayAfter += rule.delayMs ?? 0;
        else delayBefore += rule.delayMs ?? 0;
      } else if (!fault) {
        const phase = rule.fault === 'truncate' ? 'response' : (rule.phase ?? 'request');
        fault = { kind: rule.fault, phase, rule };
      } else {
        continue;
      }
      state.injected++;
      injections++;
    }
    return { delayBefore, delayAfter, injections, ...(fault ? { fault } : {}) };
  }

  /** Per-rule counters, in rule order. */
  hits(): FaultRuleHits[] {
    return this.#states.map((s) => ({
      matched: s.matched,
      injected: s.injected,
    }));
  }

  /** Zeroes the per-rule counters. */
  reset(): void {
    for (const state of this.#states) {
      state.matched = 0;
      state.injected = 0;
    }
  }
}

function matches(state: RuleState, request: S3RequestInfo): boolean {
  if (state.operations && !state.operations.has(request.operation)) return false;
  return !state.rule.match || state.rule.match(request);
}

function eligible(state: RuleState): boolean {
  return state.matched > (state.rule.after ?? 0) && state.injected < (state.rule.times ?? Infinity);
}

/** Throws naming the first bad field of a rule; returns its operations as a list (undefined: all). */
function checkRule(rule: FaultRule, at: string): readonly S3Operation[] | undefined {
  if (typeof rule !== 'object' || rule === null) throw new TypeError(`${at} must be an object`);
  if (!FAULT_KINDS.includes(rule.fault)) {
    throw new TypeError(`${at}.fault must be one of ${FAULT_KINDS.join(', ')}, got ${JSON.stringify(rule.fault)}`);
  }
  const operations = checkOperations(rule, at);
  checkCounts(rule, at);
  if (rule.phase !== undefined && rule.phase !== 'request' && rule.phase !== 'response') {
    throw new TypeError(`${at}.phase must be 'request' or 'response'`);
  }
  if (rule.match !== undefined && typeof rule.match !== 'function')
    throw new TypeError(`${at}.match must be a function`);
  checkForeignBody(rule, at);
  return operations;
}

function checkOperations(rule: FaultRule, at: string): readonly S3Operation[] | undefined {
  const operations =
    rule.operation === undefined ? undefined : typeof rule.operation === 'string' ? [rule.operation] : rule.operation;
  if (operations === undefined) return undefined;
  if (!Array.isArray(operations) || operations.length === 0)
    throw new TypeError(`${at}.operation must be an operation or a non-empty array`);
  for (const op of operations) {
    if (!S3_OPERATIONS.includes(op)) throw new TypeError(`${at}.operation: unknown S3 operation ${JSON.stringify(op)}`);
  }
  return operations;
}

function checkCounts(rule: FaultRule, at: string): void {
  if (rule.after !== undefined && (!Number.isInteger(rule.after) || rule.after < 0)) {
    throw new RangeError(`${at}.after must be an integer >= 0, got ${String(rule.after)}`);
  }
  if (rule.times !== undefined && (!Number.isInteger(rule.times) || rule.times < 1)) {
    throw new RangeError(`${at}.times must be an integer >= 1, got ${String(rule.times)}`);
  }
  if (
    rule.fault === 'delay' &&
    (typeof rule.delayMs !== 'number' || !Number.isFinite(rule.delayMs) || rule.delayMs < 0)
  ) {
    throw new RangeError(`${at}.delayMs must be a number >= 0 for a delay rule, got ${String(rule.delayMs)}`);
  }
}

function checkForeignBody(rule: FaultRule, at: string): void {
  for (const field of ['body', 'contentType'] as const) {
    if (rule[field] !== undefined && (rule.fault !== 'foreign-body' || typeof rule[field] !== 'string')) {
      throw new TypeError(`${at}.${field} must be a string, and only for a foreign-body rule`);
    }
  }
  if (
    rule.status !== undefined &&
    (rule.fault !== 'foreign-body' || !Number.isInteger(rule.status) || rule.status < 200 || rule.status > 299)
  ) {
    throw new RangeError(
      `${at}.status must be an integer in 200..299, and only for a foreign-body rule, got ${String(rule.status)}`,
    );
  }
}
