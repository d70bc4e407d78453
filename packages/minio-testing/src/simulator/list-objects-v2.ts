import {
  compareUtf8,
  firstIndexAfter,
  firstIndexAtOrAfter,
  firstIndexPast,
  type KeySpace,
  hex8,
  mixIndex,
} from './key-layouts.js';
import { S3SimulatorRequestError, xmlEscape } from './xml.js';

/** The ListObjectsV2 parameters the simulator reads, as received (decoded from the query). */
export interface ListObjectsV2Query {
  readonly prefix: string;
  readonly delimiter: string;
  readonly startAfter?: string;
  readonly continuationToken?: string;
  readonly maxKeys: number;
  readonly encodingType?: 'url';
}

/** One page: what the response says, before XML. */
export interface ListObjectsV2Page {
  /** Keys with their index (the index gives size and ETag). */
  readonly contents: readonly { readonly key: string; readonly index: number }[];
  readonly commonPrefixes: readonly string[];
  readonly isTruncated: boolean;
  readonly nextContinuationToken?: string;
}

/** S3 returns at most 1,000 keys a page whatever MaxKeys asks for. */
export const MAX_KEYS_PER_PAGE = 1_000;
const TOKEN_VERSION = 's1';

/**
 * A listing's page limit (`max-keys`, `max-uploads`): `fallback` when absent, else a non-negative integer, as S3
 * requires (InvalidArgument otherwise).
 */
export function pageLimit(query: URLSearchParams, name: string, fallback: number): number {
  const text = query.get(name);
  const limit = text === null ? fallback : Number(text);
  if (!/^\d+$/.test(text ?? '0') || !Number.isSafeInteger(limit)) {
    throw new S3SimulatorRequestError(
      400,
      'InvalidArgument',
      `Provided ${name} not an integer or within integer range`,
    );
  }
  return limit;
}

/**
 * Reads the query of a ListObjectsV2 request. max-keys must be a non-negative integer (S3 answers
 * InvalidArgument otherwise); an empty continuation token is invalid, as on S3.
 */
export function parseListQuery(query: URLSearchParams): ListObjectsV2Query {
  const maxKeys = pageLimit(query, 'max-keys', MAX_KEYS_PER_PAGE);
  const encoding = query.get('encoding-type');
  if (encoding !== null && encoding !== 'url') {
    throw new S3SimulatorRequestError(400, 'InvalidArgument', 'Invalid Encoding Method specified in Request');
  }
  const token = query.get('continuation-token');
  if (token === '')
    throw new S3SimulatorRequestError(400, 'InvalidArgument', 'The continuation token provided is incorrect');
  const startAfter = query.get('start-after');
  return {
    prefix: query.get('prefix') ?? '',
    delimiter: query.get('delimiter') ?? '',
    ...(startAfter ? { startAfter } : {}),
    ...(token !== null ? { continuationToken: token } : {}),
    maxKeys,
    ...(encoding === 'url' ? { encodingType: 'url' as const } : {}),
  };
}

/** An opaque token: what the last entry of the page was, a key or a common prefix. */
function encodeToken(kind: 'k' | 'p', value: string): string {
  return Buffer.from(`${TOKEN_VERSION}${kind}${value}`, 'utf8').toString('base64url');
}

function decodeToken(token: string): { kind: 'k' | 'p'; value: string } {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  const kind = text.slice(TOKEN_VERSION.length, TOKEN_VERSION.length + 1);
  if (!text.startsWith(TOKEN_VERSION) || (kind !== 'k' && kind !== 'p')) {
    throw new S3SimulatorRequestError(400, 'InvalidArgument', 'The continuation token provided is incorrect');
  }
  return { kind, value: text.slice(TOKEN_VERSION.length + 1) };
}

/** Where a page starts: after the token's entry, else after StartAfter, and never before the prefix. */
function startIndex(space: KeySpace, query: ListObjectsV2Query): number {
  let from = firstIndexAtOrAfter(space, query.prefix);
  if (query.continuationToken !== undefined) {
    const token = decodeToken(query.continuationToken);
    const resume = token.kind === 'p' ? firstIndexPast(space, token.value) : firstIndexAfter(space, token.value);
    return Math.max(from, resume);
  }
  if (query.startAfter !== undefined) from = Math.max(from, firstIndexAfter(space, query.startAfter));
  return from;
}

/**
 * Lists one page as S3 does: keys after the start point, under the prefix, in byte order; with a delimiter,
 * keys holding it past the prefix roll up into one common prefix each (counted once against MaxKeys), whose
 * remaining keys are skipped by binary search, so a page costs O(MaxKeys · log n) whatever the key count.
 */
export function listPage(space: KeySpace, query: ListObjectsV2Query): ListObjectsV2Page {
  const end = query.prefix === '' ? space.count : firstIndexPast(space, query.prefix);
  let index = startIndex(space, query);
  const limit = Math.min(query.maxKeys, MAX_KEYS_PER_PAGE);
  const contents: { key: string; index: number }[] = [];
  const commonPrefixes: string[] = [];
  let last: { kind: 'k' | 'p'; value: string } | undefined;
  while (index < end && contents.length + commonPrefixes.length < limit) {
    const key = space.keyAt(index);
    const cut = query.delimiter === '' ? -1 : key.indexOf(query.delimiter, query.prefix.length);
    if (cut === -1) {
      contents.push({ key, index });
      last = { kind: 'k', value: key };
      index += 1;
    } else {
      const commonPrefix = key.slice(0, cut + query.delimiter.length);
      commonPrefixes.push(commonPrefix);
      last = { kind: 'p', value: commonPrefix };
      index = firstIndexPast(space, commonPrefix, index, end);
    }
  }
  const isTruncated = limit > 0 && index < end;
  return {
    contents,
    commonPrefixes,
    isTruncated,
    ...(isTruncated && last ? { nextContinuationToken: encodeToken(last.kind, last.value) } : {}),
  };
}

/** Encodes a value as S3 does for `EncodingType=url`: form-style (a space is `+`), `/` left as it is. */
export function encodeUrlValue(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+').replace(/%2F/g, '/');
}

const LAST_MODIFIED = '2025-01-01T00:00:00.000Z';

/** The size of the object at `index`: deterministic, 1 KiB to about 1 MiB. */
export function objectSize(index: number): number {
  return 1024 + (mixIndex(index, 0x512e) % 1_000_000);
}

/** The ETag of the object at `index`: a quoted 32-hex-digit value, as for a single-part upload. */
export function objectEtag(index: number): string {
  return `"${etagDigits(index)}"`;
}

/** The 32 hex digits of {@link objectEtag}, without its quotes. */
function etagDigits(index: number): string {
  const a = mixIndex(index, 0xe7a9);
  const b = mixIndex(index, 0x7a95);
  return hex8(a) + hex8(b) + hex8(a ^ 0x5bd1e995) + hex8((b + 0x27d4eb2d) >>> 0);
}

/** Characters that neither URL encoding nor XML escaping change: a value of only these goes out as it is. */
const PLAIN_VALUE = /^[\w.~/-]*$/;

/** The XML body of a ListObjectsV2 response, element for element as S3 shapes it. */
export function listPageXml(bucket: string, query: ListObjectsV2Query, page: ListObjectsV2Page): string {
  const url = query.encodingType === 'url';
  // Most keys are plain (letters, digits, `.`, `-`, `_`, `/`): they skip both encoders, where a 1,000-key page
  // otherwise spends much of its time.
  const encode = (value: string): string =>
    PLAIN_VALUE.test(value) ? value : xmlEscape(url ? encodeUrlValue(value) : value);
  const parts: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
    `<Name>${xmlEscape(bucket)}</Name><Prefix>${encode(query.prefix)}</Prefix>`,
  ];
  if (query.continuationToken !== undefined)
    parts.push(`<ContinuationToken>${xmlEscape(query.continuationToken)}</ContinuationToken>`);
  if (page.nextContinuationToken !== undefined)
    parts.push(`<NextContinuationToken>${page.nextContinuationToken}</NextContinuationToken>`);
  parts.push(
    `<KeyCount>${page.contents.length + page.commonPrefixes.length}</KeyCount><MaxKeys>${query.maxKeys}</MaxKeys>`,
  );
  if (query.delimiter !== '') parts.push(`<Delimiter>${encode(query.delimiter)}</Delimiter>`);
  if (query.encodingType !== undefined) parts.push(`<EncodingType>${query.encodingType}</EncodingType>`);
  parts.push(`<IsTruncated>${page.isTruncated}</IsTruncated>`);
  if (query.startAfter !== undefined) parts.push(`<StartAfter>${encode(query.startAfter)}</StartAfter>`);
  // One string grown by concatenation (V8 joins it once, when it is written), not an array of a thousand pieces.
  let entries = '';
  for (const { key, index } of page.contents) {
    entries += `<Contents><Key>${encode(key)}</Key><LastModified>${LAST_MODIFIED}</LastModified><ETag>&quot;${etagDigits(index)}&quot;</ETag><Size>${objectSize(index)}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
  }
  for (const prefix of page.commonPrefixes)
    entries += `<CommonPrefixes><Prefix>${encode(prefix)}</Prefix></CommonPrefixes>`;
  parts.push(entries, '</ListBucketResult>');
  return parts.join('');
}

/** Whether `key` is in the space (binary search), and its index. */
export function indexOfKey(space: KeySpace, key: string): number {
  const index = firstIndexAtOrAfter(space, key);
  return index < space.count && compareUtf8(space.keyAt(index), key) === 0 ? index : -1;
}
