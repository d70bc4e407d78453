// Builds SQS events in the exact shape an SQS event source mapping hands to Lambda.
import { createHash, randomUUID } from 'node:crypto';
import type { SQSEvent, SQSRecord } from 'aws-lambda';

/** One message of a batch: its body (a job event as JSON, or anything else), and optionally its id. */
export interface Message {
  readonly body: string;
  readonly messageId?: string;
}

const QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:presign-jobs';

/** An SQS event holding `messages` in order, as a standard (non-FIFO) queue delivers them. */
export function sqsEvent(messages: readonly Message[]): SQSEvent {
  const now = Date.now();
  const Records = messages.map(
    (message, index): SQSRecord => ({
      messageId: message.messageId ?? randomUUID(),
      receiptHandle: `receipt-${index}-${randomUUID()}`,
      body: message.body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(now - 1000),
        SenderId: 'AIDAEXAMPLESENDER',
        ApproximateFirstReceiveTimestamp: String(now),
      },
      messageAttributes: {},
      md5OfBody: createHash('md5').update(message.body).digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: QUEUE_ARN,
      awsRegion: 'us-east-1',
    }),
  );
  return { Records };
}

/** A message whose body is `event` as JSON. */
export function job(messageId: string, event: Record<string, unknown>): Message {
  return { messageId, body: JSON.stringify(event) };
}
