/**
 * Checks that a 2xx ListObjectsV2 answer is S3's answer to the request sent, before a key source believes it.
 *
 * Something between the client and S3 (a gateway, a proxy, a captive portal) can answer `200` with an HTML page, an
 * empty body or XML of its own; the SDK reads any of them as an empty output (`{}`), and a source that took it at its
 * word would end the listing there: a short manifest reported as complete. So an answer counts only when it is a
 * `ListBucketResult` for the bucket and prefix asked, says whether more pages follow (`IsTruncated`), and, when they
 * do, hands back a continuation token other than the one sent. Anything else is a {@link malformedListing} error,
 * which the SDK's retry strategy retries like a 5xx (it carries `$retryable`), and which fails the listing with code
 * `MALFORMED_RESPONSE` once the attempts are spent. The checks cost a few comparisons per page.
 * @internal
 */
import { PresignPipelineError } from '../errors.js';

/** The request a ListObjectsV2 answer is checked against. @internal */
export interface ListRequest {
  readonly bucket: string;
  readonly prefix: string;
  /** The page's number within its listing (or partition), from 1. */
  readonly page: number;
  readonly continuationToken?: string | undefined;
  readonly startAfter?: string | undefined;
  /** With partitions: which partition, for the message. */
  readonly partition?: string | undefined;
}

/** The fields of an answer the checks read (the lean reader's output or the SDK's). @internal */
export interface ListAnswerFields {
  readonly Name?: string | undefined;
  readonly Prefix?: string | undefined;
  readonly IsTruncated?: boolean | undefined;
  readonly NextContinuationToken?: string | undefined;
  readonly EncodingType?: string | undefined;
}

/** A `MALFORMED_RESPONSE` error the SDK's standard and adaptive retry strategies retry (as they do a 5xx). @internal */
export type MalformedListingError = PresignPipelineError & { readonly $retryable: { readonly throttling: false } };

/** Where the page is, for messages: `page 3 of s3://bucket/prefix (continuation token "1A2b3C…")`. @internal */
export function describePage(request: ListRequest): string {
  const where = request.partition === undefined ? '' : ` of partition ${request.partition}`;
  const from =
    request.continuationToken !== undefined
      ? `continuation token ${JSON.stringify(abbreviate(request.continuationToken, 16))}`
      : request.startAfter !== undefined
        ? `start after ${JSON.stringify(abbreviate(request.startAfter, 64))}`
        : 'first request';
  return `page ${request.page}${where} of s3://${request.bucket}/${request.prefix} (${from})`;
}

/** The error for an answer that is not S3's; `cause` is what the SDK threw, if it threw. @internal */
export function malformedListing(request: ListRequest, problem: string, cause?: unknown): MalformedListingError {
  const error = new PresignPipelineError(
    'MALFORMED_RESPONSE',
    `ListObjectsV2 ${describePage(request)}: ${problem}`,
    cause === undefined ? {} : { cause },
  );
  return Object.assign(error, { $retryable: { throttling: false } as const });
}

/**
 * Checks a 2xx body the lean reader declined: its first element must be `ListBucketResult` (after an optional XML
 * declaration, comments and whitespace). Throws {@link malformedListing} otherwise.
 * @internal
 */
export function checkListBody(text: string, request: ListRequest): void {
  if (LIST_BUCKET_RESULT.test(text)) return;
  throw malformedListing(request, `the answer is not a ListBucketResult but ${describeBody(text)}`);
}

const LIST_BUCKET_RESULT = /^\uFEFF?\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--[\s\S]*?-->\s*)*<ListBucketResult[\s>/]/;

/**
 * Checks the fields of an answer: the bucket and prefix asked (the prefix as sent, or URL-encoded when the answer
 * says `EncodingType=url`), `IsTruncated` present, and a continuation token that moves forward. With `strict` (an
 * answer read from HTTP) `Name` must be there; answers from clients that fake `send` are checked on what they hold.
 * @internal
 */
export function checkListAnswer(output: ListAnswerFields, request: ListRequest, strict: boolean): void {
  const problem = answerProblem(output, request, strict);
  if (problem !== undefined) throw malformedListing(request, problem);
}

function answerProblem(output: ListAnswerFields, request: ListRequest, strict: boolean): string | undefined {
  if (typeof output !== 'object' || output === null)
    return `the answer is ${output === null ? 'null' : typeof output}, not a listing`;
  const { Name: name, Prefix: echoed, IsTruncated: truncated, NextContinuationToken: next } = output;
  if (name === undefined ? strict : name !== request.bucket) {
    return name === undefined
      ? 'the answer names no bucket'
      : `the answer lists bucket ${JSON.stringify(name)}, not ${JSON.stringify(request.bucket)}`;
  }
  if (!prefixMatches(echoed, request.prefix, output.EncodingType, strict)) {
    return echoed === undefined
      ? 'the answer names no prefix'
      : `the answer lists prefix ${JSON.stringify(echoed)}, not ${JSON.stringify(request.prefix)}`;
  }
  if (typeof truncated !== 'boolean')
    return 'the answer has no IsTruncated, so it does not say whether more pages follow';
  if (!truncated) return undefined;
  if (typeof next !== 'string' || next === '') return 'the answer is truncated but has no NextContinuationToken';
  if (next === request.continuationToken) {
    return 'the answer is truncated but hands back the continuation token it was sent, so the listing would not move forward';
  }
  return undefined;
}

function prefixMatches(
  echoed: string | undefined,
  prefix: string,
  encoding: string | undefined,
  strict: boolean,
): boolean {
  // S3 sends <Prefix/> for an empty prefix, which readers may drop.
  if (echoed === undefined) return prefix === '' || !strict;
  if (echoed === prefix) return true;
  if (encoding !== 'url') return false;
  try {
    return decodeURIComponent(echoed.replace(/\+/g, ' ')) === prefix;
  } catch {
    return false;
  }
}

/** Names a body for a message without quoting more than its start. */
function describeBody(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') return 'an empty body';
  const start = JSON.stringify(abbreviate(trimmed.replace(/\s+/g, ' '), 48));
  if (/^<!doctype html|^<html/i.test(trimmed)) return `an HTML page (${start})`;
  if (trimmed.startsWith('<')) return `another XML document (${start})`;
  return `a body that is not XML (${start})`;
}

function abbreviate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length)}…`;
}
