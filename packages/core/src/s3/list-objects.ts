/**
 * ListObjectsV2 requests whose responses are read by a lean parser instead of the SDK's generic XML deserializer.
 *
 * The SDK builds a full object tree for every response, a character at a time, then maps it through the operation
 * schema: about 20 µs of CPU per listed key, so 20+ ms per 1000-key page, comparable to S3's own page latency. Once
 * partitions overlap the round trips, that CPU (on the one event loop) is what limits listing. The lean parser reads
 * only what a key source needs (each object's key and size, common prefixes, truncation and the continuation token)
 * with `indexOf` scans, and produces exactly what the SDK would, or declines: on anything outside the plain shape S3
 * sends (CDATA, comments, carriage returns, unknown or astral character references, unexpected structure) it hands
 * the untouched bytes back to the SDK. Requests, signing, retries and errors stay the SDK's.
 *
 * The key sources ask for `EncodingType=url` on every request: XML 1.0 cannot carry most control characters and
 * reads a carriage return as a line feed, so a plain listing returns some keys altered. Whichever reader took the
 * body, {@link decodeListing} then decodes the keys and common prefixes, when (and only when) the response says it
 * encoded them: some S3-compatible servers ignore the parameter and send keys as they are. `StartAfter`, `Prefix`
 * and `Delimiter` go out as they are: the parameter changes only how the response is written.
 * @internal
 */
import { isAscii } from 'node:buffer';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { ListObjectsV2CommandInput, ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import { PresignPipelineError, isPresignPipelineError } from '../errors.js';
import { checkListAnswer, checkListBody, malformedListing } from './list-answer.js';
import type { ListAnswerFields, ListRequest } from './list-answer.js';

/** What the lean parser reads from a ListObjectsV2 response body. @internal */
export interface LeanListing {
  /** The bucket listed, as the answer names it. */
  readonly Name?: string;
  /** The prefix listed, as the answer echoes it (URL-encoded with `EncodingType=url`). */
  readonly Prefix?: string;
  /** The objects listed: key and size only. */
  readonly Contents?: { Key: string; Size?: number }[];
  /** The common prefixes (with `Delimiter`). */
  readonly CommonPrefixes?: { Prefix: string }[];
  /** Whether more pages follow. */
  readonly IsTruncated?: boolean;
  /** The token of the next page. */
  readonly NextContinuationToken?: string;
  /** `url` when the server encoded keys and prefixes (as asked); absent when it sent them as they are. */
  readonly EncodingType?: string;
}

/** Thrown inside the parser when the body is not in the plain shape it reads; caught at the top. */
const DECLINE: unique symbol = Symbol('decline');

const PLAIN_TAG = /^[A-Za-z_][\w.:-]*$/;
const ROOT_TAG = /^ListBucketResult(?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*$/;
const DIGITS = /^\d+$/;
const HEX_REFERENCE = /^#x[0-9a-fA-F]{1,6}$/;
const DECIMAL_REFERENCE = /^#\d{1,7}$/;
const NAMED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** The element names of a ListObjectsV2 answer, matched in place by {@link knownTag}. */
const KNOWN_TAGS = [
  'Key',
  'Size',
  'ETag',
  'LastModified',
  'StorageClass',
  'ChecksumAlgorithm',
  'ChecksumType',
  'Owner',
  'ID',
  'DisplayName',
  'RestoreStatus',
  'Contents',
  'CommonPrefixes',
  'Prefix',
];

/** The known name that `x[start, start + length)` spells, or undefined (then the caller slices and checks it). */
function knownTag(x: string, start: number, length: number): string | undefined {
  for (const name of KNOWN_TAGS) if (name.length === length && x.startsWith(name, start)) return name;
  return undefined;
}

class ListBodyReader {
  private i = 0;
  /** Whether the tag {@link open} read last was `<name/>`. */
  private openedEmpty = false;

  /**
   * @param x the body as text.
   * @param bytes the same body as bytes, when it is all ASCII (each character at the index of its byte): the text
   *   the reader keeps is copied out of these instead of sliced from `x` (see {@link parseListBody}).
   */
  constructor(
    private readonly x: string,
    private readonly bytes: Buffer | undefined,
  ) {}

  read(): LeanListing {
    this.skipSpace();
    this.skipDeclaration();
    if (this.open(true) !== 'ListBucketResult' || this.openedEmpty) throw DECLINE;
    return this.listBucketResult();
  }

  /** Skips an `<?xml …?>` declaration, if there is one. */
  private skipDeclaration(): void {
    const x = this.x;
    if (x.startsWith('<?', this.i)) {
      const end = x.indexOf('?>', this.i);
      if (end === -1) throw DECLINE;
      this.i = end + 2;
      this.skipSpace();
    }
  }

  /** The children of `<ListBucketResult>`; a field that comes twice declines the body. */
  private listBucketResult(): LeanListing {
    const contents: { Key: string; Size?: number }[] = [];
    const commonPrefixes: { Prefix: string }[] = [];
    let isTruncated: boolean | undefined;
    let nextToken: string | undefined;
    let encodingType: string | undefined;
    let bucketName: string | undefined;
    let prefix: string | undefined;
    this.children('ListBucketResult', (name, empty) => {
      switch (name) {
        case 'Name':
          if (bucketName !== undefined) throw DECLINE;
          bucketName = this.text(name, empty);
          return;
        case 'Prefix':
          if (prefix !== undefined) throw DECLINE;
          prefix = this.text(name, empty);
          return;
        case 'Contents':
          contents.push(this.object(empty));
          return;
        case 'CommonPrefixes':
          commonPrefixes.push(this.commonPrefix(empty));
          return;
        case 'IsTruncated': {
          if (isTruncated !== undefined) throw DECLINE;
          const text = this.text(name, empty);
          if (text !== 'true' && text !== 'false') throw DECLINE;
          isTruncated = text === 'true';
          return;
        }
        case 'NextContinuationToken':
          if (nextToken !== undefined) throw DECLINE;
          nextToken = this.text(name, empty);
          return;
        case 'EncodingType':
          if (encodingType !== undefined) throw DECLINE;
          encodingType = this.text(name, empty);
          return;
        default:
          this.skip(name, empty);
      }
    });
    return {
      ...(bucketName === undefined ? {} : { Name: bucketName }),
      ...(prefix === undefined ? {} : { Prefix: prefix }),
      ...(contents.length > 0 ? { Contents: contents } : {}),
      ...(commonPrefixes.length > 0 ? { CommonPrefixes: commonPrefixes } : {}),
      ...(isTruncated === undefined ? {} : { IsTruncated: isTruncated }),
      ...(nextToken === undefined ? {} : { NextContinuationToken: nextToken }),
      ...(encodingType === undefined ? {} : { EncodingType: encodingType }),
    };
  }

  // A page holds a thousand of these: this path allocates only the key and the object it returns (no closure, no
  // tag names, no size text), since every young-generation collection that runs while a page is being read moves
  // what the page holds so far to the old generation.
  private object(empty: boolean): { Key: string; Size?: number } {
    if (empty) throw DECLINE;
    let key: string | undefined;
    let size: number | undefined;
    for (let name = this.nextChild('Contents'); name !== undefined; name = this.nextChild('Contents')) {
      const childEmpty = this.openedEmpty;
      if (name === 'Key') {
        if (key !== undefined) throw DECLINE;
        key = this.text(name, childEmpty);
      } else if (name === 'Size') {
        if (size !== undefined) throw DECLINE;
        size = this.size(childEmpty);
      } else {
        this.skip(name, childEmpty);
      }
    }
    if (key === undefined) throw DECLINE;
    return size === undefined ? { Key: key } : { Key: key, Size: size };
  }

  /** Reads a `<Size>`'s digits as a number; text in any other form goes through {@link text}, as before. */
  private size(empty: boolean): number {
    const x = this.x;
    const start = this.i;
    let value = 0;
    let i = start;
    for (; i < x.length; i++) {
      const c = x.charCodeAt(i);
      if (c < 0x30 || c > 0x39) break;
      value = value * 10 + (c - 0x30);
    }
    // Up to 15 digits the sum is exact; a longer number, or text with anything else, is read as text.
    if (empty || i === start || i - start > 15 || !x.startsWith('</', i)) {
      const text = this.text('Size', empty);
      if (!DIGITS.test(text)) throw DECLINE;
      return Number(text);
    }
    this.i = i;
    this.close('Size');
    return value;
  }

  private commonPrefix(empty: boolean): { Prefix: string } {
    if (empty) throw DECLINE;
    let prefix: string | undefined;
    this.children('CommonPrefixes', (name, childEmpty) => {
      if (name !== 'Prefix' || prefix !== undefined) throw DECLINE;
      prefix = this.text(name, childEmpty);
    });
    if (prefix === undefined) throw DECLINE;
    return { Prefix: prefix };
  }

  private skipSpace(): void {
    const x = this.x;
    while (this.i < x.length) {
      const c = x.charCodeAt(this.i);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a) break;
      this.i++;
    }
  }

  /**
   * Reads an opening tag at the cursor, `<name>` or `<name/>` (attributes only on the root), and returns its name;
   * {@link openedEmpty} says which form it was. The names S3 sends are matched in place rather than sliced out.
   */
  private open(root = false): string {
    const x = this.x;
    if (x.charCodeAt(this.i) !== 0x3c) throw DECLINE;
    const end = x.indexOf('>', this.i);
    if (end === -1) throw DECLINE;
    const start = this.i + 1;
    this.i = end + 1;
    const empty = x.charCodeAt(end - 1) === 0x2f;
    this.openedEmpty = empty;
    const length = (empty ? end - 1 : end) - start;
    if (!root) {
      const known = knownTag(x, start, length);
      if (known !== undefined) return known;
    }
    const inner = x.slice(start, start + length);
    if (root) {
      if (!ROOT_TAG.test(inner)) throw DECLINE;
      return 'ListBucketResult';
    }
    if (!PLAIN_TAG.test(inner)) throw DECLINE;
    return inner;
  }

  /** Reads `</name>` at the cursor. */
  private close(name: string): void {
    const x = this.x;
    if (!x.startsWith('</', this.i)) throw DECLINE;
    const end = x.indexOf('>', this.i);
    if (end === -1) throw DECLINE;
    // `</name>` as S3 writes it is matched in place; anything else (spaces inside the tag) the way it always was.
    const exact = end === this.i + 2 + name.length && x.startsWith(name, this.i + 2);
    if (!exact && x.slice(this.i + 2, end).trim() !== name) throw DECLINE;
    this.i = end + 1;
  }

  /** Reads the child elements of `parent` up to its closing tag; only line-broken whitespace may sit between them. */
  private children(parent: string, onChild: (name: string, empty: boolean) => void): void {
    for (let name = this.nextChild(parent); name !== undefined; name = this.nextChild(parent)) {
      onChild(name, this.openedEmpty);
    }
  }

  /**
   * Reads the next child element's opening tag and returns its name ({@link openedEmpty} tells `<name/>`), or reads
   * `</parent>` and returns undefined.
   */
  private nextChild(parent: string): string | undefined {
    const x = this.x;
    const next = x.indexOf('<', this.i);
    if (next === -1) throw DECLINE;
    // Whitespace between elements is dropped by the SDK only when it holds a line break; other text is kept as
    // mixed content, which changes how the SDK maps the element: leave such bodies to it.
    if (next > this.i) {
      let lineBreak = false;
      for (let j = this.i; j < next; j++) {
        const c = x.charCodeAt(j);
        if (c === 0x0a) lineBreak = true;
        else if (c !== 0x20 && c !== 0x09) throw DECLINE;
      }
      if (!lineBreak) throw DECLINE;
    }
    this.i = next;
    if (x.startsWith('</', next)) {
      this.close(parent);
      return undefined;
    }
    return this.open();
  }

  /** Reads the text of a leaf element, decoded as the SDK decodes it. */
  private text(name: string, empty: boolean): string {
    if (empty) return '';
    const x = this.x;
    const end = x.indexOf('<', this.i);
    if (end === -1 || !x.startsWith('</', end)) throw DECLINE;
    const raw = this.bytes === undefined ? x.slice(this.i, end) : this.bytes.toString('latin1', this.i, end);
    this.i = end;
    this.close(name);
    const text = raw.includes('&') ? decodeReferences(raw) : raw;
    // The SDK reads text that is only whitespace with a line break as empty.
    return text.includes('\n') && text.trim() === '' ? '' : text;
  }

  /** Skips an element we do not read, nested or not. */
  private skip(name: string, empty: boolean): void {
    if (empty) return;
    const x = this.x;
    const next = x.indexOf('<', this.i);
    if (next === -1) throw DECLINE;
    if (x.startsWith('</', next)) {
      this.i = next;
      this.close(name);
      return;
    }
    this.children(name, (child, childEmpty) => this.skip(child, childEmpty));
  }
}

/** Decodes the five XML entities and character references up to U+FFFF; declines anything else. */
function decodeReferences(raw: string): string {
  let out = '';
  let from = 0;
  for (;;) {
    const amp = raw.indexOf('&', from);
    if (amp === -1) break;
    const semi = raw.indexOf(';', amp);
    if (semi === -1) throw DECLINE;
    const name = raw.slice(amp + 1, semi);
    let decoded = NAMED[name];
    if (decoded === undefined) {
      let code: number;
      if (HEX_REFERENCE.test(name)) code = Number.parseInt(name.slice(2), 16);
      else if (DECIMAL_REFERENCE.test(name)) code = Number.parseInt(name.slice(1), 10);
      else throw DECLINE;
      if (code > 0xffff) throw DECLINE;
      decoded = String.fromCharCode(code);
    }
    out += raw.slice(from, amp) + decoded;
    from = semi + 1;
  }
  return out + raw.slice(from);
}

/**
 * Reads a ListObjectsV2 response body, or returns undefined when the SDK should read it (see the module comment).
 *
 * `bytes`, the body `xml` was decoded from, lets the text the listing keeps (keys, the continuation token) be copied
 * out as small strings of their own. A substring of `xml` would be a slice that keeps the whole body alive: a page of
 * 1,000 keys is a string of about 200 KB, which V8 allocates in its large-object space, and keys that wait in the
 * pipeline's queue would carry every such body into the old generation, freed only at a full collection (tens of
 * megabytes at a run's peak). Bytes that are not all ASCII (rare: keys are URL-encoded) are sliced from `xml`.
 * @internal
 */
export function parseListBody(xml: string, bytes?: Uint8Array): LeanListing | undefined {
  if (xml.includes('\r')) return undefined;
  const ascii =
    bytes !== undefined && bytes.byteLength === xml.length && isAscii(bytes)
      ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      : undefined;
  try {
    return new ListBodyReader(xml, ascii).read();
  } catch (error) {
    if (error === DECLINE) return undefined;
    throw error;
  }
}

/** What the SDK deserializer is handed once the lean parser has read the body: a valid, empty listing. */
const READ_BODY = new TextEncoder().encode('<ListBucketResult><KeyCount>0</KeyCount></ListBucketResult>');

/** Room for one answer of 1,000 keys, about 200 KB when S3 lists each object's date, ETag, size and class. */
const BODY_BYTES = 256 * 1024;
/** Buffers kept for reuse: one per request in flight at the highest listing concurrency (an auto listing's 16). */
const KEPT_BODIES = 16;
/** Buffers answers were read into, free for the next ones. */
const freeBodies: Buffer[] = [];

/**
 * The bytes of one answer, copied from the socket's chunks as they arrive, into a buffer taken from
 * {@link freeBodies} and given back once the answer is read. Chunks held until the last one came (then joined by a
 * `Buffer.concat` per answer) outlived young-generation collections while the event loop was busy, and waited for a
 * full collection with their memory; the fresh buffer per answer was memory the allocator kept long after V8 let it go.
 */
class BodyBytes {
  #buffer: Buffer = freeBodies.pop() ?? Buffer.allocUnsafe(BODY_BYTES);
  #length = 0;

  /** Appends a chunk, growing the buffer (by doubling) when it does not fit. */
  add(chunk: Uint8Array): void {
    const needed = this.#length + chunk.byteLength;
    if (needed > this.#buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * this.#buffer.length, needed));
      this.#buffer.copy(grown, 0, 0, this.#length);
      this.#buffer = grown;
    }
    this.#buffer.set(chunk, this.#length);
    this.#length = needed;
  }

  /** The bytes so far; valid until {@link release}. */
  get bytes(): Buffer {
    return this.#buffer.subarray(0, this.#length);
  }

  /** Gives the buffer back for the next answer (a grown one is dropped, so the kept ones stay small). */
  release(): void {
    if (this.#buffer.length === BODY_BYTES && freeBodies.length < KEPT_BODIES) freeBodies.push(this.#buffer);
  }
}

/**
 * Reads a response body (a Node stream, a web stream or bytes) into a {@link BodyBytes}; undefined for a shape it does
 * not know.
 */
async function readBody(body: unknown): Promise<BodyBytes | undefined> {
  const iterable = body !== null && typeof body === 'object' && Symbol.asyncIterator in body;
  if (!(body instanceof Uint8Array) && typeof body !== 'string' && !iterable) return undefined;
  const out = new BodyBytes();
  try {
    if (body instanceof Uint8Array) out.add(body);
    else if (typeof body === 'string') out.add(Buffer.from(body, 'utf8'));
    else {
      for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
        out.add(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
      }
    }
  } catch (error) {
    out.release();
    throw error;
  }
  return out;
}

/** The deserialize-step handler shape, written out so core needs no direct dependency on @smithy/types. */
type Handler = (args: { input: object }) => Promise<{ output: unknown; response: unknown }>;
type Middleware = (next: Handler) => Handler;
type StackMiddleware = Parameters<ListObjectsV2Command['middlewareStack']['addRelativeTo']>[0];

interface RawResponse {
  statusCode?: number;
  body?: unknown;
}

/**
 * A ListObjectsV2 command whose successful response is read by {@link parseListBody}, and checked against `request`
 * before it is believed (see list-answer.ts; without `request`, nothing is checked). Two middlewares on the command's own stack (the client's stack is left
 * alone): one just inside the SDK deserializer reads the raw body, checks that a body the lean parser declines is a
 * `ListBucketResult`, and, when the lean parser accepts it, hands the deserializer an empty listing instead; one just
 * outside puts the lean result in the output, checks its fields, and turns a 2xx body the SDK could not parse into
 * the same `MALFORMED_RESPONSE` error. Both run inside the SDK's retry loop, so a malformed answer is retried like a
 * 5xx. Clients whose `send` never runs the middleware stack (test doubles) get the SDK output, checked by the source.
 * @internal
 */
export function listObjectsCommand(input: ListObjectsV2CommandInput, request?: ListRequest): ListObjectsV2Command {
  const command = new ListObjectsV2Command(input);
  let lean: LeanListing | undefined;
  let answered2xx = false;
  const readRawBody: Middleware = (next) => async (args) => {
    lean = undefined;
    answered2xx = false;
    const result = await next(args);
    const response = result.response as RawResponse | undefined;
    const status = response?.statusCode ?? 0;
    if (status < 200 || status > 299) return result;
    answered2xx = true;
    const read = await readBody(response?.body);
    if (read === undefined || response === undefined) return result;
    const bytes = read.bytes;
    try {
      const text = bytes.toString('utf8');
      lean = parseListBody(text, bytes);
      if (lean === undefined && request !== undefined) checkListBody(text, request);
      // The SDK reads a body the lean parser declined: a copy of its own, since the read bytes are reused.
      response.body = lean === undefined ? Buffer.from(bytes) : READ_BODY;
    } finally {
      read.release();
    }
    return result;
  };
  const useLeanOutput: Middleware = (next) => async (args) => {
    let result: Awaited<ReturnType<Handler>>;
    try {
      result = await next(args);
    } catch (error) {
      // S3 errors, network errors (a code such as ECONNRESET: the body was cut off) and our own stay as they are.
      if (!answered2xx || request === undefined || isPresignPipelineError(error) || hasCode(error)) throw error;
      // Not passed as `cause`: it carries S3-like metadata, and callers that name errors after their S3 cause would
      // then name this one "Error".
      throw malformedListing(request, `the answer could not be read (${firstLine(error)})`);
    }
    const output =
      lean === undefined
        ? (result.output as ListObjectsV2CommandOutput)
        : { ...lean, $metadata: (result.output as ListObjectsV2CommandOutput).$metadata };
    if (request !== undefined) checkListAnswer(output, request, true);
    return lean === undefined ? result : { ...result, output };
  };
  command.middlewareStack.addRelativeTo(readRawBody as unknown as StackMiddleware, {
    relation: 'after',
    toMiddleware: 'deserializerMiddleware',
    name: 'presignPipelineListBodyReader',
    override: true,
  });
  command.middlewareStack.addRelativeTo(useLeanOutput as unknown as StackMiddleware, {
    relation: 'before',
    toMiddleware: 'deserializerMiddleware',
    name: 'presignPipelineListOutput',
    override: true,
  });
  return command;
}

function hasCode(error: unknown): boolean {
  return typeof (error as { code?: unknown } | null)?.code === 'string';
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n', 1)[0] ?? message;
}

/** Which page one ListObjectsV2 request of a listing asks for, and where it starts. @internal */
export interface PageAsk {
  readonly bucket: string;
  readonly prefix: string;
  readonly pageSize: number;
  /** The page's number within its listing (or partition), from 1. */
  readonly page: number;
  /** The token the previous answer handed back; absent on the first request. */
  readonly continuationToken: string | undefined;
  /** Sent only on a request without a continuation token: the listing owns only the keys after it. */
  readonly startAfter?: string | undefined;
  readonly delimiter?: string | undefined;
  /** With partitions: which partition, for messages. */
  readonly partition?: string | undefined;
}

/**
 * The command for one page of a listing (keys URL-encoded: a plain XML listing cannot carry every key, see
 * {@link decodeListing}), with the request its answer is checked against.
 * @internal
 */
export function listPageCommand(ask: PageAsk): {
  readonly command: ListObjectsV2Command;
  readonly request: ListRequest;
} {
  const { bucket, prefix, page, continuationToken } = ask;
  const input: ListObjectsV2CommandInput = {
    Bucket: bucket,
    Prefix: prefix,
    MaxKeys: ask.pageSize,
    EncodingType: 'url',
  };
  if (ask.delimiter !== undefined) input.Delimiter = ask.delimiter;
  if (continuationToken !== undefined) input.ContinuationToken = continuationToken;
  else if (ask.startAfter !== undefined) input.StartAfter = ask.startAfter;
  const request: ListRequest = {
    bucket,
    prefix,
    page,
    continuationToken,
    startAfter: input.StartAfter,
    ...(ask.partition === undefined ? {} : { partition: ask.partition }),
  };
  return { command: listObjectsCommand(input, request), request };
}

/**
 * Checks the answer to a {@link listPageCommand} against its request and decodes it. The command's middleware
 * checked answers read from HTTP already; this checks those of clients that answer without it.
 * @internal
 */
export function readListAnswer(answer: RawListPage & ListAnswerFields, request: ListRequest): ListPage {
  checkListAnswer(answer, request, false);
  return decodeListing(answer, request.bucket);
}

/** One page of a listing as the key sources read it: keys and common prefixes exactly as stored. @internal */
export interface ListPage {
  /** The objects listed: key (decoded) and size. */
  readonly Contents?: readonly { readonly Key?: string | undefined; readonly Size?: number | undefined }[];
  /** The common prefixes (with `Delimiter`), decoded. */
  readonly CommonPrefixes?: readonly { readonly Prefix?: string | undefined }[];
  /** Whether more pages follow. */
  readonly IsTruncated?: boolean | undefined;
  /** The token of the next page, opaque: passed back as it came. */
  readonly NextContinuationToken?: string | undefined;
}

/** What {@link decodeListing} reads: the lean reader's output or the SDK's. @internal */
export interface RawListPage extends ListPage {
  /** `url` when the server encoded keys and prefixes. */
  readonly EncodingType?: string | undefined;
}

/**
 * Decodes one value the way S3 encodes it for `EncodingType=url` (like a form field: a space may come as `+`, a
 * literal `+` as `%2B`). Throws a URIError for a malformed escape (`%zz`, a cut-off or invalid UTF-8 sequence).
 * @internal
 */
export function decodeUrlValue(value: string): string {
  const spaced = value.indexOf('+') === -1 ? value : value.replace(/\+/g, ' ');
  return spaced.indexOf('%') === -1 ? spaced : decodeURIComponent(spaced);
}

/**
 * Turns a ListObjectsV2 response into a {@link ListPage}: with `EncodingType` `url`, keys and common prefixes are
 * URL-decoded; without it they are taken as they are. The continuation token is opaque and never decoded. The
 * response's echoes of the request (`Prefix`, `StartAfter`, `Delimiter`) are not carried: the sources know what
 * they asked, and some servers echo them unencoded even when they encode keys. A malformed escape fails the
 * listing with a `PresignPipelineError` (`SOURCE_FAILED`) naming the field, rather than yielding a wrong key.
 * @internal
 */
export function decodeListing(output: RawListPage, bucket: string): ListPage {
  const page = {
    ...(output.IsTruncated === undefined ? {} : { IsTruncated: output.IsTruncated }),
    ...(output.NextContinuationToken === undefined ? {} : { NextContinuationToken: output.NextContinuationToken }),
  };
  if (output.EncodingType !== 'url') {
    return {
      ...page,
      ...(output.Contents === undefined ? {} : { Contents: output.Contents }),
      ...(output.CommonPrefixes === undefined ? {} : { CommonPrefixes: output.CommonPrefixes }),
    };
  }
  const decode = (value: string | undefined, field: string): string | undefined => {
    if (value === undefined) return undefined;
    try {
      return decodeUrlValue(value);
    } catch (error) {
      throw new PresignPipelineError(
        'SOURCE_FAILED',
        `ListObjectsV2 on bucket ${bucket}: ${field} ${JSON.stringify(value)} is not valid URL encoding, ` +
          'although the response says EncodingType=url',
        { cause: error },
      );
    }
  };
  return {
    ...page,
    ...(output.Contents === undefined
      ? {}
      : {
          Contents: output.Contents.map((object, i) => {
            const key = decode(object.Key, `Contents[${i}].Key`);
            return key === object.Key ? object : { ...object, Key: key };
          }),
        }),
    ...(output.CommonPrefixes === undefined
      ? {}
      : {
          CommonPrefixes: output.CommonPrefixes.map((common, i) => {
            const prefix = decode(common.Prefix, `CommonPrefixes[${i}].Prefix`);
            return prefix === common.Prefix ? common : { ...common, Prefix: prefix };
          }),
        }),
  };
}
