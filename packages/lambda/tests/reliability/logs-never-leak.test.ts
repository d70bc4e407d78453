import type { S3Client } from '@aws-sdk/client-s3';
import { fastPresigner, type Presigner } from '@presign-pipeline/core';
import { useS3Endpoint } from '@presign-pipeline/minio-testing/vitest';
import { describe, expect, it } from 'vitest';
import { createPresignHandler } from '../../src/handler.js';
import { lambdaContext, pdfKeys, sessionCredentials, uniqueBucket, within, useSeededProxy } from './helpers.js';

/**
 * What the handler prints never holds a presigned URL's signature or a credential. Every byte written to stdout and
 * stderr during an invocation (the handler's own lines, the EMF document, anything the SDK or a console call prints,
 * and the error the Lambda runtime would print for a failed invocation) is captured and searched for the session
 * credentials and for SigV4 query parameters. The one place a URL may appear is the handler's return value.
 */
const endpoint = useS3Endpoint();
const bucket = uniqueBucket('leaks');
const prefix = 'reports/';
const keys = [...pdfKeys(prefix, 10), `${prefix}poison-1.pdf`, `${prefix}poison-2.pdf`];
const credentials = sessionCredentials(3_600_000);

const faults = useSeededProxy(endpoint, bucket, keys);

/** Everything printed while `fn` runs: stdout and stderr writes and console calls, none of it passed through. */
async function captureAllOutput<T>(
  fn: () => Promise<T>,
): Promise<{ output: string; outcome: { value?: T; error?: unknown } }> {
  const chunks: string[] = [];
  const record = (chunk: unknown): void => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk));
  };
  const stdoutWrite = process.stdout.write;
  const stderrWrite = process.stderr.write;
  const consoleMethods = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
  const saved = consoleMethods.map((name) => console[name]);
  const fakeWrite = ((chunk: unknown, ...rest: unknown[]) => {
    record(chunk);
    const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = fakeWrite;
  process.stderr.write = fakeWrite;
  for (const name of consoleMethods) console[name] = (...args: unknown[]) => record(`${args.map(String).join(' ')}\n`);
  const outcome: { value?: T; error?: unknown } = {};
  try {
    outcome.value = await fn();
  } catch (error) {
    outcome.error = error;
    // What the Lambda runtime prints for a failed invocation: the error's type, message and stack.
    const e = error as Error;
    console.error(
      `ERROR\tInvoke Error\t${JSON.stringify({ errorType: e.name, errorMessage: e.message, stack: e.stack?.split('\n') })}`,
    );
  } finally {
    process.stdout.write = stdoutWrite;
    process.stderr.write = stderrWrite;
    consoleMethods.forEach((name, i) => {
      console[name] = saved[i] as (typeof console)[typeof name];
    });
  }
  return { output: chunks.join(''), outcome };
}

/**
 * A presigner that fails the poisoned keys (and, if asked, the manifest) with an error whose message embeds a real
 * presigned URL, as an HTTP layer or a signer might.
 */
function leakyPresigner(options: { failManifest: boolean }) {
  return (signingClient: S3Client): Presigner => {
    const inner = fastPresigner({ client: signingClient });
    return {
      async presign(object, presignOptions) {
        const poisoned = object.key.includes('poison') || (options.failManifest && object.key.startsWith('manifests/'));
        if (!poisoned) return inner.presign(object, presignOptions);
        const url = await inner.presign(object, presignOptions);
        throw new Error(`GET ${url} failed: upstream answered 403`);
      },
      credentialsExpiration: () => inner.credentialsExpiration(),
    };
  };
}

/** What must never be printed. */
function expectNoSecrets(output: string): void {
  expect(output.length).toBeGreaterThan(0);
  expect(output).not.toContain(credentials.secretAccessKey);
  expect(output).not.toContain(credentials.sessionToken);
  expect(output).not.toContain(encodeURIComponent(credentials.sessionToken));
  expect(output).not.toContain(credentials.accessKeyId);
  // A SigV4 parameter may be named (masked as `X-Amz-Signature=[redacted]`), never given a value.
  expect(output).not.toMatch(/X-Amz-(?:Signature|Credential|Security-Token)=(?!\[redacted\])/i);
  expect(output).not.toMatch(/\b[0-9a-f]{64}\b/); // a hex SigV4 signature
}

function handler(options: { failManifest: boolean }) {
  return createPresignHandler({
    // No `write` option: the handler writes to the real stdout, as in Lambda.
    idempotency: false,
    presigner: leakyPresigner(options),
    clientConfig: { region: endpoint.region, credentials: async () => credentials, maxAttempts: 2 },
    env: { S3_ENDPOINT_URL: faults.proxy.endpoint, AWS_REGION: endpoint.region },
  });
}

describe('logs never contain a URL signature or a credential', () => {
  it('a successful invocation with item errors whose messages embed presigned URLs: only the return value holds a URL', async () => {
    // Act
    const { output, outcome } = await within(
      captureAllOutput(() => handler({ failManifest: false })({ bucket, prefix }, lambdaContext('req-leak-ok'))),
    );

    // Assess: the run really produced the item errors and a signed manifest URL…
    if (outcome.error !== undefined) throw outcome.error;
    const response = outcome.value as { statusCode: number; body: string };
    expect(response.statusCode).toBe(200);
    const body = JSON.parse(response.body) as { count: number; errors: number; manifest_url: string };
    expect(body).toMatchObject({ count: 10, errors: 2 });
    expect(body.manifest_url).toContain('X-Amz-Signature=');
    expect(body.manifest_url).toContain(`X-Amz-Security-Token=${encodeURIComponent(credentials.sessionToken)}`);
    const lines = output
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.filter((l) => l.event === 'presign_error').map((l) => l.key)).toEqual([
      `${prefix}poison-1.pdf`,
      `${prefix}poison-2.pdf`,
    ]);
    expect(lines.find((l) => l.event === 'presign_error')?.error).toMatch(
      /^GET http:\/\/127\.0\.0\.1:\d+\/.*poison-1\.pdf\?\[redacted\] failed/,
    );
    expect(lines.some((l) => l._aws !== undefined)).toBe(true); // the EMF document was captured too

    // …and nothing printed holds a secret.
    expectNoSecrets(output);
  });

  it("a failed invocation (the manifest URL cannot be made, its error embeds one): the error line and the runtime's error report hold no secret", async () => {
    // Act
    const { output, outcome } = await within(
      captureAllOutput(() => handler({ failManifest: true })({ bucket, prefix }, lambdaContext('req-leak-fail'))),
    );

    // Assess
    expect(outcome.error).toBeInstanceOf(Error);
    expect(output).toMatch(/"event":"error"/);
    expect(output).toMatch(/Invoke Error/);
    expectNoSecrets(output);
  });

  it('an S3 failure after retries (SlowDown on every PutObject): nothing secret in what is printed', async () => {
    faults.proxy.setRules([{ fault: 'slow-down', operation: 'PutObject' }]);
    try {
      const { output, outcome } = await within(
        captureAllOutput(() => handler({ failManifest: false })({ bucket, prefix }, lambdaContext('req-leak-s3'))),
      );
      expect((outcome.error as Error).name).toBe('SlowDown');
      expectNoSecrets(output);
    } finally {
      faults.proxy.setRules([]);
    }
  });
});
