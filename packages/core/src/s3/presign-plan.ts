import {
  type AmzDate,
  CanonicalHasher,
  deriveSigningKey,
  encodeS3Key,
  formatAmzDate,
  type ScopeSigner,
  SIGV4_ALGORITHM,
  scopeSigner,
  uriEscape,
} from './sigv4.js';

/** The credentials an S3 client's provider returned. @internal */
export interface Identity {
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

/** The key presigned with the SDK to learn a bucket's URL layout. Any plain key works; the path must end with it. @internal */
export const PROBE_KEY = 'k';
const MAX_SIGNING_KEYS = 32;

/** What the SDK's URL for one bucket taught us, and the pieces compiled from it. @internal */
export interface BucketPlan {
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

/** A plan that leaves the bucket to the SDK. @internal */
export function sdkPlan(reason: string): BucketPlan {
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
 * @internal
 */
export function planFromProbe(probe: string): BucketPlan {
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
  const staticParams = params
    .filter(([name]) => !DYNAMIC_PARAMS.has(name))
    .map(([name, value]) => [uriEscape(name), value] as const);
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

/** Derived SigV4 signing keys by credentials, day, region and service; cleared whole when it reaches its bound. @internal */
export class SigningKeyCache {
  readonly #keys = new Map<string, Buffer>();

  get(id: Identity, shortDate: string, region: string, service: string): Buffer {
    const cacheKey = `${id.accessKeyId}\n${id.secretAccessKey}\n${shortDate}\n${region}\n${service}`;
    let key = this.#keys.get(cacheKey);
    if (key === undefined) {
      if (this.#keys.size >= MAX_SIGNING_KEYS) this.#keys.clear();
      key = deriveSigningKey(id.secretAccessKey, shortDate, region, service);
      this.#keys.set(cacheKey, key);
    }
    return key;
  }
}

function compile(plan: BucketPlan, id: Identity, shortDate: string, keys: SigningKeyCache): Compiled {
  const scope = `${shortDate}/${plan.region}/${plan.service}/aws4_request`;
  const params: Array<readonly [string, string | Slot]> = [
    ...plan.staticParams,
    ['X-Amz-Credential', uriEscape(`${id.accessKeyId}/${scope}`)],
    ['X-Amz-Date', 'date'],
    ['X-Amz-Expires', 'expires'],
  ];
  if (id.sessionToken) params.push(['X-Amz-Security-Token', uriEscape(id.sessionToken)]);
  const [q0, q1, q2] = cutQuery(params, ['date', 'expires']) as [string, string, string];
  const [v0, v1, v2, v3] = cutQuery(
    [...params, ['X-Amz-Signature', 'signature']],
    ['date', 'expires', 'signature'],
  ) as [string, string, string, string];
  return {
    identity: id,
    shortDate,
    canonical: [`GET\n${plan.pathPrefix}`, `\n${q0}`, q1, `${q2}\nhost:${plan.host}\n\nhost\nUNSIGNED-PAYLOAD`],
    url: [plan.base, `?${v0}`, v1, v2, v3],
    signer: scopeSigner(keys.get(id, shortDate, plan.region, plan.service), scope),
    hasher: new CanonicalHasher(),
    tailDate: '',
    tailExpires: 0,
    expires: '',
  };
}

/**
 * Presigns a GET of `key` with a fast plan: one SHA-256 and one HMAC, the rest cut and cached per identity, day and
 * expiry on the plan itself.
 * @internal
 */
export function signWithPlan(
  plan: BucketPlan,
  id: Identity,
  key: string,
  expiresIn: number,
  date: AmzDate,
  keys: SigningKeyCache,
): string {
  let compiled = plan.compiled;
  if (compiled === undefined || compiled.identity !== id || compiled.shortDate !== date.short) {
    compiled = compile(plan, id, date.short, keys);
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

/** The signing time: a fixed one, or now; formatted once per second. @internal */
export class AmzClock {
  readonly #fixedMs: number | undefined;
  #lastSecond = Number.NaN;
  #lastDate: AmzDate | undefined;

  /** @param fixedMs signs as of this time (epoch ms) instead of now. */
  constructor(fixedMs: number | undefined) {
    this.#fixedMs = fixedMs;
  }

  now(): AmzDate {
    const ms = this.#fixedMs ?? Date.now();
    const second = Math.floor(ms / 1000);
    if (second !== this.#lastSecond || this.#lastDate === undefined) {
      this.#lastDate = formatAmzDate(ms);
      this.#lastSecond = second;
    }
    return this.#lastDate;
  }
}
