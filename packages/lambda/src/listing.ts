/**
 * How the handler lists: `list_concurrency` (event) or `LIST_CONCURRENCY` (environment) requests in flight, and the
 * `resume_token` of an earlier run cut at its deadline. Kept apart from config.ts so each stays one job.
 */
import {
  checkS3ListResumeToken,
  isInventoryToken,
  isPresignPipelineError,
  type PipelineResult,
  type S3ListSourceOptions,
} from '@presign-pipeline/core';
import { isPythonFalsy, parsePythonInt, type HandlerEnv, type RequestRejection } from './config.js';

/**
 * `LIST_CONCURRENCY`'s default: 1, the sequential listing whose cut runs answer `next_start_after`, so callers
 * written against that contract keep working. Measured on the S3 simulator (50 ms a LIST, 1000 keys a page), 16
 * lists a million keys more than ten times faster for a few percent more requests: set `LIST_CONCURRENCY=16` once
 * callers continue with `resume_token` (see docs/scaling.md).
 */
export const DEFAULT_LIST_CONCURRENCY = 1;
/** The most ListObjectsV2 requests in flight one invocation may ask for. */
export const MAX_LIST_CONCURRENCY = 256;

/** The listing part of a run's configuration. */
export interface ListingConfig {
  /** ListObjectsV2 requests in flight; 1 lists sequentially (continuation by `start_after`). */
  readonly listConcurrency: number;
  /** Where to continue an auto-partitioned listing (the event's `resume_token`). */
  readonly resumeToken?: string;
}

const show = (value: unknown): string => (typeof value === 'string' ? JSON.stringify(value) : String(value));
const refusal = (field: string, error: string): RequestRejection => ({ statusCode: 400, field, error });

/**
 * Reads `list_concurrency` / `LIST_CONCURRENCY` (an integer from 1 to 256, default 1) and, for a listing run,
 * `resume_token` (never from the environment), checking it is a listing token (`v1.…`, not an inventory run's
 * `inv1.…`) for this bucket and prefix before anything is listed.
 */
export function resolveListing(
  event: unknown,
  env: HandlerEnv,
  where: { readonly bucket: string; readonly prefix: string; readonly startAfter?: string | undefined },
  inventoryRun = false,
): ListingConfig | RequestRejection {
  const fields = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
  const fromEvent = fields.list_concurrency;
  const useEvent = !isPythonFalsy(fromEvent);
  const field = useEvent ? 'list_concurrency' : 'LIST_CONCURRENCY';
  const raw = useEvent ? fromEvent : env.LIST_CONCURRENCY;
  let listConcurrency = DEFAULT_LIST_CONCURRENCY;
  if (raw !== undefined) {
    const parsed = parsePythonInt(raw);
    if (parsed === undefined || parsed < 1 || parsed > MAX_LIST_CONCURRENCY) {
      return refusal(field, `${field} must be an integer from 1 to ${MAX_LIST_CONCURRENCY} (got ${show(raw)})`);
    }
    listConcurrency = parsed;
  }

  const token = fields.resume_token;
  // An inventory run's resume_token is its own (inv1.…), checked by resolveInventoryRequest.
  if (inventoryRun || isPythonFalsy(token)) return { listConcurrency };
  if (typeof token === 'string' && isInventoryToken(token)) {
    return refusal(
      'resume_token',
      "resume_token is an inventory run's token (inv1.…): it needs inventory_manifest; without it, resume_token must be the resume_token an earlier listing returned (v1.…)",
    );
  }
  if (where.startAfter !== undefined) {
    return refusal(
      'resume_token',
      'resume_token cannot be combined with start_after: the token says where to continue',
    );
  }
  try {
    checkS3ListResumeToken(token, { bucket: where.bucket, prefix: where.prefix });
  } catch (error) {
    if (isPresignPipelineError(error) && error.code === 'INVALID_RESUME_TOKEN') {
      return refusal('resume_token', error.message.replace(/^resumeToken/, 'resume_token'));
    }
    throw error;
  }
  return { listConcurrency, resumeToken: token as string };
}

/** True when `resolveListing` refused the request. */
export function isRejection(value: ListingConfig | RequestRejection): value is RequestRejection {
  return 'statusCode' in value;
}

/** The `s3ListSource` options of a listing: sequential at 1, auto-partitioned otherwise or when resuming. */
export function listingSourceOptions(listing: ListingConfig): Pick<S3ListSourceOptions, 'partitions' | 'resumeToken'> {
  if (listing.resumeToken !== undefined) {
    return { resumeToken: listing.resumeToken, partitions: { by: 'auto', concurrency: listing.listConcurrency } };
  }
  if (listing.listConcurrency === 1) return {};
  return { partitions: { by: 'auto', concurrency: listing.listConcurrency } };
}

/** The continuation fields of an incomplete run listed concurrently: `resume_token` (no `next_start_after`). */
export function resumeFields(result: PipelineResult): { resume_token: string } | undefined {
  if (result.complete || result.resumeToken === undefined) return undefined;
  return { resume_token: result.resumeToken };
}
