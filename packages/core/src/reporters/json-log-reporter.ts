import { codeOf, messageOf, nameOf, redactSecrets } from '../redact.js';
import type { PipelineEventEmitter, PresignPipelineEvents, Reporter } from '../types.js';
import { listenTo } from './listen.js';
import { invalidType } from '../validate.js';

/** Options of {@link jsonLogReporter}. */
export interface JsonLogReporterOptions {
  /**
   * Receives each log line, a JSON object without the trailing newline. Default: a synchronous write of the line and
   * a newline to stdout, so lines are out before a Lambda freezes.
   */
  write?: (line: string) => void;
}

function writeStdout(line: string): void {
  process.stdout.write(`${line}\n`);
}

function round2(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** The `presign_error` line of a key that failed to presign. */
export function itemErrorFields(e: PresignPipelineEvents['item-error'][0]): Record<string, unknown> {
  return {
    event: 'presign_error',
    request_id: e.requestId,
    key: redactSecrets(e.key),
    error: redactSecrets(e.message),
  };
}

/** The `expiry_capped` line: the expiry asked for, the one granted, and when the credentials expire. */
export function expiryCappedFields(e: PresignPipelineEvents['expiry-capped'][0]): Record<string, unknown> {
  return {
    event: 'expiry_capped',
    request_id: e.requestId,
    requested_expiry_seconds: e.requestedExpiresIn,
    effective_expiry_seconds: e.effectiveExpiresIn,
    credentials_expire_at: e.credentialsExpireAt.toISOString(),
  };
}

/** The `complete` line of a run that finished; never the manifest's URL (a presigned URL is a bearer credential). */
export function completeFields(e: PresignPipelineEvents['pipeline-completed'][0]): Record<string, unknown> {
  const r = e.result;
  return {
    event: 'complete',
    request_id: e.requestId,
    count: r.count,
    errors: r.errors,
    pages: r.pages,
    duration_ms: round2(r.durationMs),
    effective_expiry_seconds: r.effectiveExpiresIn,
    complete: r.complete,
    manifest_key: r.manifest.key,
    manifest_bytes: r.manifest.bytes,
    // Beyond the reference: where a file or memory manifest went, and where a partial run resumes.
    ...(r.manifest.key === undefined && r.manifest.location !== undefined
      ? { manifest_location: redactSecrets(r.manifest.location) }
      : {}),
    ...(r.nextStartAfter !== undefined ? { next_start_after: redactSecrets(r.nextStartAfter) } : {}),
  };
}

/** The `error` line of a run that failed. */
export function errorFields(e: PresignPipelineEvents['pipeline-failed'][0]): Record<string, unknown> {
  const code = codeOf(e.error);
  return {
    event: 'error',
    request_id: e.requestId,
    error: redactSecrets(messageOf(e.error)),
    error_name: nameOf(e.error),
    ...(code === undefined ? {} : { error_code: redactSecrets(code) }),
    count: e.count,
    errors: e.errors,
    pages: e.pages,
    duration_ms: round2(e.durationMs),
  };
}

/**
 * Logs a run as one JSON object per line, with the reference handler's events and field names: `presign_error` per
 * failed key, `expiry_capped`, then `complete` or `error`. Lines never hold a presigned URL or a credential: the
 * manifest's URL is not logged, and URL-like text with SigV4 parameters is masked in every message.
 *
 * @example
 * ```ts
 * await presignPipeline({ source, presigner, manifest, reporters: [jsonLogReporter()] });
 * // {"event":"complete","request_id":"…","count":120,"errors":0,"pages":1,"duration_ms":41.07,…}
 * ```
 */
export function jsonLogReporter(options: JsonLogReporterOptions = {}): Reporter {
  if (options.write !== undefined && typeof options.write !== 'function') {
    invalidType('jsonLogReporter', 'write', 'a function', options.write);
  }
  const write = options.write ?? writeStdout;
  const log = (fields: Record<string, unknown>): void => write(JSON.stringify(fields));
  const onItemError = (e: PresignPipelineEvents['item-error'][0]): void => log(itemErrorFields(e));
  const onExpiryCapped = (e: PresignPipelineEvents['expiry-capped'][0]): void => log(expiryCappedFields(e));
  const onCompleted = (e: PresignPipelineEvents['pipeline-completed'][0]): void => log(completeFields(e));
  const onFailed = (e: PresignPipelineEvents['pipeline-failed'][0]): void => log(errorFields(e));

  return {
    subscribe(events: PipelineEventEmitter): () => void {
      return listenTo(events, {
        'item-error': onItemError,
        'expiry-capped': onExpiryCapped,
        'pipeline-completed': onCompleted,
        'pipeline-failed': onFailed,
      });
    },
  };
}
