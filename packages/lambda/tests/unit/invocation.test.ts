import { EventEmitter } from 'node:events';
import { PresignPipelineError, type PipelineEventEmitter } from '@presign-pipeline/core';
import type { EmfReporter } from '@presign-pipeline/emf';
import { describe, expect, it } from 'vitest';
import { Invocation } from '../../src/invocation.js';
import { lineSink, readCaptured } from '../helpers/capture.js';

/** An EMF reporter that records what it is given. */
function recordingMetrics(publish: () => void = () => undefined) {
  const added: Array<[string, number, string | undefined]> = [];
  const metrics = {
    addMetric: (name: string, value: number, unit?: string) => void added.push([name, value, unit]),
    publish,
  } as unknown as EmfReporter;
  return { metrics, added };
}

function invocationWith(publish?: () => void) {
  const sink = lineSink();
  const recorded = recordingMetrics(publish);
  return { invocation: new Invocation('req-1', recorded.metrics, sink.write), sink, added: recorded.added };
}

/** Subscribes the invocation's observer and emits one pipeline event. */
function observe(invocation: Invocation, event: 'pipeline-completed' | 'pipeline-failed'): void {
  const events = new EventEmitter();
  invocation.observer.subscribe(events as unknown as PipelineEventEmitter);
  events.emit(event, {});
}

describe('Invocation', () => {
  it('refuses with the rejection status, an {error, field} body and a forbidden_request or invalid_request line', () => {
    const { invocation, sink } = invocationWith();
    const forbidden = invocation.refuse({ statusCode: 403, field: 'bucket', error: 'not allowed' });
    const invalid = invocation.refuse({ statusCode: 400, field: 'prefix', error: 'bad' });
    expect(forbidden).toEqual({ statusCode: 403, body: '{"error":"not allowed","field":"bucket"}' });
    expect(invalid.statusCode).toBe(400);
    expect(readCaptured(sink.lines).logs).toEqual([
      { event: 'forbidden_request', request_id: 'req-1', field: 'bucket', error: 'not allowed' },
      { event: 'invalid_request', request_id: 'req-1', field: 'prefix', error: 'bad' },
    ]);
  });

  it('publishes zero work metrics and the response size when no run reported', () => {
    const { invocation, added } = invocationWith();
    const response = invocation.respond(200, { count: 1 });
    invocation.publishMetrics();
    expect(added).toEqual([
      ['PDFsProcessed', 0, undefined],
      ['S3ListPages', 0, undefined],
      ['PresignCount', 0, undefined],
      ['ManifestBytes', 0, undefined],
      ['ResponseBytes', Buffer.byteLength(response.body), 'Bytes'],
    ]);
  });

  it('adds no zeros once the run completed, and no ResponseBytes without a response', () => {
    const { invocation, added } = invocationWith();
    observe(invocation, 'pipeline-completed');
    invocation.publishMetrics();
    expect(added).toEqual([]);
  });

  it('logs a failure once: not again when the run reported it', () => {
    const first = invocationWith();
    const thrown = first.invocation.failure(new Error('boom'));
    const second = invocationWith();
    observe(second.invocation, 'pipeline-failed');
    second.invocation.failure(new Error('boom'));
    expect(thrown.message).toBe('boom');
    expect(readCaptured(first.sink.lines).logs).toEqual([
      { event: 'error', request_id: 'req-1', error: 'boom', error_name: 'Error' },
    ]);
    expect(second.sink.lines).toEqual([]);
  });

  it('names the error thrown by the S3 error a pipeline error wraps', () => {
    const cause = Object.assign(new Error('The specified bucket does not exist'), {
      name: 'NoSuchBucket',
      $metadata: {},
    });
    const error = new PresignPipelineError('SOURCE_FAILED', 'listing failed', { cause });
    const thrown = invocationWith().invocation.failure(error);
    expect(thrown.name).toBe('NoSuchBucket');
    expect(thrown.cause).toBe(error);
  });

  it('keeps a pipeline error whose cause is the SDK failing to read a 2xx answer (no S3 code to name it by)', () => {
    const cause = Object.assign(new Error('@aws-sdk XML parse error'), { $metadata: { httpStatusCode: 200 } });
    const error = new PresignPipelineError('MANIFEST_WRITE_FAILED', 'UploadPart got a 2xx answer that is not S3', {
      cause,
    });
    const thrown = invocationWith().invocation.failure(error);
    expect(thrown).toBe(error);
    expect((thrown as PresignPipelineError).code).toBe('MANIFEST_WRITE_FAILED');
  });

  it('masks a presigned URL in the error thrown and in its log line, keeping the name and code', () => {
    const { invocation, sink } = invocationWith();
    const url =
      'https://b.s3.amazonaws.com/k.pdf?X-Amz-Credential=AKIAEXAMPLE%2F20260101&X-Amz-Signature=abcdef0123456789';
    const error = new PresignPipelineError('PRESIGN_FAILED', `could not fetch ${url}`);
    const thrown = invocation.failure(error);
    expect(thrown).not.toBe(error);
    expect(thrown.message).not.toContain('X-Amz-Signature=abcdef');
    expect(thrown).toMatchObject({ name: error.name, code: 'PRESIGN_FAILED' });
    expect(sink.text()).not.toContain('X-Amz-Signature=abcdef');
  });

  it('logs a metrics_error rather than throw when publishing fails', () => {
    const { invocation, sink } = invocationWith(() => {
      throw new Error('no stdout');
    });
    expect(() => invocation.publishMetrics()).not.toThrow();
    expect(readCaptured(sink.lines).logs).toEqual([
      { event: 'metrics_error', request_id: 'req-1', error: 'no stdout' },
    ]);
  });
});
