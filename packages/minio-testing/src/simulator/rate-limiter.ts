/**
 * Request-rate limits per prefix, as S3 applies them (3,500 PUT/COPY/POST/DELETE and 5,500 GET/HEAD requests
 * per second per partitioned prefix). `false` turns a limit off.
 */
export interface S3SimulatorRateLimits {
  /** GET and HEAD requests (ListObjectsV2 included) per second per prefix. Default 5,500. */
  readonly readsPerSecond?: number | false;
  /** PUT, POST and DELETE requests per second per prefix. Default 3,500. */
  readonly writesPerSecond?: number | false;
}

/** S3's documented per-prefix limits. */
export const S3_READS_PER_SECOND_PER_PREFIX = 5_500;
/** S3's documented per-prefix limits. */
export const S3_WRITES_PER_SECOND_PER_PREFIX = 3_500;

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * One token bucket per (prefix, reads or writes): it holds a second's worth of requests and refills at the rate,
 * so a burst up to the rate passes and a sustained excess is refused.
 */
export class PrefixRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly reads: number | false;
  private readonly writes: number | false;

  constructor(
    limits: S3SimulatorRateLimits | false,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.reads =
      limits === false ? false : checkRate(limits.readsPerSecond, S3_READS_PER_SECOND_PER_PREFIX, 'readsPerSecond');
    this.writes =
      limits === false ? false : checkRate(limits.writesPerSecond, S3_WRITES_PER_SECOND_PER_PREFIX, 'writesPerSecond');
  }

  /** Takes one request from the prefix's budget; false when it is spent (answer 503 SlowDown). */
  admit(prefix: string, write: boolean): boolean {
    const rate = write ? this.writes : this.reads;
    if (rate === false) return true;
    const id = `${write ? 'w' : 'r'}${prefix}`;
    const now = this.now();
    let bucket = this.buckets.get(id);
    if (!bucket) {
      bucket = { tokens: rate, at: now };
      this.buckets.set(id, bucket);
    }
    bucket.tokens = Math.min(rate, bucket.tokens + ((now - bucket.at) / 1000) * rate);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}

function checkRate(value: number | false | undefined, fallback: number, field: string): number | false {
  if (value === undefined) return fallback;
  if (value === false) return false;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new TypeError(`rateLimit.${field} must be a positive number or false, got ${String(value)}`);
  }
  return value;
}

/**
 * The prefix a request counts against: a listing's `prefix` parameter; an object's key up to its last `/`.
 * (S3 partitions by key prefix and does not publish where; this is the usual reading.)
 */
export function rateLimitPrefix(key: string | undefined, listPrefix: string | undefined): string {
  if (listPrefix !== undefined) return listPrefix;
  if (!key) return '';
  return key.slice(0, key.lastIndexOf('/') + 1);
}
