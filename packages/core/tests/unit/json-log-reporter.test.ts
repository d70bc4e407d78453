import { PresignPipelineError } from '../../src/errors.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { memoryManifestWriter } from '../../src/manifest/memory-manifest-writer.js';
import { presignPipeline } from '../../src/pipeline.js';
import {
  completeFields,
  errorFields,
  expiryCappedFields,
  itemErrorFields,
  jsonLogReporter,
} from '../../src/reporters/json-log-reporter.js';
import type { ManifestInfo, ObjectRef } from '../../src/types.js';
import { fakePresigner, rejectionOf, scriptedSource, spyWriter, urlFor } from './pipeline-helpers.js';

const SIGNED_URL =
  'https://reports.s3.us-east-1.amazonaws.com/a%20b.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256' +
  '&X-Amz-Credential=ASIAEXAMPLEEXAMPLE12%2F20261127%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261127T000000Z' +
  '&X-Amz-Expires=900&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLETOKEN&X-Amz-SignedHeaders=host' +
  '&X-Amz-Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
const SECRETS = [
  '0123456789abcdef0123456789abcdef',
  'ASIAEXAMPLEEXAMPLE12',
  'IQoJb3JpZ2luX2VjEXAMPLETOKEN',
  'X-Amz-Signature=0',
];

function capture() {
  const lines: string[] = [];
  return {
    lines,
    reporter: jsonLogReporter({ write: (line) => lines.push(line) }),
    parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** A run whose source fails with `error` when it reaches its second page, reported to `reporter`; settles when it failed. */
async function runFailingAtPage2(reporter: ReturnType<typeof jsonLogReporter>, error: Error, requestId: string) {
  await rejectionOf(
    presignPipeline({
      source: scriptedSource([['a'], ['b']], { failAt: { page: 1, error } }),
      presigner: fakePresigner(),
      manifest: memoryManifestWriter(),
      reporters: [reporter],
      requestId,
    }),
  );
}

describe('jsonLogReporter', () => {
  afterEach(() => vi.restoreAllMocks());

  it('logs the complete event with the reference fields, request_id first, and never the manifest URL', async () => {
    const { lines, reporter, parsed } = capture();
    const info: ManifestInfo = {
      key: 'manifests/abc.jsonl',
      url: SIGNED_URL,
      bytes: 1234,
      location: 's3://reports/manifests/abc.jsonl',
    };
    await presignPipeline({
      source: scriptedSource([['a', 'b'], ['c']]),
      presigner: fakePresigner(),
      manifest: spyWriter({ info }),
      reporters: [reporter],
      requestId: 'req-1',
    });
    expect(lines).toHaveLength(1);
    const [complete] = parsed();
    expect(Object.keys(complete ?? {})).toEqual([
      'event',
      'request_id',
      'count',
      'errors',
      'pages',
      'duration_ms',
      'effective_expiry_seconds',
      'complete',
      'manifest_key',
      'manifest_bytes',
    ]);
    expect(complete).toMatchObject({
      event: 'complete',
      request_id: 'req-1',
      count: 3,
      errors: 0,
      pages: 2,
      effective_expiry_seconds: 900,
      complete: true,
      manifest_key: 'manifests/abc.jsonl',
      manifest_bytes: 1234,
    });
    const duration = complete?.duration_ms as number;
    expect(Math.round(duration * 100) / 100).toBe(duration);
    for (const secret of SECRETS) expect(lines.join('\n')).not.toContain(secret);
  });

  it('logs the file location when the manifest has no S3 key, and the resume cursor of a partial run', async () => {
    const { parsed, reporter } = capture();
    await presignPipeline({
      source: scriptedSource([['a']]),
      presigner: fakePresigner(),
      manifest: memoryManifestWriter(),
      reporters: [reporter],
      deadline: Date.now() - 1,
    });
    expect(parsed()[0]).toMatchObject({
      event: 'complete',
      complete: false,
      manifest_location: 'memory',
      manifest_bytes: 0,
    });
    expect(parsed()[0]).not.toHaveProperty('manifest_key');
  });

  it('logs presign errors with key and message, scrubbing a presigned URL embedded in the message', async () => {
    const { lines, parsed, reporter } = capture();
    const presigner = {
      async presign(object: ObjectRef): Promise<string> {
        if (object.key === 'a b.pdf') throw new Error(`signing failed for ${SIGNED_URL} (retry later)`);
        return urlFor(object);
      },
    };
    await presignPipeline({
      source: scriptedSource([['ok.pdf', 'a b.pdf']]),
      presigner,
      manifest: memoryManifestWriter(),
      reporters: [reporter],
      requestId: 'req-2',
    });
    const errorLine = parsed().find((l) => l.event === 'presign_error');
    expect(Object.keys(errorLine ?? {})).toEqual(['event', 'request_id', 'key', 'error']);
    expect(errorLine).toMatchObject({ request_id: 'req-2', key: 'a b.pdf' });
    expect(errorLine?.error).toBe(
      'signing failed for https://reports.s3.us-east-1.amazonaws.com/a%20b.pdf?[redacted] (retry later)',
    );
    for (const secret of SECRETS) expect(lines.join('\n')).not.toContain(secret);
  });

  it('scrubs stray SigV4 parameters and access key ids that are not part of a full URL', async () => {
    const { lines, reporter } = capture();
    const presigner = fakePresigner({
      failFor: () =>
        new Error('bad query X-Amz-Signature=0123456789abcdef0123456789abcdef from key ASIAEXAMPLEEXAMPLE12'),
    });
    await presignPipeline({
      source: scriptedSource([['k']]),
      presigner,
      manifest: memoryManifestWriter(),
      reporters: [reporter],
    });
    expect(lines[0]).toContain('X-Amz-Signature=[redacted]');
    for (const secret of SECRETS) expect(lines.join('\n')).not.toContain(secret);
  });

  it('logs a failed run as an error event with the error name and counts', async () => {
    const { lines, parsed, reporter } = capture();
    const denied = Object.assign(new Error(`Access Denied for ${SIGNED_URL}`), { name: 'AccessDenied' });
    await runFailingAtPage2(reporter, denied, 'req-3');
    const [error] = parsed();
    expect(Object.keys(error ?? {})).toEqual([
      'event',
      'request_id',
      'error',
      'error_name',
      'count',
      'errors',
      'pages',
      'duration_ms',
    ]);
    expect(error).toMatchObject({
      event: 'error',
      request_id: 'req-3',
      error_name: 'AccessDenied',
      errors: 0,
      pages: 1,
    });
    expect(error?.error).toMatch(
      /^Access Denied for https:\/\/reports\.s3\.us-east-1\.amazonaws\.com\/a%20b\.pdf\?\[redacted\]$/,
    );
    for (const secret of SECRETS) expect(lines.join('\n')).not.toContain(secret);
  });

  it('adds error_code when the error has a code (a PresignPipelineError, a network error)', async () => {
    const { parsed, reporter } = capture();
    const malformed = new PresignPipelineError(
      'MALFORMED_RESPONSE',
      'ListObjectsV2 page 2 of s3://b/p/: the answer is not a ListBucketResult',
    );
    await runFailingAtPage2(reporter, malformed, 'req-4');
    const [error] = parsed();
    expect(Object.keys(error ?? {})).toEqual([
      'event',
      'request_id',
      'error',
      'error_name',
      'error_code',
      'count',
      'errors',
      'pages',
      'duration_ms',
    ]);
    expect(error).toMatchObject({ error_name: 'PresignPipelineError', error_code: 'MALFORMED_RESPONSE' });
  });

  it('logs capped expiry', async () => {
    const { parsed, reporter } = capture();
    const expiresAt = new Date(Date.now() + 120_000);
    await presignPipeline({
      source: scriptedSource([['a']]),
      presigner: fakePresigner({ credentialsExpiration: async () => expiresAt }),
      manifest: memoryManifestWriter(),
      reporters: [reporter],
      requestId: 'req-4',
      expiresIn: 900,
    });
    const capped = parsed().find((l) => l.event === 'expiry_capped');
    expect(Object.keys(capped ?? {})).toEqual([
      'event',
      'request_id',
      'requested_expiry_seconds',
      'effective_expiry_seconds',
      'credentials_expire_at',
    ]);
    expect(capped).toMatchObject({
      request_id: 'req-4',
      requested_expiry_seconds: 900,
      credentials_expire_at: expiresAt.toISOString(),
    });
    expect(capped?.effective_expiry_seconds).toBeLessThanOrEqual(120);
  });

  it('writes one line per event to stdout by default', async () => {
    const writes: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    await presignPipeline({
      source: scriptedSource([['a']]),
      presigner: fakePresigner(),
      manifest: memoryManifestWriter(),
      reporters: [jsonLogReporter()],
    });
    vi.restoreAllMocks();
    const ours = writes.filter((w) => w.startsWith('{"event":'));
    expect(ours).toHaveLength(1);
    expect(ours[0]?.endsWith('}\n')).toBe(true);
    expect(ours[0]?.split('\n')).toHaveLength(2);
  });

  it('stops logging once detached, and validates its write option', async () => {
    const { lines, reporter } = capture();
    const { EventEmitter } = await import('eventemitter3');
    const emitter = new EventEmitter();
    const detach = reporter.subscribe(emitter as never) as () => void;
    detach();
    expect(emitter.listenerCount('pipeline-completed')).toBe(0);
    expect(lines).toEqual([]);
    expect(() => jsonLogReporter({ write: 'stdout' as never })).toThrow(
      'jsonLogReporter: option "write" must be a function',
    );
  });
});

describe('jsonLogReporter line builders', () => {
  it('completeFields keeps the reference field order, masks a URL in the location and never carries the manifest URL', () => {
    // Act
    const fields = completeFields({
      requestId: 'r-1',
      result: {
        count: 2,
        errors: 0,
        pages: 1,
        durationMs: 1.23456,
        effectiveExpiresIn: 900,
        complete: true,
        manifest: { url: SIGNED_URL, bytes: 10, location: SIGNED_URL },
      },
    } as unknown as Parameters<typeof completeFields>[0]);

    // Assess
    expect(Object.keys(fields).slice(0, 3)).toEqual(['event', 'request_id', 'count']);
    expect(fields.duration_ms).toBe(1.23);
    const text = JSON.stringify(fields);
    for (const secret of SECRETS) expect(text).not.toContain(secret);
  });

  it('errorFields names the error and adds error_code only for a coded error', () => {
    const base = { requestId: 'r', count: 1, errors: 0, pages: 1, durationMs: 2 };
    const coded = errorFields({
      ...base,
      error: new PresignPipelineError('SOURCE_FAILED', 'boom'),
    } as unknown as Parameters<typeof errorFields>[0]);
    const plain = errorFields({ ...base, error: new TypeError('bad') } as unknown as Parameters<typeof errorFields>[0]);
    expect(coded).toMatchObject({ event: 'error', error_code: 'SOURCE_FAILED', error: 'boom' });
    expect(plain).toMatchObject({ event: 'error', error_name: 'TypeError', error: 'bad' });
    expect(plain).not.toHaveProperty('error_code');
  });

  it('itemErrorFields and expiryCappedFields carry the reference names', () => {
    expect(
      itemErrorFields({ requestId: 'r', key: 'a.pdf', message: 'no' } as Parameters<typeof itemErrorFields>[0]),
    ).toEqual({ event: 'presign_error', request_id: 'r', key: 'a.pdf', error: 'no' });
    expect(
      expiryCappedFields({
        requestId: 'r',
        requestedExpiresIn: 3600,
        effectiveExpiresIn: 900,
        credentialsExpireAt: new Date(Date.UTC(2026, 0, 1)),
      } as Parameters<typeof expiryCappedFields>[0]),
    ).toEqual({
      event: 'expiry_capped',
      request_id: 'r',
      requested_expiry_seconds: 3600,
      effective_expiry_seconds: 900,
      credentials_expire_at: '2026-01-01T00:00:00.000Z',
    });
  });
});
