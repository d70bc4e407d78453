import { describe, expect, it } from 'vitest';
import {
  asSqsEvent,
  captureInvocation,
  maskPresignedUrls,
  maskPresignedUrlsIn,
  renderPanels,
  stubContext,
} from '../../src/runner.js';

const EMF = JSON.stringify({
  _aws: {
    Timestamp: 1,
    CloudWatchMetrics: [
      { Namespace: 'ns', Dimensions: [['Function']], Metrics: [{ Name: 'PresignCount', Unit: 'Count' }] },
    ],
  },
  Function: 'f',
  PresignCount: 3,
});

describe('stubContext', () => {
  it('counts the remaining time down from the timeout and has a fresh request id', () => {
    let now = 1000;
    const context = stubContext('fn', 5000, () => now);
    expect(context.getRemainingTimeInMillis()).toBe(5000);
    now += 1200;
    expect(context.getRemainingTimeInMillis()).toBe(3800);
    now += 10_000;
    expect(context.getRemainingTimeInMillis()).toBe(0);
    expect(context.awsRequestId).not.toBe(stubContext('fn', 1).awsRequestId);
    expect(context.functionName).toBe('fn');
  });
});

describe('asSqsEvent', () => {
  it('wraps a plain event as one message, and passes an SQS event through', () => {
    const wrapped = asSqsEvent({ bucket: 'b' });
    expect(wrapped.Records).toHaveLength(1);
    expect(JSON.parse(wrapped.Records[0]!.body)).toEqual({ bucket: 'b' });
    const already = { Records: [] };
    expect(asSqsEvent(already)).toBe(already);
  });
});

describe('captureInvocation', () => {
  it('captures stdout during the call, and splits logs from metrics', async () => {
    const run = await captureInvocation(async () => {
      process.stdout.write('{"event":"complete","request_id":"r","count":3}\n');
      process.stdout.write(`${EMF}\n`);
      process.stdout.write('plain text\n');
      return { statusCode: 200, body: '{}' };
    }, 5000);
    expect(run.result).toEqual({ statusCode: 200, body: '{}' });
    expect(run.logs).toEqual([{ event: 'complete', request_id: 'r', count: 3 }]);
    expect(run.metrics.map((m) => [m.name, m.unit, m.value])).toEqual([['PresignCount', 'Count', 3]]);
    expect(run.otherOutput).toEqual(['plain text']);
  });

  it('records a thrown error and a timeout', async () => {
    const thrown = await captureInvocation(async () => {
      const error = new Error('no bucket');
      error.name = 'NoSuchBucket';
      throw error;
    }, 5000);
    expect(thrown.error).toEqual({ name: 'NoSuchBucket', message: 'no bucket' });
    const slow = await captureInvocation(() => new Promise(() => undefined), 20);
    expect(slow.timedOut).toBe(true);
  });
});

describe('captureInvocation and the invocations it abandons', () => {
  const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('drops what an abandoned invocation prints later, instead of giving it to the next invocation', async () => {
    // Prepare: a handler that outlives its timeout and prints afterwards.
    const abandoned = await captureInvocation(async () => {
      await later(60);
      process.stdout.write('{"event":"late"}\n');
      process.stdout.write('late plain line\n');
    }, 10);

    // Act: the next invocation runs while the abandoned one prints.
    const next = await captureInvocation(async () => {
      await later(120);
      process.stdout.write('{"event":"mine"}\n');
      return 'done';
    }, 5000);

    // Assess
    expect(abandoned.timedOut).toBe(true);
    expect(next.logs).toEqual([{ event: 'mine' }]);
    expect(next.otherOutput).toEqual([]);
  });

  it('aborts the invocation on a timeout, so a handler that takes a signal stops', async () => {
    const controller = new AbortController();
    const run = await captureInvocation(() => new Promise(() => undefined), 10, controller);
    expect(run.timedOut).toBe(true);
    expect(controller.signal.aborted).toBe(true);
  });

  it('waits out a timeout longer than setTimeout can hold instead of firing at once', async () => {
    const run = await captureInvocation(async () => {
      await later(30);
      return 'answered';
    }, 3_000_000_000);
    expect(run).toMatchObject({ timedOut: false, result: 'answered' });
  });

  it('shows lines that start with a brace but are not JSON objects as other output', async () => {
    const run = await captureInvocation(async () => {
      process.stdout.write("{ step: 'listed', keys: 3 }\n");
      process.stdout.write('{"event":"truncated"\n');
      process.stdout.write('{"event":"ok"}\n');
    }, 5000);
    expect(run.logs).toEqual([{ event: 'ok' }]);
    expect(run.otherOutput).toEqual(["{ step: 'listed', keys: 3 }", '{"event":"truncated"']);
  });
});

describe('renderPanels', () => {
  it('shows the result, the logs as a table and the metrics, never a presigned URL in the logs panel', async () => {
    const url = 'http://127.0.0.1:9000/b/k.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc';
    const run = await captureInvocation(async () => {
      process.stdout.write(
        `${JSON.stringify({ event: 'presign_error', request_id: 'r1', key: 'k.pdf', error: `failed ${url}` })}\n`,
      );
      process.stdout.write(`${EMF}\n`);
      return { statusCode: 200, body: JSON.stringify({ count: 3, errors: 1, manifest_key: 'm', manifest_url: url }) };
    }, 5000);
    const text = renderPanels(run);
    const [result, logs] = text.split('== Structured logs');
    expect(result).toContain('statusCode: 200');
    expect(result).toContain('"count": 3');
    expect(logs).toContain('presign_error');
    expect(logs).toContain('r1');
    expect(logs).toContain('[presigned URL]');
    expect(logs).not.toContain('X-Amz-Signature');
    expect(text).toMatch(/PresignCount\s+Count\s+3/);
    expect(text).toContain('namespace: ns   dimensions: Function=f');
  });

  it('masks presigned URLs', () => {
    expect(maskPresignedUrls('see https://h/b/k?X-Amz-Credential=a%2Fb&X-Amz-Signature=1 now')).toBe(
      'see [presigned URL] now',
    );
    expect(maskPresignedUrls('https://example.com/plain')).toBe('https://example.com/plain');
  });

  it('masks the strings of a value, which stays valid JSON when a URL sits in escaped quotes', () => {
    const logs = [
      { event: 'invalid_request', error: 'expiry_seconds must be an integer (got "http://h/?X-Amz-Signature=a")' },
    ];
    const masked = maskPresignedUrlsIn(logs);
    expect(JSON.parse(JSON.stringify(masked))).toEqual([
      { event: 'invalid_request', error: 'expiry_seconds must be an integer (got "[presigned URL]")' },
    ]);
    expect(logs[0]?.error).toContain('X-Amz-Signature');
  });
});
