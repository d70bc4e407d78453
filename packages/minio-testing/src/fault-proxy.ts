import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AnsweringFault, answerWith, endToEndHeaders, reset, sendError, truncate } from './fault-proxy/answers.js';
import { type FaultProxyHits, HitCounters } from './fault-proxy/hits.js';
import { holdBody, waitForClient } from './fault-proxy/holding.js';
import { type FaultPlan, type FaultRule, FaultRuleSet } from './fault-proxy/rules.js';
import { parseTarget, Upstream } from './fault-proxy/upstream.js';
import { drain, LoopbackServer } from './loopback-server.js';
import { parseS3Request } from './s3-operations.js';

export type { FaultProxyHits } from './fault-proxy/hits.js';
export type {
  FaultKind,
  FaultRule,
  FaultRuleHits,
} from './fault-proxy/rules.js';
export {
  classifyS3Request,
  S3_OPERATIONS,
  type S3Operation,
  type S3RequestInfo,
} from './s3-operations.js';

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** The S3 endpoint to forward to: a URL or anything with an `endpoint` URL (e.g. an `S3Endpoint`). */
  readonly target:
    | string
    | {
        /** Base URL of the endpoint. */
        readonly endpoint: string;
      };
  /** Initial rules; none means a transparent proxy. */
  readonly rules?: readonly FaultRule[];
  /** Port on 127.0.0.1; default a free one. */
  readonly port?: number;
  /**
   * Send the target's host in the `Host` header instead of the client's. Off by default:
   * SigV4 signs the client's `Host`, and servers that check signatures (MinIO) need it kept.
   */
  readonly rewriteHost?: boolean;
}

/** A running fault-injection proxy. */
export interface FaultProxy extends AsyncDisposable {
  /** Base URL of the proxy, `http://127.0.0.1:<port>`: point an S3 client here. */
  readonly endpoint: string;
  /** What the proxy has seen so far (a fresh snapshot on each read). */
  readonly hits: FaultProxyHits;
  /** Replaces the rules and their counters. */
  setRules(rules: readonly FaultRule[]): void;
  /** Zeroes every counter. */
  resetHits(): void;
  /** Closes the proxy: stops listening, drops open connections and pending delays. */
  stop(): Promise<void>;
}

/**
 * Starts a loopback HTTP proxy in front of an S3 endpoint that forwards every request
 * (path and query unchanged) and injects faults by rule: throttling (503 SlowDown),
 * 500 InternalError, connection resets, delays, 2xx answers that are not S3's (an HTML page,
 * foreign XML, an empty body) and responses cut off mid-body, before or after S3 carried the
 * request out, on chosen operations, after the first n matching requests, at most m times.
 * Clients must use path-style addressing.
 * @example
 * ```ts
 * const proxy = await startFaultProxy({
 *   target: endpoint,
 *   rules: [{ fault: 'slow-down', operation: 'UploadPart', times: 2 }],
 * });
 * const client = createS3Client({ ...endpoint, endpoint: proxy.endpoint }, { maxAttempts: 3 });
 * ```
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const proxy = new FaultProxyServer(options);
  await proxy.listen(options.port ?? 0);
  return proxy.face();
}

/** The running proxy: its rules, counters, upstream and server, and what it does to each request. */
class FaultProxyServer {
  #rules: FaultRuleSet;
  readonly #hits = new HitCounters();
  readonly #upstream: Upstream;
  #server!: LoopbackServer;

  constructor(options: FaultProxyOptions) {
    const target = parseTarget(options?.target);
    this.#rules = new FaultRuleSet(options.rules ?? []);
    this.#upstream = new Upstream(target, options.rewriteHost === true);
  }

  async listen(port: number): Promise<void> {
    this.#server = await LoopbackServer.listen((req, res) => this.#handle(req, res), port);
  }

  /** The public face of the proxy. */
  face(): FaultProxy {
    const server = this.#server;
    const stop = async (): Promise<void> => {
      const closing = server.close();
      this.#upstream.destroy();
      await closing;
    };
    const hits = (): FaultProxyHits => this.#hits.snapshot(this.#rules.hits());
    return {
      endpoint: server.endpoint,
      get hits(): FaultProxyHits {
        return hits();
      },
      setRules: (rules) => {
        this.#rules = new FaultRuleSet(rules);
      },
      resetHits: () => {
        this.#hits.reset();
        this.#rules.reset();
      },
      stop,
      [Symbol.asyncDispose]: stop,
    };
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const server = this.#server;
    const info = parseS3Request(req.method ?? 'GET', req.url ?? '/', req.headers);
    this.#hits.received(info.operation);
    const plan = this.#rules.plan(info);
    this.#hits.injectedInto(info.operation, plan.injections);

    const held = plan.delayBefore > 0 ? holdBody(req) : undefined;
    if (!(await waitForClient(server, plan.delayBefore, req, res))) {
      held?.discard();
      if (plan.delayBefore > 0 && !server.closed) this.#hits.abandoned++;
      if (!res.destroyed) res.destroy();
      return;
    }
    const { fault } = plan;
    if (fault?.phase === 'request') {
      held?.discard();
      if (fault.kind === 'reset') return reset(req);
      await drain(req);
      return answerWith(req, res, fault as AnsweringFault);
    }
    const upstream = this.#upstream.request(req);
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.once('error', () => {
      if (res.destroyed) return;
      if (res.headersSent) return void res.destroy();
      sendError(req, res, 'bad-gateway');
    });
    this.#hits.forwarded++;
    upstream.once('response', (upstreamRes) => void this.#respond(req, res, upstreamRes, plan));
    if (held) held.forward(upstream);
    else req.pipe(upstream);
  }

  /** Passes the target's answer on, or the response-phase fault instead of it. */
  async #respond(
    req: IncomingMessage,
    res: ServerResponse,
    upstreamRes: IncomingMessage,
    plan: FaultPlan,
  ): Promise<void> {
    const { fault } = plan;
    if (fault?.kind === 'truncate') return truncate(req, res, upstreamRes);
    if (fault) {
      // The target has done the work; the client is told otherwise.
      await drain(upstreamRes);
      if (fault.kind === 'reset') return reset(req);
      return answerWith(req, res, fault as AnsweringFault);
    }
    if (!(await waitForClient(this.#server, plan.delayAfter, req, res))) {
      return void upstreamRes.destroy();
    }
    res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, endToEndHeaders(upstreamRes.headers));
    upstreamRes.pipe(res);
    upstreamRes.once('error', () => res.destroy());
  }
}
