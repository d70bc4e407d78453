import { randomBytes } from 'node:crypto';
import {
  Agent as HttpAgent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Writable } from 'node:stream';

/**
 * The S3 operations the proxy tells apart, from the method, the path (path-style:
 * `/bucket/key`) and the query. Anything else is `Other`.
 */
export type S3Operation =
  | 'ListBuckets'
  | 'CreateBucket'
  | 'DeleteBucket'
  | 'HeadBucket'
  | 'ListObjects'
  | 'ListObjectsV2'
  | 'ListMultipartUploads'
  | 'DeleteObjects'
  | 'GetObject'
  | 'HeadObject'
  | 'PutObject'
  | 'CopyObject'
  | 'DeleteObject'
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'UploadPartCopy'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'ListParts'
  | 'Other';

/** Every value of {@link S3Operation}, for validation and iteration. */
export const S3_OPERATIONS: readonly S3Operation[] = [
  'ListBuckets',
  'CreateBucket',
  'DeleteBucket',
  'HeadBucket',
  'ListObjects',
  'ListObjectsV2',
  'ListMultipartUploads',
  'DeleteObjects',
  'GetObject',
  'HeadObject',
  'PutObject',
  'CopyObject',
  'DeleteObject',
  'CreateMultipartUpload',
  'UploadPart',
  'UploadPartCopy',
  'CompleteMultipartUpload',
  'AbortMultipartUpload',
  'ListParts',
  'Other',
];

/** What the proxy knows about a request when it applies rules. */
export interface S3RequestInfo {
  /** HTTP method, upper case. */
  readonly method: string;
  /** Path and query as received. */
  readonly url: string;
  /** The operation, from {@link classifyS3Request}. */
  readonly operation: S3Operation;
  /** Bucket name (path-style), if any. */
  readonly bucket?: string;
  /** Object key, decoded, if any. */
  readonly key?: string;
}

/** Sub-resources that turn a bucket or object request into some other, unmodelled operation. */
const OTHER_SUBRESOURCES = [
  'accelerate', 'acl', 'analytics', 'attributes', 'cors', 'encryption', 'intelligent-tiering', 'inventory', 'legal-hold',
  'lifecycle', 'location', 'logging', 'metrics', 'notification', 'object-lock', 'ownershipControls', 'policy',
  'policyStatus', 'publicAccessBlock', 'replication', 'requestPayment', 'restore', 'retention', 'select', 'tagging',
  'torrent', 'versioning', 'versions', 'website',
];

/**
 * Names the S3 operation of a path-style request, e.g. `GET /b?list-type=2` is
 * `ListObjectsV2` and `PUT /b/k?partNumber=1&uploadId=u` is `UploadPart`.
 * @param method HTTP method.
 * @param url path and query (`/bucket/key?…`) or a full URL.
 * @param headers request headers; only `x-amz-copy-source` is read (copies look like puts otherwise).
 */
export function classifyS3Request(method: string, url: string, headers: IncomingHttpHeaders = {}): S3Operation {
  return parseRequest(method, url, headers).operation;
}

function parseRequest(method: string, url: string, headers: IncomingHttpHeaders): S3RequestInfo {
  const verb = method.toUpperCase();
  const parsed = new URL(url, 'http://s3.invalid');
  const query = parsed.searchParams;
  const path = parsed.pathname;
  const slash = path.indexOf('/', 1);
  const bucket = safeDecode(slash < 0 ? path.slice(1) : path.slice(1, slash));
  const key = slash < 0 ? '' : safeDecode(path.slice(slash + 1));
  const base = { method: verb, url, ...(bucket ? { bucket } : {}), ...(key ? { key } : {}) };
  const has = (name: string): boolean => query.has(name);
  const other = OTHER_SUBRESOURCES.some(has);
  const copy = headers['x-amz-copy-source'] !== undefined;
  let operation: S3Operation = 'Other';
  if (!bucket) {
    if (verb === 'GET') operation = 'ListBuckets';
  } else if (!key) {
    if (verb === 'GET' && has('uploads')) operation = 'ListMultipartUploads';
    else if (other) operation = 'Other';
    else if (verb === 'GET') operation = query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
    else if (verb === 'PUT') operation = 'CreateBucket';
    else if (verb === 'DELETE') operation = 'DeleteBucket';
    else if (verb === 'HEAD') operation = 'HeadBucket';
    else if (verb === 'POST' && has('delete')) operation = 'DeleteObjects';
  } else if (verb === 'GET') {
    operation = has('uploadId') ? 'ListParts' : other ? 'Other' : 'GetObject';
  } else if (verb === 'HEAD') {
    operation = 'HeadObject';
  } else if (verb === 'PUT') {
    if (has('partNumber') && has('uploadId')) operation = copy ? 'UploadPartCopy' : 'UploadPart';
    else if (!other) operation = copy ? 'CopyObject' : 'PutObject';
  } else if (verb === 'POST') {
    if (has('uploads')) operation = 'CreateMultipartUpload';
    else if (has('uploadId')) operation = 'CompleteMultipartUpload';
  } else if (verb === 'DELETE') {
    operation = has('uploadId') ? 'AbortMultipartUpload' : other ? 'Other' : 'DeleteObject';
  }
  return { ...base, operation };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

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
 *   connection is reset (a response cut off mid-body). It always acts after S3 has answered, whatever `phase` says.
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

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** The S3 endpoint to forward to: a URL or anything with an `endpoint` URL (e.g. an `S3Endpoint`). */
  readonly target: string | {
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

const FAULT_KINDS: readonly FaultKind[] = ['slow-down', 'internal-error', 'reset', 'delay', 'foreign-body', 'empty-body', 'truncate'];
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
]);

interface RuleState {
  readonly rule: FaultRule;
  readonly operations: ReadonlySet<S3Operation> | undefined;
  matched: number;
  injected: number;
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
  const targetUrl = parseTarget(options?.target);
  let states = compileRules(options.rules ?? []);
  const secure = targetUrl.protocol === 'https:';
  const agent = secure ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  const send = secure ? httpsRequest : httpRequest;
  const targetHost = targetUrl.host;
  const basePath = targetUrl.pathname.replace(/\/+$/, '');

  let total = 0;
  let injected = 0;
  let forwarded = 0;
  let abandoned = 0;
  let byOperation: Partial<Record<S3Operation, number>> = {};
  let injectedByOperation: Partial<Record<S3Operation, number>> = {};
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;

  /**
   * Waits `ms`; resolves false as soon as the client goes away (the response or the connection closes, or the
   * request ends before its body did), true when the time is up and the client is still there.
   */
  const wait = (ms: number, req: IncomingMessage, res: ServerResponse): Promise<boolean> =>
    new Promise((resolve) => {
      if (ms <= 0) return resolve(!res.destroyed);
      const socket = req.socket;
      const done = (proceed: boolean): void => {
        clearTimeout(timer);
        timers.delete(timer);
        res.off('close', onClose);
        req.off('close', onRequestClose);
        socket.off('close', onClose);
        resolve(proceed);
      };
      const timer = setTimeout(() => done(!res.destroyed && !socket.destroyed && !stopped), ms);
      const onClose = (): void => done(false);
      // A request's 'close' also follows a body read to its end; only one cut short means the client left.
      const onRequestClose = (): void => {
        if (!req.complete) done(false);
      };
      timers.add(timer);
      res.once('close', onClose);
      req.once('close', onRequestClose);
      socket.once('close', onClose);
    });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const info = parseRequest(req.method ?? 'GET', req.url ?? '/', req.headers);
    total++;
    byOperation[info.operation] = (byOperation[info.operation] ?? 0) + 1;

    let delayBefore = 0;
    let delayAfter = 0;
    let fault: { kind: Exclude<FaultKind, 'delay'>; phase: 'request' | 'response'; rule: FaultRule } | undefined;
    for (const state of states) {
      if (state.operations && !state.operations.has(info.operation)) continue;
      if (state.rule.match && !state.rule.match(info)) continue;
      state.matched++;
      const eligible = state.matched > (state.rule.after ?? 0) && state.injected < (state.rule.times ?? Infinity);
      if (!eligible) continue;
      if (state.rule.fault === 'delay') {
        state.injected++;
        if (state.rule.phase === 'response') delayAfter += state.rule.delayMs ?? 0;
        else delayBefore += state.rule.delayMs ?? 0;
      } else if (!fault) {
        state.injected++;
        const phase = state.rule.fault === 'truncate' ? 'response' : (state.rule.phase ?? 'request');
        fault = { kind: state.rule.fault, phase, rule: state.rule };
      } else {
        continue;
      }
      injected++;
      injectedByOperation[info.operation] = (injectedByOperation[info.operation] ?? 0) + 1;
    }

    // While a delay holds the request, its body is read into memory: a client that gives up after sending it
    // (a timeout, an abort) closes a connection the server sees close only once the bytes before it are read.
    const held = delayBefore > 0 ? holdBody(req) : undefined;
    if (!(await wait(delayBefore, req, res))) {
      held?.discard();
      if (delayBefore > 0 && !stopped) abandoned++;
      if (!res.destroyed) res.destroy();
      return;
    }
    if (fault?.phase === 'request') {
      held?.discard();
      if (fault.kind === 'reset') return reset(req);
      await drain(req);
      return answerWith(req, res, fault as AnsweringFault);
    }

    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    }
    if (options.rewriteHost) headers.host = targetHost;
    const upstream = send({
      protocol: targetUrl.protocol,
      hostname: targetUrl.hostname,
      port: targetUrl.port,
      method: req.method,
      path: basePath + (req.url ?? '/'),
      headers,
      agent,
    });
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.once('error', () => {
      if (res.destroyed) return;
      if (res.headersSent) return void res.destroy();
      sendError(req, res, 'bad-gateway');
    });
    forwarded++;
    upstream.once('response', (upstreamRes) => {
      void (async () => {
        if (fault?.kind === 'truncate') return truncate(req, res, upstreamRes);
        if (fault) {
          // The target has done the work; the client is told otherwise.
          await drain(upstreamRes);
          if (fault.kind === 'reset') return reset(req);
          return answerWith(req, res, fault as AnsweringFault);
        }
        if (!(await wait(delayAfter, req, res))) return void upstreamRes.destroy();
        const responseHeaders: OutgoingHttpHeaders = {};
        for (const [name, value] of Object.entries(upstreamRes.headers)) {
          if (value !== undefined && !HOP_BY_HOP.has(name)) responseHeaders[name] = value;
        }
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, responseHeaders);
        upstreamRes.pipe(res);
        upstreamRes.once('error', () => res.destroy());
      })();
    });
    if (held) held.forward(upstream);
    else req.pipe(upstream);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.destroyed) res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= new Promise<void>((resolve) => {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
      agent.destroy();
    });
    return stopping;
  };

  return {
    endpoint: `http://127.0.0.1:${port}`,
    get hits(): FaultProxyHits {
      return {
        total,
        injected,
        forwarded,
        abandoned,
        byOperation: { ...byOperation },
        injectedByOperation: { ...injectedByOperation },
        rules: states.map((s) => ({ matched: s.matched, injected: s.injected })),
      };
    },
    setRules(rules) {
      states = compileRules(rules);
    },
    resetHits() {
      total = 0;
      injected = 0;
      forwarded = 0;
      abandoned = 0;
      byOperation = {};
      injectedByOperation = {};
      for (const state of states) {
        state.matched = 0;
        state.injected = 0;
      }
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

function parseTarget(target: FaultProxyOptions['target'] | undefined): URL {
  const raw = typeof target === 'string' ? target : target?.endpoint;
  if (typeof raw !== 'string' || raw === '') {
    throw new TypeError('startFaultProxy: target must be an endpoint URL or an object with an endpoint URL');
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TypeError(`startFaultProxy: target is not a URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`startFaultProxy: target must be http(s), got ${url.protocol}`);
  }
  return url;
}

function compileRules(rules: readonly FaultRule[]): RuleState[] {
  if (!Array.isArray(rules)) throw new TypeError('startFaultProxy: rules must be an array');
  return rules.map((rule: FaultRule, i) => {
    const at = `rules[${i}]`;
    if (typeof rule !== 'object' || rule === null) throw new TypeError(`${at} must be an object`);
    if (!FAULT_KINDS.includes(rule.fault)) {
      throw new TypeError(`${at}.fault must be one of ${FAULT_KINDS.join(', ')}, got ${JSON.stringify(rule.fault)}`);
    }
    const operations = rule.operation === undefined ? undefined : typeof rule.operation === 'string' ? [rule.operation] : rule.operation;
    if (operations !== undefined) {
      if (!Array.isArray(operations) || operations.length === 0) throw new TypeError(`${at}.operation must be an operation or a non-empty array`);
      for (const op of operations) {
        if (!S3_OPERATIONS.includes(op)) throw new TypeError(`${at}.operation: unknown S3 operation ${JSON.stringify(op)}`);
      }
    }
    if (rule.after !== undefined && (!Number.isInteger(rule.after) || rule.after < 0)) {
      throw new RangeError(`${at}.after must be an integer >= 0, got ${String(rule.after)}`);
    }
    if (rule.times !== undefined && (!Number.isInteger(rule.times) || rule.times < 1)) {
      throw new RangeError(`${at}.times must be an integer >= 1, got ${String(rule.times)}`);
    }
    if (rule.fault === 'delay' && (typeof rule.delayMs !== 'number' || !Number.isFinite(rule.delayMs) || rule.delayMs < 0)) {
      throw new RangeError(`${at}.delayMs must be a number >= 0 for a delay rule, got ${String(rule.delayMs)}`);
    }
    if (rule.phase !== undefined && rule.phase !== 'request' && rule.phase !== 'response') {
      throw new TypeError(`${at}.phase must be 'request' or 'response'`);
    }
    if (rule.match !== undefined && typeof rule.match !== 'function') throw new TypeError(`${at}.match must be a function`);
    for (const field of ['body', 'contentType'] as const) {
      if (rule[field] !== undefined && (rule.fault !== 'foreign-body' || typeof rule[field] !== 'string')) {
        throw new TypeError(`${at}.${field} must be a string, and only for a foreign-body rule`);
      }
    }
    if (rule.status !== undefined && (rule.fault !== 'foreign-body' || !Number.isInteger(rule.status) || rule.status < 200 || rule.status > 299)) {
      throw new RangeError(`${at}.status must be an integer in 200..299, and only for a foreign-body rule, got ${String(rule.status)}`);
    }
    return { rule, operations: operations && new Set(operations), matched: 0, injected: 0 };
  });
}

const ERRORS = {
  'slow-down': { status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' },
  'internal-error': { status: 500, code: 'InternalError', message: 'We encountered an internal error. Please try again.' },
  'bad-gateway': { status: 502, code: 'BadGateway', message: 'The fault proxy could not reach the S3 endpoint.' },
} as const;

function sendError(req: IncomingMessage, res: ServerResponse, kind: keyof typeof ERRORS): void {
  if (res.destroyed || res.headersSent) return;
  const { status, code, message } = ERRORS[kind];
  const requestId = randomBytes(8).toString('hex').toUpperCase();
  const resource = escapeXml(new URL(req.url ?? '/', 'http://s3.invalid').pathname);
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${code}</Code><Message>${message}</Message><Resource>${resource}</Resource>` +
    `<RequestId>${requestId}</RequestId><HostId>fault-proxy</HostId></Error>`;
  res.writeHead(status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(body),
    'x-amz-request-id': requestId,
    'x-amz-id-2': 'fault-proxy',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** The default `foreign-body`: what a gateway in front of S3 answers when it cannot reach it. */
const GATEWAY_PAGE =
  '<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n' +
  '<body><h1>Bad Gateway</h1><p>The upstream server did not answer.</p></body></html>\n';

/** Answers a request with the fault's own response (an S3 error, a foreign body, an empty 200). */
type AnsweringFault = { kind: Exclude<FaultKind, 'delay' | 'reset' | 'truncate'>; rule: FaultRule };

function answerWith(req: IncomingMessage, res: ServerResponse, fault: AnsweringFault): void {
  if (fault.kind === 'slow-down' || fault.kind === 'internal-error') return sendError(req, res, fault.kind);
  if (res.destroyed || res.headersSent) return;
  const body = fault.kind === 'empty-body' ? '' : (fault.rule.body ?? GATEWAY_PAGE);
  const headers: OutgoingHttpHeaders = { 'content-length': Buffer.byteLength(body) };
  if (fault.kind === 'foreign-body') {
    headers['content-type'] = fault.rule.contentType ?? (fault.rule.body === undefined ? 'text/html; charset=utf-8' : 'application/xml');
  }
  res.writeHead(fault.kind === 'foreign-body' ? (fault.rule.status ?? 200) : 200, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Passes S3's status and headers on, then half of its body, then resets the connection. */
function truncate(req: IncomingMessage, res: ServerResponse, upstreamRes: IncomingMessage): void {
  const chunks: Buffer[] = [];
  upstreamRes.on('data', (chunk: Buffer) => chunks.push(chunk));
  upstreamRes.once('end', () => {
    if (res.destroyed) return;
    const body = Buffer.concat(chunks);
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(upstreamRes.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    }
    headers['content-length'] = body.length;
    res.writeHead(upstreamRes.statusCode ?? 200, upstreamRes.statusMessage, headers);
    // Flushes the headers and the first half, then cuts the connection once they are on the wire.
    res.write(body.subarray(0, Math.floor(body.length / 2)), () => reset(req));
  });
  upstreamRes.once('error', () => reset(req));
}

function reset(req: IncomingMessage): void {
  const socket = req.socket;
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

/** A request body read into memory while the request waits. */
interface HeldBody {
  /** Writes what was read to `to`, then passes the rest of the body through. */
  forward(to: Writable): void;
  /** Drops what was read and lets the rest of the body flow away. */
  discard(): void;
}

function holdBody(req: IncomingMessage): HeldBody {
  const chunks: Buffer[] = [];
  const onData = (chunk: Buffer): void => {
    chunks.push(chunk);
  };
  req.on('data', onData);
  const release = (): void => {
    req.pause();
    req.off('data', onData);
  };
  return {
    forward(to) {
      release();
      for (const chunk of chunks.splice(0)) to.write(chunk);
      // pipe() would never end a destination for a source that has already ended.
      if (req.readableEnded) to.end();
      else req.pipe(to);
    },
    discard() {
      release();
      chunks.length = 0;
      req.resume();
    },
  };
}

function drain(stream: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    if (stream.complete || stream.readableEnded) return resolve();
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', () => resolve());
    stream.resume();
  });
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
