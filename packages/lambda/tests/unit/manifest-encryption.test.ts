import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { BatchInputError, createBatchHandler, createManifestIndexHandler } from '../../src/batch.js';
import { resolveConfig } from '../../src/config.js';
import { createPresignHandler } from '../../src/handler.js';
import { countingS3Client } from '../helpers/capture.js';
import { memoryS3Client } from '../helpers/memory-s3.js';
import { ok, rejected } from '../helpers/config-result.js';
import { unitContext } from '../helpers/events.js';

const context = (requestId = 'sse-req'): Context => unitContext(60_000, requestId);

describe('resolveConfig: MANIFEST_SSE and MANIFEST_KMS_KEY_ID', () => {
  it('leaves the manifest to the bucket default when neither is set (or both are empty)', () => {
    expect(ok(resolveConfig({}, {})).manifestEncryption).toBeUndefined();
    expect(ok(resolveConfig({}, { MANIFEST_SSE: '', MANIFEST_KMS_KEY_ID: '' })).manifestEncryption).toBeUndefined();
  });

  it.each(['AES256', 'aws:kms', 'aws:kms:dsse'] as const)('accepts MANIFEST_SSE=%s', (mode) => {
    expect(ok(resolveConfig({}, { MANIFEST_SSE: mode })).manifestEncryption).toEqual({ serverSideEncryption: mode });
  });

  it('carries MANIFEST_KMS_KEY_ID with a KMS mode, trimmed', () => {
    const config = ok(resolveConfig({}, { MANIFEST_SSE: ' aws:kms ', MANIFEST_KMS_KEY_ID: ' alias/manifests ' }));
    expect(config.manifestEncryption).toEqual({ serverSideEncryption: 'aws:kms', kmsKeyId: 'alias/manifests' });
  });

  it.each(['aes256', 'KMS', 'aws:kms:dual', 'none'])('answers 400 naming MANIFEST_SSE for %j', (mode) => {
    const rejection = rejected(resolveConfig({}, { MANIFEST_SSE: mode }));
    expect(rejection.statusCode).toBe(400);
    expect(rejection.field).toBe('MANIFEST_SSE');
    expect(rejection.error).toContain('MANIFEST_SSE must be one of AES256, aws:kms, aws:kms:dsse');
    expect(rejection.error).toContain(JSON.stringify(mode));
  });

  it('answers 400 naming MANIFEST_KMS_KEY_ID when the key has no KMS mode to go with', () => {
    for (const env of [
      { MANIFEST_KMS_KEY_ID: 'alias/x' },
      { MANIFEST_SSE: 'AES256', MANIFEST_KMS_KEY_ID: 'alias/x' },
    ]) {
      const rejection = rejected(resolveConfig({}, env));
      expect(rejection).toMatchObject({ statusCode: 400, field: 'MANIFEST_KMS_KEY_ID' });
      expect(rejection.error).toContain('aws:kms');
    }
  });

  it('lets the option override the environment, bad values included', () => {
    const config = ok(
      resolveConfig({}, { MANIFEST_SSE: 'bogus' }, { manifestEncryption: { serverSideEncryption: 'AES256' } }),
    );
    expect(config.manifestEncryption).toEqual({ serverSideEncryption: 'AES256' });
  });
});

describe('createPresignHandler: manifest encryption', () => {
  it('answers 400 naming MANIFEST_SSE before any S3 call, read per invocation', async () => {
    const s3 = countingS3Client();
    const env: Record<string, string | undefined> = { MANIFEST_SSE: 'AES-256' };
    const handler = createPresignHandler({ s3Client: s3.client, write: () => {}, env });
    const response = await handler({ bucket: 'reports' }, context());
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ field: 'MANIFEST_SSE' });
    expect(s3.calls()).toBe(0);
    env.MANIFEST_SSE = 'aws:kms';
    env.BUCKET_NAME = 'Bad Bucket';
    // The next invocation sees the corrected variable: what fails now is the bucket, not MANIFEST_SSE.
    expect(JSON.parse((await handler({}, context())).body)).toMatchObject({ field: 'BUCKET_NAME' });
  });

  it('refuses an unusable manifestEncryption option at creation', () => {
    const make = (manifestEncryption: unknown) => () =>
      createPresignHandler({ write: () => {}, env: {}, manifestEncryption: manifestEncryption as never });
    expect(make('AES256')).toThrow(/manifestEncryption must be an object/);
    expect(make({ serverSideEncryption: 'aes256' })).toThrow(/manifestEncryption\.serverSideEncryption must be one of/);
    expect(make({ serverSideEncryption: 'AES256', kmsKeyId: 'alias/x' })).toThrow(/manifestEncryption\.kmsKeyId needs/);
    expect(make({ serverSideEncryption: 'aws:kms', kmsKeyId: '' })).toThrow(
      /manifestEncryption\.kmsKeyId must be a non-empty/,
    );
    expect(make({ serverSideEncryption: 'aws:kms:dsse', kmsKeyId: 'arn:aws:kms:us-east-1:1:key/k' })).not.toThrow();
  });

  it('uploads the manifest with the configured encryption', async () => {
    const s3 = memoryS3Client({ keys: ['r/a.pdf', 'r/b.pdf'] });
    const handler = createPresignHandler({
      s3Client: s3.client,
      write: () => {},
      env: { MANIFEST_SSE: 'aws:kms', MANIFEST_KMS_KEY_ID: 'alias/manifests' },
    });
    const response = await handler({ bucket: 'reports', prefix: 'r/' }, context());
    expect(response.statusCode).toBe(200);
    const puts = s3.calls.filter((call) => call.name === 'PutObject');
    expect(puts).toHaveLength(1);
    expect(puts[0]?.input).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/manifests' });
  });
});

describe('batch and index handlers: manifest encryption', () => {
  const items = [{ Key: 'r/a.pdf' }, { Key: 'r/b.pdf' }];

  it('encrypt the part and the index as MANIFEST_SSE says', async () => {
    const s3 = memoryS3Client({ keys: [] });
    const env = { MANIFEST_SSE: 'AES256' };
    const part = await createBatchHandler({ s3Client: s3.client, write: () => {}, env })(
      { Items: items, BatchInput: { bucket: 'reports', run: 'exec-1' } },
      context(),
    );
    expect(part.count).toBe(2);
    await createManifestIndexHandler({ s3Client: s3.client, write: () => {}, env })(
      { bucket: 'reports', run: 'exec-1' },
      context(),
    );
    const puts = s3.calls.filter((call) => call.name === 'PutObject');
    expect(puts.map((call) => call.input.Key)).toEqual([part.part_key, 'manifests/exec-1/index.jsonl']);
    for (const put of puts) expect(put.input.ServerSideEncryption).toBe('AES256');
    expect(puts.every((put) => !('SSEKMSKeyId' in put.input))).toBe(true);
  });

  it('fail with InvalidBatchInput naming MANIFEST_SSE before any S3 call', async () => {
    const s3 = countingS3Client();
    const handler = createBatchHandler({ s3Client: s3.client, write: () => {}, env: { MANIFEST_SSE: 'yes' } });
    const error = await handler({ Items: items, BatchInput: { bucket: 'reports', run: 'exec-1' } }, context()).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(BatchInputError);
    expect(error).toMatchObject({ name: 'InvalidBatchInput', field: 'MANIFEST_SSE' });
    expect(s3.calls()).toBe(0);
  });
});
