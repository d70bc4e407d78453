/**
 * The resume token of an auto-partitioned listing: the key ranges not yet handed to the pipeline, bound to the
 * bucket and prefix they belong to.
 *
 * Format `v1.<base64url>`: the version in clear (so a later format can refuse this one, and this one a later one,
 * with a clear error), then a raw-deflated JSON document `{ b, p, r }`: `b` and `p` are short hashes of the bucket
 * and the prefix; `r` lists the ranges' bounds in key order, front-coded (each string as the length it shares with
 * the previous one and the rest), `null` for an open end. Opaque to users: only its size and validity matter.
 * @internal
 */
import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { PresignPipelineError } from '../errors.js';
import { compareKeys } from './partitioned-listing.js';

/** The format this release writes and reads. */
export const RESUME_TOKEN_VERSION = 1;
/** The most characters a token may have. */
export const MAX_RESUME_TOKEN_LENGTH = 4096;

/** One key range still to list: keys greater than `after` (or all) up to and including `last` (or no end). @internal */
export interface KeyRange {
  readonly after: string | undefined;
  readonly last: string | undefined;
}

const fingerprint = (value: string): string =>
  createHash('sha256').update(value, 'utf8').digest('base64url').slice(0, 11);

function frontCode(values: readonly (string | undefined)[]): (number | string | null)[] {
  const out: (number | string | null)[] = [];
  let previous = '';
  for (const value of values) {
    if (value === undefined) {
      out.push(null);
      continue;
    }
    let shared = 0;
    const n = Math.min(previous.length, value.length);
    while (shared < n && previous.charCodeAt(shared) === value.charCodeAt(shared)) shared++;
    out.push(shared, value.slice(shared));
    previous = value;
  }
  return out;
}

function frontDecode(items: readonly unknown[]): (string | undefined)[] {
  const out: (string | undefined)[] = [];
  let previous = '';
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (item === null) {
      out.push(undefined);
      continue;
    }
    const rest = items[++i];
    if (
      typeof item !== 'number' ||
      !Number.isInteger(item) ||
      item < 0 ||
      item > previous.length ||
      typeof rest !== 'string'
    ) {
      throw new Error('a range bound is not well formed');
    }
    previous = previous.slice(0, item) + rest;
    out.push(previous);
  }
  return out;
}

/** Encodes the remaining ranges of a listing of `bucket`/`prefix`. @internal */
export function encodeResumeToken(bucket: string, prefix: string, ranges: readonly KeyRange[]): string {
  const bounds: (string | undefined)[] = [];
  for (const range of ranges) bounds.push(range.after, range.last);
  const document = JSON.stringify({ b: fingerprint(bucket), p: fingerprint(prefix), r: frontCode(bounds) });
  const token = `v${RESUME_TOKEN_VERSION}.${deflateRawSync(Buffer.from(document, 'utf8')).toString('base64url')}`;
  // Ranges cannot be merged without listing keys already handed on again (the gaps between them), so a token that
  // would not fit is an error here, where the cause is known, rather than a token every later run refuses.
  if (token.length > MAX_RESUME_TOKEN_LENGTH) {
    throw new PresignPipelineError(
      'RESUME_TOKEN_TOO_LONG',
      `s3ListSource: the resume token of ${ranges.length} open key ranges would be ${token.length} characters, over the ` +
        `${MAX_RESUME_TOKEN_LENGTH} a token may have (their bounds are long keys that do not compress); ` +
        'list with a lower partitions.concurrency, or give the run time to finish',
    );
  }
  return token;
}

function invalid(message: string, cause?: unknown): PresignPipelineError {
  return new PresignPipelineError(
    'INVALID_RESUME_TOKEN',
    `resumeToken ${message}`,
    cause === undefined ? {} : { cause },
  );
}

/**
 * Reads a token made by {@link encodeResumeToken} for the same bucket and prefix. Throws a `PresignPipelineError`
 * with code `INVALID_RESUME_TOKEN` saying what is wrong: malformed, another version, another bucket, another prefix.
 * @internal
 */
export function decodeResumeToken(token: unknown, bucket: string, prefix: string): KeyRange[] {
  if (typeof token !== 'string' || token.length === 0) throw invalid('must be a non-empty string');
  if (token.length > MAX_RESUME_TOKEN_LENGTH)
    throw invalid(`is malformed: longer than ${MAX_RESUME_TOKEN_LENGTH} characters`);
  const match = /^v(\d{1,6})\.([A-Za-z0-9_-]+)$/.exec(token);
  if (match === null) throw invalid('is malformed: not a resume token of s3ListSource');
  const version = Number(match[1]);
  if (version !== RESUME_TOKEN_VERSION) {
    throw invalid(`has format version ${version}; this release reads version ${RESUME_TOKEN_VERSION} only`);
  }
  let document: { b?: unknown; p?: unknown; r?: unknown };
  try {
    document = JSON.parse(
      inflateRawSync(Buffer.from(match[2] as string, 'base64url')).toString('utf8'),
    ) as typeof document;
  } catch (error) {
    throw invalid('is malformed: its payload does not decode', error);
  }
  if (typeof document !== 'object' || document === null || !Array.isArray(document.r)) {
    throw invalid('is malformed: no ranges');
  }
  if (document.b !== fingerprint(bucket)) throw invalid(`was issued for another bucket, not ${bucket}`);
  if (document.p !== fingerprint(prefix)) throw invalid(`was issued for another prefix, not ${JSON.stringify(prefix)}`);
  let bounds: (string | undefined)[];
  try {
    bounds = frontDecode(document.r);
  } catch (error) {
    throw invalid('is malformed: a range bound is not well formed', error);
  }
  return checkRanges(bounds, prefix);
}

/** Pairs the bounds into ranges and checks they are in order, disjoint and under the prefix. */
function checkRanges(bounds: readonly (string | undefined)[], prefix: string): KeyRange[] {
  if (bounds.length % 2 !== 0) throw invalid('is malformed: a range has no end');
  const ranges: KeyRange[] = [];
  let floor: string | undefined;
  for (let i = 0; i < bounds.length; i += 2) {
    const after = bounds[i];
    const last = bounds[i + 1];
    const first = i === 0;
    if (after === undefined ? !first : floor !== undefined && compareKeys(after, floor) < 0) {
      throw invalid('is malformed: its ranges overlap or are out of order');
    }
    if (last === undefined ? i + 2 !== bounds.length : after !== undefined && compareKeys(last, after) <= 0) {
      throw invalid('is malformed: a range ends before it starts');
    }
    if (last !== undefined && !last.startsWith(prefix) && compareKeys(last, prefix) > 0) {
      throw invalid('is malformed: a range lies outside the prefix');
    }
    floor = last;
    ranges.push({ after, last });
  }
  return ranges;
}
