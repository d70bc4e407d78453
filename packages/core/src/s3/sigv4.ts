/**
 * The SigV4 arithmetic behind {@link fastPresigner}: key encoding, dates, the derived signing key and the two hashes.
 * Everything here is synchronous and allocation-light; the presigner calls it once per URL.
 * @internal
 */
import * as crypto from 'node:crypto';
import { createHash, createHmac } from 'node:crypto';
import { PresignPipelineError } from '../errors.js';

/** The only SigV4 algorithm the fast path signs with. */
export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';

/** Characters `encodeURIComponent` leaves alone but RFC 3986 (and so SigV4) reserves. */
const EXTRA_RESERVED = /[!'()*]/g;
/** Keys made only of these characters need no encoding at all (the common case, tested first). */
const PLAIN_KEY = /^[A-Za-z0-9\-._~/]*$/;
/** An unpaired UTF-16 surrogate: it has no UTF-8 form, so it cannot appear in a URL (or in an S3 key). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** How each ASCII character appears in an S3 path: unreserved characters and `/` as themselves, the rest `%XX`. */
const ASCII_IN_PATH: readonly string[] = Array.from({ length: 128 }, (_, code) => {
  const character = String.fromCharCode(code);
  return /[A-Za-z0-9\-._~/]/.test(character) ? character : `%${code.toString(16).toUpperCase().padStart(2, '0')}`;
});

function percentEncodeExtra(character: string): string {
  return `%${character.charCodeAt(0).toString(16).toUpperCase()}`;
}

/** RFC 3986 encoding of one query name or value, as SigV4 canonicalises it. */
export function uriEscape(value: string): string {
  return encodeURIComponent(value).replace(EXTRA_RESERVED, percentEncodeExtra);
}

function invalidKey(key: string): PresignPipelineError {
  const match = LONE_SURROGATE.exec(key);
  return new PresignPipelineError(
    'INVALID_KEY',
    `key is not valid Unicode: it holds an unpaired UTF-16 surrogate${match ? ` at index ${match.index}` : ''}, which cannot be encoded in a URL`,
    { key },
  );
}

/**
 * Encodes an S3 key for the URL path the way the SDK does: every `/`-separated segment RFC 3986-encoded (UTF-8,
 * uppercase hex), the slashes kept, nothing normalised (`//`, `.` and `..` stay as they are: they are part of the
 * key). S3 signs this path as is. Throws a `PresignPipelineError` (`INVALID_KEY`) for a key holding an unpaired
 * surrogate, which no URL can carry.
 */
export function encodeS3Key(key: string): string {
  if (PLAIN_KEY.test(key)) return key;
  // One pass: runs of safe ASCII are copied, other ASCII comes from the table, non-ASCII runs go to encodeURIComponent.
  let out = '';
  let runStart = 0;
  const length = key.length;
  for (let i = 0; i < length; i += 1) {
    const code = key.charCodeAt(i);
    if (code < 128) {
      const encoded = ASCII_IN_PATH[code] as string;
      if (encoded.length === 1) continue;
      out += key.slice(runStart, i) + encoded;
      runStart = i + 1;
    } else {
      let end = i + 1;
      while (end < length && key.charCodeAt(end) >= 128) end += 1;
      let encoded: string;
      try {
        encoded = encodeURIComponent(key.slice(i, end));
      } catch {
        throw invalidKey(key);
      }
      out += key.slice(runStart, i) + encoded;
      runStart = end;
      i = end - 1;
    }
  }
  return out + key.slice(runStart);
}

/** The two date forms SigV4 uses: `YYYYMMDDTHHMMSSZ` and `YYYYMMDD`. */
export interface AmzDate {
  /** `YYYYMMDDTHHMMSSZ`. */
  readonly long: string;
  /** `YYYYMMDD`, the credential scope's date. */
  readonly short: string;
}

function pad2(value: number): string {
  return value < 10 ? `0${value}` : String(value);
}

/** Formats epoch milliseconds as SigV4 dates (UTC, whole seconds). */
export function formatAmzDate(epochMs: number): AmzDate {
  const date = new Date(epochMs);
  const year = date.getUTCFullYear();
  if (year < 1000 || year > 9999) throw new RangeError(`signing date must fall in years 1000..9999, got ${year}`);
  const short = `${year}${pad2(date.getUTCMonth() + 1)}${pad2(date.getUTCDate())}`;
  return {
    short,
    long: `${short}T${pad2(date.getUTCHours())}${pad2(date.getUTCMinutes())}${pad2(date.getUTCSeconds())}Z`,
  };
}

/** Parses `YYYYMMDDTHHMMSSZ` back into epoch milliseconds (NaN when malformed). */
export function parseAmzDate(long: string): number {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(long);
  if (!match) return Number.NaN;
  const [, y, mo, d, h, mi, s] = match as unknown as [string, string, string, string, string, string, string];
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
}

/** `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`. */
export function deriveSigningKey(secretAccessKey: string, shortDate: string, region: string, service: string): Buffer {
  const kDate = createHmac('sha256', `AWS4${secretAccessKey}`).update(shortDate, 'utf8').digest();
  const kRegion = createHmac('sha256', kDate).update(region, 'utf8').digest();
  const kService = createHmac('sha256', kRegion).update(service, 'utf8').digest();
  return createHmac('sha256', kService).update('aws4_request', 'utf8').digest();
}

type OneShotHash = (algorithm: string, data: string | Buffer, outputEncoding: 'hex' | 'latin1') => string;
/** `crypto.hash` (Node ≥ 20.12): a one-shot digest without a Hash object, about twice as fast for short inputs. */
const oneShotHash = (crypto as unknown as { hash?: OneShotHash }).hash;

/** Lowercase hex SHA-256 of a UTF-8 string. */
export const sha256Hex: (value: string) => string =
  typeof oneShotHash === 'function'
    ? (value) => oneShotHash('sha256', value, 'hex')
    : (value) => createHash('sha256').update(value, 'utf8').digest('hex');

/** Lowercase hex HMAC-SHA256 of a UTF-8 string. */
export function hmacHex(key: Buffer, value: string): string {
  return createHmac('sha256', key).update(value, 'utf8').digest('hex');
}

type Latin1Write = (this: Buffer, value: string, offset: number) => number;
/** Buffer's own one-byte writer (what `write(value, offset, 'latin1')` ends in), skipping the encoding lookup. */
const latin1WriteMethod = (Buffer.prototype as unknown as { latin1Write?: Latin1Write }).latin1Write;
/** Writes a string of one-byte characters (code points below 256) at `offset`, a byte per character. */
const writeLatin1: (target: Buffer, value: string, offset: number) => void =
  typeof latin1WriteMethod === 'function'
    ? (target, value, offset) => {
        latin1WriteMethod.call(target, value, offset);
      }
    : (target, value, offset) => {
        target.write(value, offset, 'latin1');
      };

const NON_ASCII = /[^\x00-\x7f]/;

/** Bytes of the longest encoded path a key can give: 1,024 UTF-8 bytes, each at most `%XX`. */
const MAX_ENCODED_KEY = 3 * 1024;

/**
 * Hashes canonical requests that differ only in their head: `head + tail`, where the tail (the rest of the query, the
 * host header, the signed headers and the payload hash) is the same for every URL signed in one second with one
 * expiry. The tail is written once, at the end of a buffer; each head (method and encoded path) is written right
 * before it, and the hash reads the bytes in place. About 1.5 times as fast as hashing the concatenated string, which
 * V8 would flatten and Node would then encode again, for a canonical request that a session token makes 1.4 KB long.
 * Heads and tails must be ASCII (an encoded path is); a non-ASCII tail is hashed as a string. Not reentrant.
 */
export class CanonicalHasher {
  private tail = '';
  private bytes: Buffer | undefined;
  private tailStart = 0;

  /** Sets the tail that the next heads are hashed with. */
  setTail(tail: string): void {
    this.tail = tail;
    if (NON_ASCII.test(tail)) {
      this.bytes = undefined;
      return;
    }
    const size = MAX_ENCODED_KEY + 256 + tail.length;
    if (this.bytes === undefined || this.bytes.length !== size) this.bytes = Buffer.allocUnsafe(size);
    this.tailStart = size - tail.length;
    writeLatin1(this.bytes, tail, this.tailStart);
  }

  /** Lowercase hex SHA-256 of `head + tail`, `head` being ASCII. */
  hashHex(head: string): string {
    const bytes = this.bytes;
    const start = this.tailStart - head.length;
    if (bytes === undefined || start < 0 || typeof oneShotHash !== 'function') return sha256Hex(head + this.tail);
    writeLatin1(bytes, head, start);
    return oneShotHash('sha256', bytes.subarray(start), 'hex');
  }
}

/** Signs the string to sign of one credential scope: `(longDate, canonicalRequestHashHex) => signatureHex`. */
export type ScopeSigner = (longDate: string, canonicalHashHex: string) => string;

/**
 * Makes the signer of one credential scope. The string to sign, `AWS4-HMAC-SHA256\n<date>\n<scope>\n<hash>`, has the
 * same length for every URL of the scope, so the HMAC's two blocks (key XOR ipad, then the message; key XOR opad, then
 * the inner digest) live in two buffers prepared once, and each signature is two one-shot SHA-256 digests over them:
 * about twice as fast as a fresh `createHmac` per URL, whose setup dominates for short messages. Where `crypto.hash`
 * is missing (Node < 20.12) it is a plain `createHmac`. Not reentrant, which a synchronous caller never needs.
 */
export function scopeSigner(signingKey: Buffer, scope: string): ScopeSigner {
  const head = `${SIGV4_ALGORITHM}\n`;
  const middle = `\n${scope}\n`;
  if (typeof oneShotHash !== 'function' || signingKey.length > 64) {
    return (longDate, hashHex) => hmacHex(signingKey, head + longDate + middle + hashHex);
  }
  const hash = oneShotHash;
  const dateAt = 64 + head.length;
  const hashAt = dateAt + 16 + Buffer.byteLength(middle, 'utf8');
  const inner = Buffer.alloc(hashAt + 64, 0x36);
  const outer = Buffer.alloc(64 + 32, 0x5c);
  for (let i = 0; i < signingKey.length; i += 1) {
    inner[i] = 0x36 ^ (signingKey[i] as number);
    outer[i] = 0x5c ^ (signingKey[i] as number);
  }
  inner.write(head, 64, 'latin1');
  inner.write(middle, dateAt + 16, 'utf8');
  // The date changes once a second: it is written only then.
  let writtenDate = '';
  return (longDate, hashHex) => {
    if (longDate !== writtenDate) {
      inner.write(longDate, dateAt, 'latin1');
      writtenDate = longDate;
    }
    writeLatin1(inner, hashHex, hashAt);
    writeLatin1(outer, hash('sha256', inner, 'latin1'), 64);
    return hash('sha256', outer, 'hex');
  };
}
