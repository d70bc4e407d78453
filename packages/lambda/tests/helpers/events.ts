import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';

/** A Lambda context for unit tests: `requestId`, with `remainingMs` left whenever asked. */
export function unitContext(remainingMs: number, requestId: string): Context {
  return {
    awsRequestId: requestId,
    getRemainingTimeInMillis: () => remainingMs,
    functionName: 'unit',
  } as unknown as Context;
}

/** An SQS message as Lambda hands it to a handler: `body` as sent, first delivery. */
export function sqsMessage(messageId: string, body: string): SQSRecord {
  return {
    messageId,
    receiptHandle: 'r',
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 's',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:q',
    awsRegion: 'us-east-1',
  };
}

/** An SQS event with one message a job (ids m1, m2, …), each body the job as JSON. */
export function sqsEvent(jobs: readonly Record<string, unknown>[]): SQSEvent {
  return { Records: jobs.map((job, i) => sqsMessage(`m${i + 1}`, JSON.stringify(job))) };
}

/** The fields of a run's answer when its deadline cut it short, in order, with the cursor it hands back last. */
export function cutAnswerKeys(cursor: 'next_start_after' | 'resume_token'): string[] {
  return ['count', 'errors', 'manifest_key', 'manifest_url', 'complete', cursor];
}
