import type { S3Client } from '@aws-sdk/client-s3';
import { PresignPipelineError } from '../errors.js';
import type { ObjectRef, Presigner, PresignOptions } from '../types.js';
import { sdkPresigner } from './sdk-presigner.js';
import { vouchForSyncUrls } from '../manifest/jsonl.js';
import { assertKeyLength, assertSafeKeyPath } from './validate.js';
import {
  SIGV4_ALGORITHM,
  CanonicalHasher,
  deriveSigningKey,
  encodeS3Key,
  formatAmzDate,
  parseAmzDate,
  scopeSigner,
  uriEscape,
  type AmzDate,
  type ScopeSigner,
} from './sigv4.js';

/**
 * Options of {@link fastPresigner}.
 *
 * @example
 * ```ts
 * // Fixed clock (reproducible URLs), and never the slow path: reject instead of falling back to the SDK.
 * const options: FastPresignerOptions = { client, signingDate: new Date('2026-04-01T00:00:00Z'), fallback: false };
 * ```
 */
export interface FastPresignerOptions {
  /**
   * The S3 client whose credentials, region and endpoint settings (custom endpoint, `forcePathStyle`) sign the URLs.
   * Its credential provider is asked again when the credentials near their expiry.
   */
  client: S3Client;
  /** Signs as of this time instead of now (reproducible URLs in tests). */
  signingDate?: Date;
  /**
   * What to do for a bucket whose URL the fast signer cannot reproduce byte for byte (an addressing or signing scheme
   * it does not implement, such as SigV4a multi-region access points): `true` (default) presigns that bucket's keys
   * with the SDK instead (correct, but about as slow as {@link sdkPresigner}); `false` rejects every presign for it.
   */
  fallback?: boolean;
}

/**
 * A {@link Presigner} that can also sign without a promise once it is warm.
 *
 * @example
 * ```ts
 * const presigner: FastPresigner = fastPresigner({ client });
 * const object = { bucket: 'reports', key: '2026/04/a.pdf' };
 * const url = presigner.presignSync(object, { expiresIn: 900 }) ?? (await presigner.presign(object, { expiresIn: 900 }));
 * ```
 */
export interface FastPresigner extends Presigner {
  /**
   * Presigns synchronously when the credentials and the bucket's endpoint are already resolved and fresh; returns
   * `undefined` otherwise (then call {@link Presigner.presign}, which resolves them). Throws on a bad object or
   * options, like `presign` rejects.
   */
  presignSync(object: ObjectRef, options: PresignOptions): string | undefined;
  /** When the client's current credentials expire (undefined for long-term keys); refreshes them first if due. */
  credentialsExpiration(): Promise<Date | undefined>;
}

/** The credentials the client's provider returned. */
interface Identity {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/** Query parameters the presigner fills in itself; every other parameter of the SDK's URL is copied verbatim. */
const DYNAMIC_PARAMS = new Set([
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-Security-Token',
  'X-Amz-Signature',
]);

/** Credentials are re-read from the provider at least this often, so a rotated key is picked up promptly. */
const RECHECK_MS = 1_000;
/** Credentials this close to their expiry are refreshed before signing (the SDK's own refresh window). */
const REFRESH_WINDOW_MS = 5 * 60_000;
/** The key presigned with the SDK to learn a bucket's URL layout. Any plain key works; the path must end with it. */
const PROBE_KEY = 'k';
const PROBE_EXPIRES = 900;
const MAX_SIGNING_KEYS = 32;

/** What the SDK's URL for one bucket taught us, and the pieces compiled from it. */
interface BucketPlan {
  readonly mode: 'fast' | 'sdk';
  /** Why the fast path is off (mode `sdk`), for the error `fallback: false` raises. */
  readonly reason?: string;
  /** Scheme, authority and path prefix, e.g. `https://b.s3.eu-west-1.amazonaws.com/`; the encoded key follows. */
  readonly base: string;
  /** The path prefix alone (what the canonical request's path starts with). */
  readonly pathPrefix: string;
  /** The signed host header's value. */
  readonly host: string;
  /** The credential scope's region and service (the SDK's endpoint rules choose them, e.g. `aws-global` signs us-east-1). */
  readonly region: string;
  readonly service: string;
  /** The URL's other parameters, already encoded (`X-Amz-Algorithm`, `X-Amz-Content-Sha256`, `X-Amz-SignedHeaders`, ...). */
  readonly staticParams: ReadonlyArray<readonly [name: string, value: string]>;
  compiled?: Compiled;
}

/**
 * The canonical request, string to sign and URL cut around their variable parts, for one identity and one day:
 * `canonical = c0 + path + c1 + date + c2 + expires + c3`, `url = u0 + path + u1 + date + u2 + expires + u3 + sig + u4`.
 */
interface Compiled {
  readonly identity: Identity;
  readonly shortDate: string;
  readonly canonical: readonly [string, string, string, string];
  readonly url: readonly [string, string, string, string, string];
  /** Signs the string to sign built from the long date and the canonical request's hash. */
  readonly signer: ScopeSigner;
  /** Hashes `c0 + path` followed by the tail `c1 + date + c2 + expires + c3` of the date and expiry below. */
  readonly hasher: CanonicalHasher;
  tailDate: string;
  tailExpires: number;
  expires: string;
}

type Slot = 'date' | 'expires' | 'signature';

function owner(method: string): string {
  return `fastPresigner.${method}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value === '') return 'empty string';
  return typeof value;
}

function checkObjectRef(method: string, object: unknown): ObjectRef {
  if (typeof object !== 'object' || object === null) {
    throw new TypeError(`${owner(method)}: "object" must be an object with bucket and key, got ${describe(object)}`);
  }
  const { bucket, key } = object as Record<string, unknown>;
  if (typeof bucket !== 'string' || bucket.length === 0) {
    throw new TypeError(`${owner(method)}: "bucket" must be a non-empty string, got ${describe(bucket)}`);
  }
  if (typeof key !== 'string' || key.length === 0) {
    throw new TypeError(`${owner(method)}: "key" must be a non-empty string, got ${describe(key)}`);
  }
  assertKeyLength(key);
  assertSafeKeyPath(key);
  return object as ObjectRef;
}

function checkExpiresIn(method: string, options: unknown): number {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${owner(method)}: "options" must be an object with expiresIn, got ${describe(options)}`);
  }
  const { expiresIn } = options as Record<string, unknown>;
  if (typeof expiresIn !== 'number' || Number.isNaN(expiresIn)) {
    throw new TypeError(`${owner(method)}: "expiresIn" must be an integer in 1..604800, got ${describe(expiresIn)}`);
  }
  if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > 604_800) {
    throw new RangeError(`${owner(method)}: "expiresIn" must be an integer in 1..604800, got ${expiresIn}`);
  }
  return expiresIn;
}

function sameIdentity(a: Identity, b: Identity): boolean {
  return a.accessKeyId === b.accessKeyId && a.secretAccessKey === b.secretAccessKey && a.sessionToken === b.sessionToken;
}

/** A plan that leaves the bucket to the SDK. */
function sdkPlan(reason: string): BucketPlan {
  return { mode: 'sdk', reason, base: '', pathPrefix: '', host: '', region: '', service: '', staticParams: [] };
}

/** Splits `name=value&...` into encoded pairs, decoding only the names. */
function parseQuery(query: string): Array<[name: string, value: string]> {
  return query.split('&').map((pair) => {
    const at = pair.indexOf('=');
    const rawName = at < 0 ? pair : pair.slice(0, at);
    return [decodeURIComponent(rawName), at < 0 ? '' : pair.slice(at + 1)];
  });
}

/**
 * Learns a bucket's URL layout from one URL the SDK presigned for {@link PROBE_KEY}: everything before the key
 * (scheme, host, path-style bucket or custom-endpoint path), the credential scope and the fixed parameters.
 * Whatever the SDK's endpoint rules decide (virtual-hosted or path-style, dotted buckets, IP endpoints, `aws-global`)
 * is taken as decided.
 */
function planFromProbe(probe: string): BucketPlan {
  // The presigner vouches that its URLs need no JSON escaping (see vouchForSyncUrls): every piece copied from the
  // SDK's URL must be printable ASCII without `"` or `\`, as a percent-encoded URL is.
  if (/[^\x20-\x7e]|["\\]/.test(probe)) return sdkPlan('the SDK URL holds characters outside printable ASCII');
  const match = /^(https?:\/\/([^/?#]+))(\/[^?#]*)\?([^#]*)$/.exec(probe);
  if (!match) return sdkPlan('the SDK URL has an unexpected shape');
  const [, origin, host, path, query] = match as unknown as [string, string, string, string, string];
  if (!path.endsWith(`/${PROBE_KEY}`)) return sdkPlan('the SDK URL path does not end with the key');
  const pathPrefix = path.slice(0, -PROBE_KEY.length);
  const params = parseQuery(query);
  const get = (name: string) => params.find(([n]) => n === name)?.[1];
  if (get('X-Amz-Algorithm') !== SIGV4_ALGORITHM) return sdkPlan('the SDK signs this bucket with another algorithm');
  if (get('X-Amz-SignedHeaders') !== 'host') return sdkPlan('the SDK signs headers other than host');
  const credential = decodeURIComponent(get('X-Amz-Credential') ?? '');
  const scope = credential.split('/');
  if (scope.length < 5 || scope[scope.length - 1] !== 'aws4_request') {
    return sdkPlan('the SDK URL has no usable credential scope');
  }
  const staticParams = params.filter(([name]) => !DYNAMIC_PARAMS.has(name)).map(([name, value]) => [uriEscape(name), value] as const);
  return {
    mode: 'fast',
    base: origin + pathPrefix,
    pathPrefix,
    host,
    region: scope[scope.length - 3] as string,
    service: scope[scope.length - 2] as string,
    staticParams,
  };
}

/** Joins sorted `name=value` parameters, cutting the string at each slot (whose value is filled in per URL). */
function cutQuery(params: Array<readonly [string, string | Slot]>, slots: readonly Slot[]): string[] {
  const sorted = [...params].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const pieces: string[] = [];
  let current = '';
  let slot = 0;
  sorted.forEach(([name, value], index) => {
    current += `${index === 0 ? '' : '&'}${name}=`;
    if (value === slots[slot] && (value === 'date' || value === 'expires' || value === 'signature')) {
      pieces.push(current);
      current = '';
      slot += 1;
    } else {
      current += value;
    }
  });
  if (slot !== slots.length) throw new Error('internal: query slots out of order');
  pieces.push(current);
  return pieces;
}

/**
 * A {@link Presigner} that computes SigV4 query signatures itself with node:crypto, about a hundred times faster than
 * the SDK's `getSignedUrl`, and produces the very same URL, byte for byte, as {@link sdkPresigner} on the same client
 * and clock (no checksum parameters).
 *
 * How: the first URL for a bucket is presigned by the SDK, which settles the endpoint (custom endpoint, path-style or
 * virtual-hosted addressing, dotted bucket names, the signing region); the fast signer then re-signs that URL itself
 * and uses its own path only if the two agree exactly. After that each URL costs one SHA-256 and one HMAC, with the
 * derived signing key cached per credentials, day, region and service. Credentials come from the client's provider,
 * re-read every second and refreshed five minutes before they expire; a session token becomes `X-Amz-Security-Token`.
 *
 * A key holding an unpaired UTF-16 surrogate cannot be put in a URL (nor stored in S3), and one longer than 1,024
 * UTF-8 bytes cannot name an S3 object: presigning either rejects with a `PresignPipelineError` of code `INVALID_KEY`,
 * which the pipeline reports as an item error. A key with a `.` or `..` path segment (`a/../b.pdf`) is refused the
 * same way with `UNSAFE_KEY_PATH`, as by {@link sdkPresigner}: browsers and `fetch` would send another path.
 *
 * @example
 * ```ts
 * import { S3Client } from '@aws-sdk/client-s3';
 * import { fastPresigner } from '@presign-pipeline/core';
 *
 * const presigner = fastPresigner({ client: new S3Client({}) });
 * const url = await presigner.presign({ bucket: 'reports', key: '2024/q1.pdf' }, { expiresIn: 3600 });
 * ```
 */
export function fastPresigner(options: FastPresignerOptions): FastPresigner {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`fastPresigner: "options" must be an object, got ${describe(options)}`);
  }
  const { client, signingDate, fallback = true } = options;
  const config = (client as { config?: { credentials?: unknown } } | undefined)?.config;
  if (typeof client !== 'object' || client === null || typeof config?.credentials !== 'function') {
    throw new TypeError(`fastPresigner: option "client" must be an S3Client, got ${describe(client)}`);
  }
  if (signingDate !== undefined && (!(signingDate instanceof Date) || Number.isNaN(signingDate.getTime()))) {
    throw new TypeError('fastPresigner: option "signingDate" must be a valid Date');
  }
  if (typeof fallback !== 'boolean') {
    throw new TypeError(`fastPresigner: option "fallback" must be a boolean, got ${describe(fallback)}`);
  }
  const credentialsProvider = config.credentials as () => Promise<Identity>;
  const fixedMs = signingDate?.getTime();
  const reference = sdkPresigner(signingDate === undefined ? { client } : { client, signingDate });

  let identity: Identity | undefined;
  let identityCheckedAt = 0;
  let identityRefresh: Promise<Identity> | undefined;
  const plans = new Map<string, BucketPlan>();
  const planning = new Map<string, Promise<BucketPlan>>();
  const signingKeys = new Map<string, Buffer>();
  let lastSecond = Number.NaN;
  let lastDate: AmzDate | undefined;

  /** The cached credentials when they need no refresh yet, else undefined. */
  function freshIdentity(now: number): Identity | undefined {
    if (identity === undefined || now - identityCheckedAt >= RECHECK_MS) return undefined;
    if (identity.expiration !== undefined && identity.expiration.getTime() - now <= REFRESH_WINDOW_MS) return undefined;
    return identity;
  }

  function refreshIdentity(): Promise<Identity> {
    identityRefresh ??= (async () => {
      try {
        const next = await credentialsProvider();
        if (
          typeof next !== 'object' ||
          next === null ||
          typeof next.accessKeyId !== 'string' ||
          typeof next.secretAccessKey !== 'string'
        ) {
          throw new TypeError('fastPresigner: the client credential provider returned no access key id and secret');
        }
        // Keep the same object when nothing that signs changed, so compiled plans stay valid.
        if (identity === undefined || !sameIdentity(identity, next) || identity.expiration?.getTime() !== next.expiration?.getTime()) {
          identity = next;
        }
        identityCheckedAt = Date.now();
        return identity;
      } finally {
        identityRefresh = undefined;
      }
    })();
    return identityRefresh;
  }

  async function currentIdentity(): Promise<Identity> {
    return freshIdentity(Date.now()) ?? refreshIdentity();
  }

  function amzDate(): AmzDate {
    const ms = fixedMs ?? Date.now();
    const second = Math.floor(ms / 1000);
    if (second !== lastSecond || lastDate === undefined) {
      lastDate = formatAmzDate(ms);
      lastSecond = second;
    }
    return lastDate;
  }

  function signingKey(id: Identity, shortDate: string, region: string, service: string): Buffer {
    const cacheKey = `${id.accessKeyId}\n${id.secretAccessKey}\n${shortDate}\n${region}\n${service}`;
    let key = signingKeys.get(cacheKey);
    if (key === undefined) {
      if (signingKeys.size >= MAX_SIGNING_KEYS) signingKeys.clear();
      key = deriveSigningKey(id.secretAccessKey, shortDate, region, service);
      signingKeys.set(cacheKey, key);
    }
    return key;
  }

  function compile(plan: BucketPlan, id: Identity, shortDate: string): Compiled {
    const scope = `${shortDate}/${plan.region}/${plan.service}/aws4_request`;
    const params: Array<readonly [string, string | Slot]> = [
      ...plan.staticParams,
      ['X-Amz-Credential', uriEscape(`${id.accessKeyId}/${scope}`)],
      ['X-Amz-Date', 'date'],
      ['X-Amz-Expires', 'expires'],
    ];
    if (id.sessionToken) params.push(['X-Amz-Security-Token', uriEscape(id.sessionToken)]);
    const [q0, q1, q2] = cutQuery(params, ['date', 'expires']) as [string, string, string];
    const [v0, v1, v2, v3] = cutQuery([...params, ['X-Amz-Signature', 'signature']], ['date', 'expires', 'signature']) as [
      string,
      string,
      string,
      string,
    ];
    return {
      identity: id,
      shortDate,
      canonical: [`GET\n${plan.pathPrefix}`, `\n${q0}`, q1, `${q2}\nhost:${plan.host}\n\nhost\nUNSIGNED-PAYLOAD`],
      url: [plan.base, `?${v0}`, v1, v2, v3],
      signer: scopeSigner(signingKey(id, shortDate, plan.region, plan.service), scope),
      hasher: new CanonicalHasher(),
      tailDate: '',
      tailExpires: 0,
      expires: '',
    };
  }

  function sign(plan: BucketPlan, id: Identity, key: string, expiresIn: number, date: AmzDate): string {
    let compiled = plan.compiled;
    if (compiled === undefined || compiled.identity !== id || compiled.shortDate !== date.short) {
      compiled = compile(plan, id, date.short);
      plan.compiled = compiled;
    }
    const path = encodeS3Key(key);
    const [c0, c1, c2, c3] = compiled.canonical;
    if (compiled.tailDate !== date.long || compiled.tailExpires !== expiresIn) {
      compiled.expires = String(expiresIn);
      compiled.hasher.setTail(c1 + date.long + c2 + compiled.expires + c3);
      compiled.tailDate = date.long;
      compiled.tailExpires = expiresIn;
    }
    const expires = compiled.expires;
    const signature = compiled.signer(date.long, compiled.hasher.hashHex(c0 + path));
    const [u0, u1, u2, u3, u4] = compiled.url;
    return u0 + path + u1 + date.long + u2 + expires + u3 + signature + u4;
  }

  async function makePlan(bucket: string): Promise<BucketPlan> {
    for (let attempt = 0; ; attempt += 1) {
      const id = await refreshIdentity();
      const probe = await reference.presign({ bucket, key: PROBE_KEY }, { expiresIn: PROBE_EXPIRES });
      const plan = planFromProbe(probe);
      if (plan.mode === 'sdk') return plan;
      const probeDate = parseAmzDate(decodeURIComponent(/[?&]X-Amz-Date=([^&]*)/.exec(probe)?.[1] ?? ''));
      if (Number.isNaN(probeDate)) return sdkPlan('the SDK URL has no usable X-Amz-Date');
      const mine = sign(plan, id, PROBE_KEY, PROBE_EXPIRES, formatAmzDate(probeDate));
      if (mine === probe) return plan;
      // The provider may have rotated the credentials between our read and the SDK's: read them again once.
      const accessKeyInProbe = decodeURIComponent(/[?&]X-Amz-Credential=([^&]*)/.exec(probe)?.[1] ?? '').split('/')[0];
      if (attempt === 0 && accessKeyInProbe !== id.accessKeyId) {
        identityCheckedAt = 0;
        continue;
      }
      return sdkPlan('its signature differs from the SDK one for this bucket');
    }
  }

  async function planFor(bucket: string): Promise<BucketPlan> {
    const known = plans.get(bucket);
    if (known !== undefined) return known;
    let pending = planning.get(bucket);
    if (pending === undefined) {
      pending = makePlan(bucket).then(
        (plan) => {
          plans.set(bucket, plan);
          planning.delete(bucket);
          return plan;
        },
        (error: unknown) => {
          // Not cached: a transient failure (credentials, endpoint) is retried by the next call.
          planning.delete(bucket);
          throw error;
        },
      );
      planning.set(bucket, pending);
    }
    return pending;
  }

  function unsupported(bucket: string, plan: BucketPlan): PresignPipelineError {
    return new PresignPipelineError(
      'PRESIGN_FAILED',
      `fastPresigner cannot sign for bucket "${bucket}" (${plan.reason ?? 'unsupported'}) and fallback is off; use sdkPresigner`,
    );
  }

  // presignSync answers only from a verified plan (printable ASCII pieces, an encoded key, digits and hex): its URLs
  // never need escaping in a manifest line.
  return vouchForSyncUrls({
    async presign(object: ObjectRef, presignOptions: PresignOptions): Promise<string> {
      const { bucket, key } = checkObjectRef('presign', object);
      const expiresIn = checkExpiresIn('presign', presignOptions);
      let id = freshIdentity(Date.now()) ?? (await refreshIdentity());
      const plan = plans.get(bucket) ?? (await planFor(bucket));
      if (plan.mode === 'sdk') {
        if (!fallback) throw unsupported(bucket, plan);
        encodeS3Key(key); // the same clear error as the fast path for a key no URL can carry
        return reference.presign({ bucket, key }, { expiresIn });
      }
      // Another call may have refreshed the credentials while this one awaited the plan.
      if (identity !== undefined) id = identity;
      return sign(plan, id, key, expiresIn, amzDate());
    },

    presignSync(object: ObjectRef, presignOptions: PresignOptions): string | undefined {
      const { bucket, key } = checkObjectRef('presignSync', object);
      const expiresIn = checkExpiresIn('presignSync', presignOptions);
      const id = freshIdentity(Date.now());
      if (id === undefined) return undefined;
      const plan = plans.get(bucket);
      if (plan === undefined || plan.mode !== 'fast') return undefined;
      return sign(plan, id, key, expiresIn, amzDate());
    },

    async credentialsExpiration(): Promise<Date | undefined> {
      return (await currentIdentity()).expiration;
    },
  });
}
