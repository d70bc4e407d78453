import {
  BatchProcessor,
  EventType,
  processPartialResponse,
  SqsFifoPartialProcessorAsync,
} from '@aws-lambda-powertools/batch';
import { PresignPipelineError } from '@presign-pipeline/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { invocationBudget, type InvocationBudget } from './job-budget.js';
import { createJobRunner, type JobRunner, type PresignHandlerOptions, type PresignResponse } from './handler.js';
import { optionRangeError, typeOfValue } from '@presign-pipeline/core/internal';

/** Options of {@link createSqsHandler}: the presign handler's, plus how many messages run at once. */
export interface SqsHandlerOptions extends PresignHandlerOptions {
  /**
   * Jobs (messages) run at once within one batch, an integer from 1 to 10. Default 1: one job after the other, so
   * memory stays that of one job and a slow batch does not multiply S3 load. FIFO queues always run in order.
   */
  recordConcurrency?: number;
}

/** An SQS-triggered Lambda handler that reports partial batch failures. */
export type SqsHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;

/**
 * The error a failed message is recorded with; its message names the status and the field at fault. A
 * `PresignPipelineError` with code `JOB_REJECTED` (the body is not JSON, or the handler answered 400, 403 or 409) or
 * `DEADLINE_REACHED` (the job stopped at the invocation's deadline and goes back to the queue).
 */
export class SqsJobError extends PresignPipelineError {
  /** The handler's response for the message, when it produced one (a 400, 403 or 409). */
  readonly response?: PresignResponse;

  constructor(message: string, response?: PresignResponse, code: 'JOB_REJECTED' | 'DEADLINE_REACHED' = 'JOB_REJECTED') {
    super(code, message);
    this.name = 'SqsJobError';
    if (response !== undefined) this.response = response;
  }
}

const MAX_RECORD_CONCURRENCY = 10;

function limiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/**
 * Creates a handler for an SQS event source mapping with `ReportBatchItemFailures` on: each message body is one
 * presign event (the same JSON the direct handler takes), and the response names only the messages that failed, so
 * SQS redelivers those alone.
 *
 * A message fails when its body is not a JSON object, when the job is refused (400, 403), when a duplicate is still
 * in progress (409: the redelivery then gets the stored result), when the job throws (an S3 error), or when the
 * invocation's deadline (`DEADLINE_MARGIN_MS` before its timeout, one for the whole batch) stops the job or comes
 * before it starts: such messages are redelivered rather than lost to a Lambda timeout with the whole batch. When every
 * message fails, all are listed in `batchItemFailures` rather than thrown, so the response always says which.
 * Each job logs and writes its EMF document with the message id as its `request_id`.
 *
 * @example
 * ```ts
 * import { createSqsHandler } from '@presign-pipeline/lambda';
 * export const handler = createSqsHandler({ recordConcurrency: 2 });
 * ```
 */
export function createSqsHandler(options: SqsHandlerOptions = {}): SqsHandler {
  const recordConcurrency = options.recordConcurrency ?? 1;
  if (!Number.isInteger(recordConcurrency) || recordConcurrency < 1 || recordConcurrency > MAX_RECORD_CONCURRENCY) {
    throw optionRangeError(
      `createSqsHandler: recordConcurrency must be an integer from 1 to ${MAX_RECORD_CONCURRENCY} (got ${String(recordConcurrency)})`,
    );
  }
  const runJob = createJobRunner(options);
  const write = options.write ?? ((line: string) => void process.stdout.write(`${line}\n`));
  return async (event, context) => {
    // One deadline for the whole batch: jobs run one after the other within the same invocation.
    const budget = invocationBudget(context);
    const started = new Set<string>();
    const processMessage = (record: SQSRecord): Promise<PresignResponse> => {
      started.add(record.messageId);
      return runMessage(runJob, write, record, context, budget);
    };
    const records = (event as Partial<SQSEvent> | undefined)?.Records;
    if (Array.isArray(records)) checkRecords(records, write, context);
    const fifo = Array.isArray(records) && records.some((record) => record.attributes?.MessageGroupId !== undefined);
    if (fifo) {
      const response = await processPartialResponse(event, processMessage, new SqsFifoPartialProcessorAsync(), {
        ...(context !== undefined ? { context } : {}),
        skipGroupOnError: true,
        throwOnFullBatchFailure: false,
      });
      logSkipped(response, started, write);
      return response;
    }
    const limit = limiter(recordConcurrency);
    return processPartialResponse(
      event,
      (record: SQSRecord) => limit(() => processMessage(record)),
      new BatchProcessor(EventType.SQS),
      {
        ...(context !== undefined ? { context } : {}),
        processInParallel: recordConcurrency > 1,
        throwOnFullBatchFailure: false,
      },
    );
  };
}

/**
 * Checks that every record is a message, an object with a `messageId`, before any runs. Any other record (null, a
 * string, an object without a `messageId`) can neither run nor be named in `batchItemFailures` for redelivery, and
 * leaving it out would let SQS delete it unread: it is logged as `invalid_request` naming its place in `Records`, and
 * the invocation fails, so SQS redelivers the whole batch (and in the end moves it to the dead-letter queue).
 */
function checkRecords(records: readonly unknown[], write: (line: string) => void, context: Context | undefined): void {
  records.forEach((record, i) => {
    const isObject = typeof record === 'object' && record !== null && !Array.isArray(record);
    const id = isObject ? (record as { messageId?: unknown }).messageId : undefined;
    if (typeof id === 'string' && id !== '') return;
    const field = isObject ? `Records[${i}].messageId` : `Records[${i}]`;
    const error = isObject
      ? `Records[${i}] has no messageId (got ${typeOfValue(id)}): it can be neither run nor named for redelivery`
      : `Records[${i}] is not an SQS message (got ${typeOfValue(record)})`;
    write(JSON.stringify({ event: 'invalid_request', request_id: context?.awsRequestId ?? null, field, error }));
    throw new PresignPipelineError('INVALID_INPUT', `createSqsHandler: ${error}; no message of the batch was run`);
  });
}

/**
 * Logs each FIFO message returned unrun because an earlier message of its group failed: it is in
 * `batchItemFailures` without a job of its own, and without this line nothing would say why.
 */
function logSkipped(response: SQSBatchResponse, started: ReadonlySet<string>, write: (line: string) => void): void {
  for (const { itemIdentifier } of response.batchItemFailures) {
    if (started.has(itemIdentifier)) continue;
    write(
      JSON.stringify({
        event: 'message_skipped',
        request_id: itemIdentifier,
        reason: 'an earlier message of its FIFO message group failed; it is returned to the queue unrun, in order',
      }),
    );
  }
}

/** One message: its body parsed as a presign event and run as a job; any answer but a complete 200 fails it. */
async function runMessage(
  runJob: JobRunner,
  write: (line: string) => void,
  record: SQSRecord,
  context: Context | undefined,
  budget: InvocationBudget | undefined,
): Promise<PresignResponse> {
  let event: unknown;
  try {
    event = JSON.parse(record.body);
  } catch {
    const error = 'The message body is not valid JSON';
    write(JSON.stringify({ event: 'invalid_request', request_id: record.messageId, field: 'body', error }));
    throw new SqsJobError(`Message ${record.messageId}: ${error}`);
  }
  const response = await runJob(event, context, record.messageId, budget);
  if (response.statusCode !== 200) throw refusedMessage(record, response);
  const body = JSON.parse(response.body) as { complete?: unknown; count?: unknown };
  if (body.complete === false) {
    // A message is one whole job: a partial manifest is not its answer, so the message goes back to the queue.
    throw new SqsJobError(
      `Message ${record.messageId} stopped at the invocation's deadline after ${String(body.count)} keys; it will be delivered again`,
      response,
      'DEADLINE_REACHED',
    );
  }
  return response;
}

/** The error of a message the job answered with another status than 200, naming the status and the field at fault. */
function refusedMessage(record: SQSRecord, response: PresignResponse): SqsJobError {
  let detail = '';
  try {
    const body = JSON.parse(response.body) as { error?: unknown; field?: unknown };
    detail = `: ${String(body.error)}${typeof body.field === 'string' ? ` (field ${body.field})` : ''}`;
  } catch {
    // The body is ours and always JSON; nothing to add otherwise.
  }
  return new SqsJobError(`Message ${record.messageId} got status ${response.statusCode}${detail}`, response);
}
