import type { ManifestEntry } from '../types.js';

/**
 * Characters JSON.stringify would escape in a string: quote, backslash, controls, and (any) surrogates, since lone
 * ones get escaped. Strings without them, such as every presigned URL, are quoted directly: same output, less work.
 * @internal
 */
export const NEEDS_ESCAPING = /["\\\u0000-\u001f\ud800-\udfff]/;

/** `JSON.stringify(value)` for a string, skipping the escaping pass when nothing needs escaping. @internal */
export function quoteJson(value: string): string {
  return NEEDS_ESCAPING.test(value) ? JSON.stringify(value) : `"${value}"`;
}

/**
 * One manifest line, `{"key":…,"url":…}` plus a newline: byte for byte what `JSON.stringify({ key, url })` gives,
 * built without the intermediate object.
 * @internal
 */
export function jsonlLine(entry: ManifestEntry): string {
  return `{"key":${quoteJson(entry.key)},"url":${quoteJson(entry.url)}}\n`;
}

/**
 * Presigners that vouch for their synchronous URLs: every URL their `presignSync` returns is ASCII with nothing JSON
 * escapes (fastPresigner builds its URLs from percent-encoded pieces, checked once per bucket). Held by identity, so a
 * copy or a wrapper of such a presigner vouches for nothing.
 */
const escapeFreePresigners = new WeakSet<object>();
/** Batches the pipeline built only from vouched-for URLs (see {@link markEscapeFreeBatch}). */
const escapeFreeBatches = new WeakSet<readonly ManifestEntry[]>();

/** Registers a presigner whose `presignSync` URLs never need JSON escaping. @internal */
export function vouchForSyncUrls<T extends object>(presigner: T): T {
  escapeFreePresigners.add(presigner);
  return presigner;
}

/** Whether `presigner` was registered with {@link vouchForSyncUrls}. @internal */
export function vouchesForSyncUrls(presigner: object): boolean {
  return escapeFreePresigners.has(presigner);
}

/**
 * Marks a batch whose every URL came from a vouching presigner's `presignSync`, so the manifest writers of this package
 * skip scanning those URLs for characters to escape (about a microsecond per 1.7 KB URL). Keys are always checked.
 * @internal
 */
export function markEscapeFreeBatch(batch: readonly ManifestEntry[]): void {
  escapeFreeBatches.add(batch);
}

/** Whether the pipeline marked `batch` with {@link markEscapeFreeBatch}. @internal */
export function isEscapeFreeBatch(batch: readonly ManifestEntry[]): boolean {
  return escapeFreeBatches.has(batch);
}

// Line layout: {"key":<key>,"url":<url>}\n, each string JSON-quoted.
const KEY_OPEN = [0x7b, 0x22, 0x6b, 0x65, 0x79, 0x22, 0x3a]; // {"key":
const URL_OPEN = [0x2c, 0x22, 0x75, 0x72, 0x6c, 0x22, 0x3a]; // ,"url":
const QUOTE = 0x22;
/** Bytes of a line besides its two strings: separators, braces, newline and four quotes. */
const FIXED_BYTES = KEY_OPEN.length + URL_OPEN.length + 2 + 4;
/** Bytes a UTF-16 code unit may take once written as UTF-8 (a surrogate pair: 4 bytes for 2 units). */
const MAX_UTF8_PER_UNIT = 3;

const LOW = 0x01010101;
const HIGH = 0x80808080;
const SPACES = 0x20202020;
const QUOTES = 0x22222222;
const BACKSLASHES = 0x5c5c5c5c;

/**
 * Whether the ASCII bytes `bytes[start..end)` hold a byte JSON escapes: a control (< 0x20), `"` or `\`. Four bytes at
 * a time (the classic "has a byte below n / equal to c" word tricks, exact for ASCII), since a regular expression
 * over a 1.7 KB presigned URL costs about five times as much.
 */
function hasEscapable(bytes: Uint8Array, words: Uint32Array, start: number, end: number): boolean {
  let i = start;
  for (; i < end && (i & 3) !== 0; i++) if (escapableByte(bytes[i] as number)) return true;
  const lastWord = end >>> 2;
  for (let w = i >>> 2; w < lastWord; w++) {
    const x = words[w] as number;
    const q = x ^ QUOTES;
    const b = x ^ BACKSLASHES;
    if ((x - SPACES) & ~x & HIGH || (q - LOW) & ~q & HIGH || (b - LOW) & ~b & HIGH) return true;
  }
  for (i = Math.max(i, lastWord << 2); i < end; i++) if (escapableByte(bytes[i] as number)) return true;
  return false;
}

function escapableByte(byte: number): boolean {
  return byte < 0x20 || byte === QUOTE || byte === 0x5c;
}

/**
 * A byte buffer that manifest lines are encoded into directly, with no intermediate string per line. Each string is
 * written as UTF-8 first and checked afterwards: when it was pure ASCII (bytes written = code units) the bytes are
 * scanned for what JSON escapes, a word at a time; otherwise the rare non-ASCII string is tested with
 * {@link NEEDS_ESCAPING}. Only a string that needs escaping pays for `JSON.stringify`. The bytes are exactly those of
 * `JSON.stringify({ key, url }) + '\n'` per entry.
 * @internal
 */
export class LineBuffer {
  /** The bytes; `bytes.subarray(0, length)` is what has been encoded. */
  readonly bytes: Buffer;
  /** Bytes encoded so far. */
  length = 0;
  private readonly words: Uint32Array;

  /** @param capacity bytes, rounded up to a multiple of four. */
  constructor(capacity: number) {
    const memory = new ArrayBuffer(Math.ceil(capacity / 4) * 4);
    this.bytes = Buffer.from(memory);
    this.words = new Uint32Array(memory);
  }

  /**
   * Appends the entry's line and returns true, or returns false with nothing appended when the line might not fit
   * in what is left (an empty buffer that still refuses it: see {@link writeLines}). `urlEscapeFree` skips the scan
   * of an ASCII url (see {@link markEscapeFreeBatch}).
   */
  append(key: string, url: string, urlEscapeFree = false): boolean {
    const start = this.length;
    if (start + FIXED_BYTES + MAX_UTF8_PER_UNIT * (key.length + url.length) > this.bytes.length) return false;
    const bytes = this.bytes;
    let at = start;
    for (let j = 0; j < KEY_OPEN.length; j++) bytes[at++] = KEY_OPEN[j] as number;
    // After the key: the url part, whatever its form, and the line's end.
    at = this.putString(key, at, URL_OPEN.length + 4 + MAX_UTF8_PER_UNIT * url.length, false);
    if (at < 0) return false;
    for (let j = 0; j < URL_OPEN.length; j++) bytes[at++] = URL_OPEN[j] as number;
    at = this.putString(url, at, 2, urlEscapeFree);
    if (at < 0) return false;
    bytes[at++] = 0x7d; // }
    bytes[at++] = 0x0a; // \n
    this.length = at;
    return true;
  }

  /**
   * Writes `value` JSON-quoted at `at`; returns where it ends, or -1 when its escaped form does not fit with `after`
   * more bytes behind it.
   */
  private putString(value: string, at: number, after: number, escapeFree: boolean): number {
    const bytes = this.bytes;
    bytes[at] = QUOTE;
    const start = at + 1;
    const written = bytes.write(value, start);
    const clean =
      written === value.length
        ? escapeFree || !hasEscapable(bytes, this.words, start, start + written)
        : !NEEDS_ESCAPING.test(value);
    if (clean) {
      bytes[start + written] = QUOTE;
      return start + written + 1;
    }
    const quoted = JSON.stringify(value);
    if (at + MAX_UTF8_PER_UNIT * quoted.length + after > bytes.length) return -1;
    return at + bytes.write(quoted, at);
  }
}

/** One line as its own buffer, for a line larger than any {@link LineBuffer} (a multi-megabyte URL?). */
function encodeLine(entry: ManifestEntry): Buffer {
  return Buffer.from(jsonlLine(entry), 'utf8');
}

/** Where {@link writeLines} puts a manifest writer's lines. @internal */
export interface LineSink {
  /** The buffer lines go into now; after `handOver`, an empty one. */
  buffer(): LineBuffer;
  /** Passes the current buffer's lines on, waiting while the destination is full. */
  handOver(): Promise<void>;
  /** Writes one line too large for any buffer, after everything handed over. */
  writeLarge(line: Buffer): Promise<void>;
}

/**
 * Encodes a batch into a sink's buffers: each line into the current buffer while it fits, the buffer handed over when
 * it is full, and a line larger than a whole buffer written on its own. Every entry is checked before any is encoded,
 * so a bad one leaves nothing half-written; a batch the pipeline marked escape-free skips the URL scan.
 * @internal
 */
export async function writeLines(owner: string, entries: readonly ManifestEntry[], sink: LineSink): Promise<void> {
  for (const entry of entries) {
    if (typeof entry?.key !== 'string' || typeof entry.url !== 'string') {
      throw new TypeError(`${owner}: every entry needs a string key and a string url`);
    }
  }
  const escapeFree = isEscapeFreeBatch(entries);
  let buffer = sink.buffer();
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as ManifestEntry;
    if (buffer.append(entry.key, entry.url, escapeFree)) continue;
    await sink.handOver();
    buffer = sink.buffer();
    if (buffer.append(entry.key, entry.url, escapeFree)) continue;
    await sink.writeLarge(encodeLine(entry));
  }
}
