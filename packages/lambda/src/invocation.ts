import { messageOf, nameOf } from '@presign-pipeline/core/internal';
import {
  isPresignPipelineError,
  redactSecrets,
  type PipelineEventEmitter,
  type Reporter,
} from '@presign-pipeline/core';
import type { EmfReporter } from '@presign-pipeline/emf';
import type { RequestRejection } from './config.js';
import type { PresignResponse } from './handler-types.js';

/** The metrics an invocation reports as 0 when no run reported them (a refused or failed-early request). */
const WORK_METRICS = ['PDFsProcessed', 'S3ListPages', 'PresignCount', 'ManifestBytes'];

/**
 * One invocation's state, in one place: its request id and log, its EMF document, what the run's own reporters
 * covered, and the body it answered. It turns an answer into a response, a refusal into a 400/403 with its log line,
 * a failure into the error the invocation throws, and publishes the EMF document once at the end. @internal
 */
export class Invocation {
  private responseBody: string | undefined;
  private workRecorded = false;
  private failureLogged = false;

  /** Tells the invocation what the run's own reporters already covered: its counts, and its failure's log line. */
  readonly observer: Reporter = {
    subscribe: (events: PipelineEventEmitter) => {
      const onCompleted = (): void => {
        this.workRecorded = true;
      };
      const onFailed = (): void => {
        this.workRecorded = true;
        this.failureLogged = true;
      };
      events.on('pipeline-completed', onCompleted);
      events.on('pipeline-failed', onFailed);
      return () => {
        events.off('pipeline-completed', onCompleted);
        events.off('pipeline-failed', onFailed);
      };
    },
  };

  constructor(
    /** The `request_id` of every log line. */
    readonly requestId: string,
    /** The invocation's EMF reporter, published by {@link Invocation.publishMetrics}. */
    readonly metrics: EmfReporter,
    private readonly write: (line: string) => void,
  ) {}

  /** Writes one JSON log line. */
  log(fields: Record<string, unknown>): void {
    this.write(JSON.stringify(fields));
  }

  /** The response, its body kept for the `ResponseBytes` metric. */
  respond(statusCode: number, body: unknown): PresignResponse {
    const response = { statusCode, body: JSON.stringify(body) };
    this.responseBody = response.body;
    return response;
  }

  /** A 400 or 403 naming the field at fault, after an `invalid_request` or `forbidden_request` log line. */
  refuse(rejection: RequestRejection): PresignResponse {
    this.log({
      event: rejection.statusCode === 403 ? 'forbidden_request' : 'invalid_request',
      request_id: this.requestId,
      field: rejection.field,
      error: rejection.error,
    });
    return this.respond(rejection.statusCode, { error: rejection.error, field: rejection.field });
  }

  /** The error the invocation throws, after an `error` log line unless the run's reporters wrote one. */
  failure(error: unknown): Error {
    if (!this.failureLogged) {
      this.log({
        event: 'error',
        request_id: this.requestId,
        error: redactSecrets(messageOf(error)),
        error_name: nameOf(error),
        error_code: isPresignPipelineError(error) ? error.code : undefined,
      });
    }
    return withoutSecrets(toInvocationError(error));
  }

  /**
   * Publishes the EMF document: zeros for the work metrics when no run reported them, and the response's size. A
   * failure to publish is logged, never thrown.
   */
  publishMetrics(): void {
    try {
      if (!this.workRecorded) {
        for (const name of WORK_METRICS) this.metrics.addMetric(name, 0);
      }
      if (this.responseBody !== undefined) {
        this.metrics.addMetric('ResponseBytes', Buffer.byteLength(this.responseBody, 'utf8'), 'Bytes');
      }
      this.metrics.publish();
    } catch (error) {
      this.log({ event: 'metrics_error', request_id: this.requestId, error: messageOf(error) });
    }
  }
}

/**
 * True for an error raised by an AWS service (an S3 error code as its name). The SDK's own failure to read a 2xx
 * answer carries `$metadata` too, but is named plain `Error`: it is no service error, and its wrapper keeps its code.
 */
function isServiceError(error: unknown): error is Error {
  return (
    error instanceof Error &&
    typeof error === 'object' &&
    ('$metadata' in error || '$fault' in error) &&
    error.name !== 'Error'
  );
}

/**
 * The error the invocation fails with: S3's own error, named by its code (`NoSuchBucket`, `AccessDenied`, `SlowDown`…)
 * so Lambda retries it and Step Functions can Retry/Catch on it, also when a pipeline error wraps it.
 */
function toInvocationError(error: unknown): Error {
  if (!(error instanceof Error)) return new Error(`The invocation failed: ${String(error)}`);
  if (isPresignPipelineError(error) && isServiceError(error.cause)) {
    const wrapped = new Error(error.message, { cause: error });
    wrapped.name = error.cause.name;
    return wrapped;
  }
  return error;
}

/**
 * The Lambda runtime prints a failed invocation's error (type, message and stack) to the function's log, so an error
 * whose message embeds a presigned URL or a credential is replaced by a masked copy with the same name and `code`.
 */
function withoutSecrets(error: Error): Error {
  const message = redactSecrets(error.message);
  if (message === error.message) return error;
  const masked = new Error(message);
  masked.name = error.name;
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) Object.defineProperty(masked, 'code', { value: code, enumerable: true });
  return masked;
}
