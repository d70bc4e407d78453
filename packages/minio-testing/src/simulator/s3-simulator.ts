import type { IncomingMessage, ServerResponse } from 'node:http';
import type { S3Credentials, S3EndpointInfo } from '../client.js';
import { drain, LoopbackServer, s3RequestId } from '../loopback-server.js';
import { classifyS3Request, type S3Operation } from '../s3-operations.js';
import { type KeySpace, keySpaceOf, type SimulatedKeySet } from './key-layouts.js';
import {
  DEFAULT_MIN_PART_SIZE,
  type S3SimulatorStoreMode,
  type SimulatedObject,
  SimulatedObjectStore,
  type SimulatedUpload,
} from './object-store.js';
import { PrefixRateLimiter, rateLimitPrefix, type S3SimulatorRateLimits } from './rate-limiter.js';
import { routeRequest, type SimulatorState } from './routes.js';
import { errorXml, S3SimulatorRequestError } from './xml.js';

/** Options of {@link startS3Simulator}. */
export interface S3SimulatorOptions {
  /**
   * The buckets and the keys each lists, generated on demand (never held). Default:
   * `{ 'simulated-bucket': { layout: 'flat', count: 1000 } }`.
   */
  readonly buckets?: Readonly<Record<string, SimulatedKeySet>>;
  /** Milliseconds every request waits before its answer. Default 50 (a ListObjectsV2 page on S3 takes tens). */
  readonly latencyMs?: number;
  /** Up to this many milliseconds more, at random, per request. Default 10. */
  readonly jitterMs?: number;
  /** Per-prefix request-rate limits answering 503 SlowDown; `false` for none. Default S3's: 5,500 reads and 3,500 writes per second. */
  readonly rateLimit?: S3SimulatorRateLimits | false;
  /** Keep written objects' bytes (`memory`, default) or only count them (`count`, for manifests of any size). */
  readonly store?: S3SimulatorStoreMode;
  /** Minimum size of a multipart upload's parts but the last. Default 5 MiB, as on S3. */
  readonly minPartSize?: number;
  /** Port on 127.0.0.1. Default a free one. */
  readonly port?: number;
  /**
   * Objects the buckets hold from the start, by bucket then key (e.g. an S3 Inventory report to read): GetObject and
   * HeadObject serve them whatever `store` says, as written objects (they are not listed). A bucket named only here
   * exists and lists no keys.
   */
  readonly objects?: Readonly<Record<string, Readonly<Record<string, Uint8Array | string>>>>;
}

/** Requests the simulator has answered, by operation (a snapshot). */
export interface S3SimulatorCounters {
  /** Requests received. */
  readonly total: number;
  /** Requests received, per operation (as {@link classifyS3Request} names them). */
  readonly byOperation: Readonly<Partial<Record<S3Operation, number>>>;
  /** Requests answered 503 SlowDown by the rate limit. */
  readonly throttled: number;
  /** Requests answered with another error (4xx/5xx). */
  readonly errors: number;
  /** Keys returned by ListObjectsV2, common prefixes not included. */
  readonly keysListed: number;
  /** Body bytes received (uploads). */
  readonly bytesReceived: number;
}

/** A running simulator. It does not verify signatures: any credentials are accepted. */
export interface S3Simulator extends S3EndpointInfo, AsyncDisposable {
  /** Base URL, `http://127.0.0.1:<port>`: point a path-style S3 client here. */
  readonly endpoint: string;
  /** `us-east-1`. */
  readonly region: string;
  /** Test credentials (any are accepted). */
  readonly credentials: S3Credentials;
  /** A fresh snapshot of the counters on each read. */
  readonly counters: S3SimulatorCounters;
  /** Zeroes the counters. */
  resetCounters(): void;
  /** The objects written to a bucket (PutObject, CompleteMultipartUpload), by key. Listed keys are not among them. */
  objects(bucket: string): ReadonlyMap<string, SimulatedObject>;
  /** Multipart uploads in progress (created, neither completed nor aborted), of one bucket or all. */
  uploads(bucket?: string): readonly SimulatedUpload[];
  /** Stops listening and drops open connections. Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_BUCKETS: Readonly<Record<string, SimulatedKeySet>> = {
  'simulated-bucket': { layout: 'flat', count: 1000 },
};
const WRITE_METHODS = new Set(['PUT', 'POST', 'DELETE']);

/**
 * Starts a loopback S3 simulator for load tests of listing code: ListObjectsV2 over key sets of any size that it
 * generates instead of storing (10M keys cost no memory), with S3's latency and per-prefix throttling
 * (503 SlowDown), plus PutObject, multipart upload, GetObject and HeadObject for writing manifests, and
 * request counters. It does not verify signatures. Listing semantics are checked against moto.
 * @example
 * ```ts
 * await using sim = await startS3Simulator({ buckets: { logs: { layout: 'dated', count: 1_000_000 } } });
 * const client = createS3Client(sim);
 * // … list `logs` with your code …
 * sim.counters.byOperation.ListObjectsV2; // requests made
 * ```
 */
export async function startS3Simulator(options: S3SimulatorOptions = {}): Promise<S3Simulator> {
  const state = buildState(options);
  const latency = checkNonNegative(options.latencyMs, 50, 'latencyMs');
  const jitter = checkNonNegative(options.jitterMs, 10, 'jitterMs');
  const limiter = new PrefixRateLimiter(options.rateLimit ?? {});
  const counters = state.counters;
  let server: LoopbackServer | undefined;
  const delay = (): Promise<void> =>
    new Promise((resolve) => {
      const ms = latency + Math.random() * jitter;
      if (ms <= 0 || !server) return resolve();
      server.setTimer(resolve, ms);
    });
  const handle = (req: IncomingMessage, res: ServerResponse): Promise<void> =>
    answerRequest({ state, limiter, counters, delay }, req, res);
  server = await LoopbackServer.listen(handle, options.port ?? 0, {
    keepAliveTimeout: 30_000,
  });
  const close = (): Promise<void> => (server as LoopbackServer).close();
  return {
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: {
      accessKeyId: 'simulator',
      secretAccessKey: 'simulator-secret',
    },
    get counters() {
      return { ...counters, byOperation: { ...counters.byOperation } };
    },
    resetCounters() {
      Object.assign(counters, newCounters());
    },
    objects: (bucket) => state.store.bucketObjects(bucket),
    uploads: (bucket) => (bucket === undefined ? state.store.allUploads() : state.store.listUploads(bucket)),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** What answering a request needs: the buckets, the rate limit, the counters, and S3's latency. */
interface RequestContext {
  readonly state: SimulatorState;
  readonly limiter: PrefixRateLimiter;
  readonly counters: MutableCounters;
  readonly delay: () => Promise<void>;
}

/** Answers one request: counts it, throttles it or routes it, and waits S3's latency before answering. */
async function answerRequest(ctx: RequestContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { counters } = ctx;
  const method = req.method ?? 'GET';
  const url = new URL(req.url ?? '/', 'http://s3.invalid');
  const operation = classifyS3Request(method, req.url ?? '/', req.headers);
  counters.total += 1;
  counters.byOperation[operation] = (counters.byOperation[operation] ?? 0) + 1;
  let target: { bucket: string; key: string };
  try {
    target = splitPath(url.pathname);
  } catch (error) {
    await drain(req);
    sendError(res, error, url.pathname, () => {
      counters.errors += 1;
    });
    return;
  }
  const { bucket, key } = target;
  const listPrefix = operation === 'ListObjectsV2' ? (url.searchParams.get('prefix') ?? '') : undefined;
  const admitted = ctx.limiter.admit(rateLimitPrefix(key, listPrefix), WRITE_METHODS.has(method.toUpperCase()));
  try {
    if (!admitted) {
      counters.throttled += 1;
      await drain(req);
      await ctx.delay();
      throw new S3SimulatorRequestError(503, 'SlowDown', 'Please reduce your request rate.');
    }
    const answer = await routeRequest(ctx.state, {
      method: method.toUpperCase(),
      operation,
      bucket,
      key,
      query: url.searchParams,
      request: req,
    });
    await ctx.delay();
    res.writeHead(answer.status, {
      'x-amz-request-id': s3RequestId(),
      ...answer.headers,
    });
    res.end(answer.body);
  } catch (error) {
    await drain(req);
    sendError(res, error, url.pathname, () => {
      if (admitted) counters.errors += 1;
    });
  }
}

interface MutableCounters {
  total: number;
  byOperation: Partial<Record<S3Operation, number>>;
  throttled: number;
  errors: number;
  keysListed: number;
  bytesReceived: number;
}

function newCounters(): MutableCounters {
  return {
    total: 0,
    byOperation: {},
    throttled: 0,
    errors: 0,
    keysListed: 0,
    bytesReceived: 0,
  };
}

function buildState(options: S3SimulatorOptions): SimulatorState & { counters: MutableCounters } {
  const specs = options.buckets ?? DEFAULT_BUCKETS;
  if (specs === null || typeof specs !== 'object')
    throw new TypeError('buckets must be an object of bucket name → key set');
  const spaces = new Map<string, KeySpace>();
  for (const [name, spec] of Object.entries(specs)) {
    checkBucketName(name, 'buckets');
    spaces.set(name, keySpaceOf(spec, `buckets[${JSON.stringify(name)}]`));
  }
  const store = options.store ?? 'memory';
  if (store !== 'memory' && store !== 'count')
    throw new TypeError(`store must be 'memory' or 'count', got ${JSON.stringify(store)}`);
  const minPartSize = checkNonNegative(options.minPartSize, DEFAULT_MIN_PART_SIZE, 'minPartSize');
  const objectStore = new SimulatedObjectStore(store, minPartSize);
  preload(options.objects, spaces, objectStore);
  return { spaces, store: objectStore, counters: newCounters() };
}

function checkBucketName(name: string, field: string): void {
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name))
    throw new TypeError(`${field}: ${JSON.stringify(name)} is not a valid bucket name`);
}

/** Stores the objects given up front (kept whatever the store mode); a bucket named only there lists nothing. */
function preload(
  objects: S3SimulatorOptions['objects'],
  spaces: Map<string, KeySpace>,
  store: SimulatedObjectStore,
): void {
  if (objects === undefined) return;
  if (objects === null || typeof objects !== 'object')
    throw new TypeError('objects must be an object of bucket name → { key: bytes }');
  for (const [bucket, byKey] of Object.entries(objects)) {
    checkBucketName(bucket, 'objects');
    if (!spaces.has(bucket)) spaces.set(bucket, keySpaceOf({ layout: 'keys', keys: [] }));
    for (const [key, value] of Object.entries(byKey ?? {})) {
      if (key === '' || (typeof value !== 'string' && !(value instanceof Uint8Array))) {
        throw new TypeError(
          `objects[${JSON.stringify(bucket)}][${JSON.stringify(key)}] must be a non-empty key with a string or Uint8Array body`,
        );
      }
      store.preload(
        bucket,
        key,
        typeof value === 'string'
          ? Buffer.from(value, 'utf8')
          : Buffer.from(value.buffer, value.byteOffset, value.byteLength),
      );
    }
  }
}

function checkNonNegative(value: number | undefined, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${field} must be a non-negative number, got ${String(value)}`);
  }
  return value;
}

/** The bucket and key a path-style request names, or S3's `InvalidURI` when a percent-escape is malformed. */
function splitPath(pathname: string): { bucket: string; key: string } {
  const slash = pathname.indexOf('/', 1);
  const bucket = decodePathPart(slash === -1 ? pathname.slice(1) : pathname.slice(1, slash));
  const key = slash === -1 ? '' : decodePathPart(pathname.slice(slash + 1));
  return { bucket, key };
}

function decodePathPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new S3SimulatorRequestError(400, 'InvalidURI', "Couldn't parse the specified URI.");
  }
}

function sendError(res: ServerResponse, error: unknown, resource: string, countError: () => void): void {
  if (res.headersSent || res.destroyed) return void res.destroy();
  const known = error instanceof S3SimulatorRequestError;
  if (known && error.code !== 'SlowDown') countError();
  if (!known) countError();
  const status = known ? error.status : 500;
  const code = known ? error.code : 'InternalError';
  const message = known ? error.message : 'We encountered an internal error. Please try again.';
  const id = s3RequestId();
  res.writeHead(status, {
    'content-type': 'application/xml',
    'x-amz-request-id': id,
  });
  res.end(errorXml(code, message, id, resource));
}
