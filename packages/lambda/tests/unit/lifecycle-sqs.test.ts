import { BatchProcessor } from '@aws-lambda-powertools/batch';
import { PresignPipelineError } from '@presign-pipeline/core';
import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { ensureManifestLifecycle } from '../../src/lifecycle.js';
import { createSqsHandler, SqsJobError } from '../../src/sqs.js';
import { countingS3Client, lineSink, readCaptured } from '../helpers/capture.js';
import { sqsMessage } from '../helpers/events.js';

describe('ensureManifestLifecycle: arguments', () => {
  it.each([
    [{ bucket: 'Bad_Bucket' }, /bucket/],
    [{ bucket: 'good-bucket', prefix: '' }, /prefix/],
    [{ bucket: 'good-bucket', days: 0 }, /days/],
    [{ bucket: 'good-bucket', days: 1.5 }, /days/],
  ])('refuses %j before any S3 call', async (options, message) => {
    const s3 = countingS3Client();
    await expect(ensureManifestLifecycle({ client: s3.client, ...options } as never)).rejects.toThrow(message);
    expect(s3.calls()).toBe(0);
  });

  it('refuses a missing client', async () => {
    await expect(ensureManifestLifecycle({ client: undefined as never, bucket: 'good-bucket' })).rejects.toThrow(
      /client/,
    );
  });
});

describe('createSqsHandler: bad messages', () => {
  it('reports every bad message as a failure, without crashing or calling S3', async () => {
    const s3 = countingS3Client();
    const sink = lineSink();
    const handler = createSqsHandler({ s3Client: s3.client, write: sink.write, env: {} });
    const failures = vi.spyOn(BatchProcessor.prototype, 'failureHandler');
    const response = await handler({
      Records: [
        sqsMessage('m1', 'not json'),
        sqsMessage('m2', '"a string"'),
        sqsMessage('m3', '{"bucket":"Bad_Name"}'),
        sqsMessage('m4', '{"expiry_seconds":0.5}'),
        // A body of null used to run the default job; 1e999 parses to Infinity.
        sqsMessage('m5', 'null'),
        sqsMessage('m6', '[]'),
        sqsMessage('m7', '{"page_size":1e999}'),
      ],
    });
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([
      'm1',
      'm2',
      'm3',
      'm4',
      'm5',
      'm6',
      'm7',
    ]);
    expect(s3.calls()).toBe(0);
    const invalid = readCaptured(sink.lines).logs.filter((l) => l.event === 'invalid_request');
    expect(invalid.map((l) => [l.request_id, l.field])).toEqual([
      ['m1', 'body'],
      ['m2', 'event'],
      ['m3', 'bucket'],
      ['m4', 'expiry_seconds'],
      ['m5', 'event'],
      ['m6', 'event'],
      ['m7', 'page_size'],
    ]);
    // Each is recorded with an SqsJobError, code JOB_REJECTED; those the handler answered carry its 400.
    const errors = failures.mock.calls.map(([, error]) => error as SqsJobError);
    expect(errors).toHaveLength(7);
    for (const error of errors) {
      expect(error).toBeInstanceOf(SqsJobError);
      expect(error).toBeInstanceOf(PresignPipelineError);
      expect(error.code).toBe('JOB_REJECTED');
    }
    expect(errors.filter((e) => e.response !== undefined).map((e) => e.response?.statusCode)).toEqual(
      Array(6).fill(400),
    );
    failures.mockRestore();
  });

  it.each([
    ['null', null, 'Records[0]'],
    ['a string', 'text', 'Records[0]'],
    ['an object without a messageId', 'no-id', 'Records[0].messageId'],
  ])('fails the batch before running any message when a record is %s, naming it', async (_what, bad, field) => {
    // Prepare
    const s3 = countingS3Client();
    const sink = lineSink();
    const handler = createSqsHandler({ s3Client: s3.client, write: sink.write, env: {} });
    const { messageId: _, ...withoutId } = sqsMessage('x', '{"bucket":"reports"}');
    const record = bad === 'no-id' ? withoutId : bad;
    const event = { Records: [record, sqsMessage('good', '{"bucket":"reports"}')] } as unknown as SQSEvent;

    // Act
    const run = handler(event, { awsRequestId: 'inv-1' } as never);

    // Assess: SQS redelivers the whole batch rather than deleting a record no failure can name.
    await expect(run).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    const invalid = readCaptured(sink.lines).logs.filter((l) => l.event === 'invalid_request');
    expect(invalid.map((l) => [l.request_id, l.field])).toEqual([['inv-1', field]]);
    expect(s3.calls()).toBe(0);
  });

  it('refuses a bad recordConcurrency', () => {
    expect(() => createSqsHandler({ recordConcurrency: 0 })).toThrow(/recordConcurrency/);
    expect(() => createSqsHandler({ recordConcurrency: 11 })).toThrow(/recordConcurrency/);
  });

  it('throws for an event that is not an SQS batch', async () => {
    const handler = createSqsHandler({ env: {}, write: () => undefined });
    await expect(handler({} as SQSEvent)).rejects.toThrow();
  });
});
