import type { S3Client } from '@aws-sdk/client-s3';
import { optionRangeError, optionTypeError, PresignPipelineError } from '../errors.js';
import { vouchForSyncUrls } from '../manifest/jsonl.js';
import type { ObjectRef, Presigner, PresignOptions } from '../types.js';
import { IdentityCache } from './presign-identity.js';
import {
  AmzClock,
  type BucketPlan,
  type Identity,
  PROBE_KEY,
  planFromProbe,
  SigningKeyCache,
  sdkPlan,
  signWithPlan,
} from './presign-plan.js';
import { sdkPresigner } from './sdk-presigner.js';
import { encodeS3Key, formatAmzDate, parseAmzDate } from './sigv4.js';
import { assertKeyLength, assertSafeKeyPath } from './validate.js';
import { typeOfValue } from '../validate.js';

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

const PROBE_EXPIRES = 900;

function owner(method: string): string {
  return `fastPresigner.${method}`;
}

function checkObjectRef(method: string, object: unknown): ObjectRef {
  if (typeof object !== 'object' || object === null) {
    throw optionTypeError(
      `${owner(method)}: "object" must be an object with bucket and key, got ${typeOfValue(object)}`,
    );
  }
  const { bucket, key } = object as Record<string, unknown>;
  if (typeof bucket !== 'string' || bucket.length === 0) {
    throw optionTypeError(`${owner(method)}: "bucket" must be a non-empty string, got ${typeOfValue(bucket)}`);
  }
  if (typeof key !== 'string' || key.length === 0) {
    throw optionTypeError(`${owner(method)}: "key" must be a non-empty string, got ${typeOfValue(key)}`);
  }
  assertKeyLength(key);
  assertSafeKeyPath(key);
  return object as ObjectRef;
}

function checkExpiresIn(method: string, options: unknown): number {
  if (typeof options !== 'object' || options === null) {
    throw optionTypeError(`${owner(method)}: "options" must be an object with expiresIn, got ${typeOfValue(options)}`);
  }
  const { expiresIn } = options as Record<string, unknown>;
  if (typeof expiresIn !== 'number' || Number.isNaN(expiresIn)) {
    throw optionTypeError(
      `${owner(method)}: "expiresIn" must be an integer in 1..604800, got ${typeOfValue(expiresIn)}`,
    );
  }
  if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > 604_800) {
    throw optionRangeError(`${owner(method)}: "expiresIn" must be an integer in 1..604800, got ${expiresIn}`);
  }
  return expiresIn;
}

/** The options of {@link fastPresigner}, checked. */
interface CheckedOptions {
  readonly client: S3Client;
  readonly signingDate: Date | undefined;
  readonly fallback: boolean;
  readonly credentialsProvider: () => Promise<Identity>;
}

function checkOptions(options: FastPresignerOptions): CheckedOptions {
  if (typeof options !== 'object' || options === null) {
    throw optionTypeError(`fastPresigner: "options" must be an object, got ${typeOfValue(options)}`);
  }
  const { client, signingDate, fallback = true } = options;
  const config = (client as { config?: { credentials?: unknown } } | undefined)?.config;
  if (typeof client !== 'object' || client === null || typeof config?.credentials !== 'function') {
    throw optionTypeError(`fastPresigner: option "client" must be an S3Client, got ${typeOfValue(client)}`);
  }
  if (signingDate !== undefined && (!(signingDate instanceof Date) || Number.isNaN(signingDate.getTime()))) {
    throw optionTypeError('fastPresigner: option "signingDate" must be a valid Date');
  }
  if (typeof fallback !== 'boolean') {
    throw optionTypeError(`fastPresigner: option "fallback" must be a boolean, got ${typeOfValue(fallback)}`);
  }
  return { client, signingDate, fallback, credentialsProvider: config.credentials as () => Promise<Identity> };
}

/**
 * The plan of each bucket, learned once from a URL the SDK presigned and verified by re-signing it; concurrent calls
 * for one bucket share one probe, and a failed probe is not cached.
 */
class BucketPlanner {
  readonly #plans = new Map<string, BucketPlan>();
  readonly #planning = new Map<string, Promise<BucketPlan>>();
  readonly #reference: Presigner;
  readonly #identities: IdentityCache;
  readonly #keys: SigningKeyCache;

  constructor(reference: Presigner, identities: IdentityCache, keys: SigningKeyCache) {
    this.#reference = reference;
    this.#identities = identities;
    this.#keys = keys;
  }

  /** The bucket's plan if it is already known. */
  known(bucket: string): BucketPlan | undefined {
    return this.#plans.get(bucket);
  }

  async planFor(bucket: string): Promise<BucketPlan> {
    const known = this.#plans.get(bucket);
    if (known !== undefined) return known;
    let pending = this.#planning.get(bucket);
    if (pending === undefined) {
      pending = this.#makePlan(bucket).then(
        (plan) => {
          this.#plans.set(bucket, plan);
          this.#planning.delete(bucket);
          return plan;
        },
        (error: unknown) => {
          // Not cached: a transient failure (credentials, endpoint) is retried by the next call.
          this.#planning.delete(bucket);
          throw error;
        },
      );
      this.#planning.set(bucket, pending);
    }
    return pending;
  }

  async #makePlan(bucket: string): Promise<BucketPlan> {
    for (let attempt = 0; ; attempt += 1) {
      const id = await this.#identities.refresh();
      const probe = await this.#reference.presign({ bucket, key: PROBE_KEY }, { expiresIn: PROBE_EXPIRES });
      const plan = planFromProbe(probe);
      if (plan.mode === 'sdk') return plan;
      const probeDate = parseAmzDate(decodeURIComponent(/[?&]X-Amz-Date=([^&]*)/.exec(probe)?.[1] ?? ''));
      if (Number.isNaN(probeDate)) return sdkPlan('the SDK URL has no usable X-Amz-Date');
      const mine = signWithPlan(plan, id, PROBE_KEY, PROBE_EXPIRES, formatAmzDate(probeDate), this.#keys);
      if (mine === probe) return plan;
      // The provider may have rotated the credentials between our read and the SDK's: read them again once.
      const accessKeyInProbe = decodeURIComponent(/[?&]X-Amz-Credential=([^&]*)/.exec(probe)?.[1] ?? '').split('/')[0];
      if (attempt === 0 && accessKeyInProbe !== id.accessKeyId) {
        this.#identities.invalidate();
        continue;
      }
      return sdkPlan('its signature differs from the SDK one for this bucket');
    }
  }
}

function unsupported(bucket: string, plan: BucketPlan): PresignPipelineError {
  return new PresignPipelineError(
    'PRESIGN_FAILED',
    `fastPresigner cannot sign for bucket "${bucket}" (${plan.reason ?? 'unsupported'}) and fallback is off; use sdkPresigner`,
  );
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
  const { client, signingDate, fallback, credentialsProvider } = checkOptions(options);
  const reference = sdkPresigner(signingDate === undefined ? { client } : { client, signingDate });
  const identities = new IdentityCache(credentialsProvider);
  const keys = new SigningKeyCache();
  const planner = new BucketPlanner(reference, identities, keys);
  const clock = new AmzClock(signingDate?.getTime());

  // presignSync answers only from a verified plan (printable ASCII pieces, an encoded key, digits and hex): its URLs
  // never need escaping in a manifest line.
  return vouchForSyncUrls({
    async presign(object: ObjectRef, presignOptions: PresignOptions): Promise<string> {
      const { bucket, key } = checkObjectRef('presign', object);
      const expiresIn = checkExpiresIn('presign', presignOptions);
      let id = identities.fresh(Date.now()) ?? (await identities.refresh());
      const plan = planner.known(bucket) ?? (await planner.planFor(bucket));
      if (plan.mode === 'sdk') {
        if (!fallback) throw unsupported(bucket, plan);
        encodeS3Key(key); // the same clear error as the fast path for a key no URL can carry
        return reference.presign({ bucket, key }, { expiresIn });
      }
      // Another call may have refreshed the credentials while this one awaited the plan.
      if (identities.latest !== undefined) id = identities.latest;
      return signWithPlan(plan, id, key, expiresIn, clock.now(), keys);
    },

    presignSync(object: ObjectRef, presignOptions: PresignOptions): string | undefined {
      const { bucket, key } = checkObjectRef('presignSync', object);
      const expiresIn = checkExpiresIn('presignSync', presignOptions);
      const id = identities.fresh(Date.now());
      if (id === undefined) return undefined;
      const plan = planner.known(bucket);
      if (plan === undefined || plan.mode !== 'fast') return undefined;
      return signWithPlan(plan, id, key, expiresIn, clock.now(), keys);
    },

    async credentialsExpiration(): Promise<Date | undefined> {
      return (await identities.current()).expiration;
    },
  });
}
