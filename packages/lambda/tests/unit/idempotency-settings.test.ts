import { describe, expect, it } from 'vitest';
import { createPresignHandler } from '../../src/handler.js';
import { checkIdempotencyOption, resolveIdempotencySettings } from '../../src/idempotency.js';

describe('the idempotency option, checked when the handler is created', () => {
  it.each([
    ['ttlSeconds -5', { tableName: 'jobs', ttlSeconds: -5 }, 'idempotency.ttlSeconds', RangeError],
    ['ttlSeconds 0.5', { tableName: 'jobs', ttlSeconds: 0.5 }, 'idempotency.ttlSeconds', RangeError],
    ['ttlSeconds 0', { tableName: 'jobs', ttlSeconds: 0 }, 'idempotency.ttlSeconds', RangeError],
    ['ttlSeconds NaN', { tableName: 'jobs', ttlSeconds: Number.NaN }, 'idempotency.ttlSeconds', TypeError],
    ['ttlSeconds "60"', { tableName: 'jobs', ttlSeconds: '60' }, 'idempotency.ttlSeconds', TypeError],
    ['marginSeconds -1000', { tableName: 'jobs', marginSeconds: -1000 }, 'idempotency.marginSeconds', RangeError],
    ['marginSeconds 1.5', { tableName: 'jobs', marginSeconds: 1.5 }, 'idempotency.marginSeconds', RangeError],
    ['tableName empty', { tableName: '' }, 'idempotency.tableName', RangeError],
    ['tableName with spaces', { tableName: ' jobs ' }, 'idempotency.tableName', RangeError],
    ['tableName too short', { tableName: 'ab' }, 'idempotency.tableName', RangeError],
    ['tableName missing', {}, 'idempotency.tableName', TypeError],
    [
      'endpoint without a scheme',
      { tableName: 'jobs', endpoint: '127.0.0.1:8000' },
      'idempotency.endpoint',
      RangeError,
    ],
    ['not an object', 'jobs', 'idempotency', TypeError],
  ])('refuses %s with INVALID_OPTION naming the field', (_name, option, field, kind) => {
    const create = () => createPresignHandler({ write: () => undefined, idempotency: option as never });
    expect(create).toThrow(kind);
    expect(create).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', message: expect.stringContaining(field) }),
    );
  });

  it('accepts the ranges the environment variables accept', () => {
    const option = { tableName: 'my-table.v2_x', ttlSeconds: 1, marginSeconds: 0, endpoint: 'http://127.0.0.1:8000' };
    expect(checkIdempotencyOption('owner', option)).toBe(option);
    expect(checkIdempotencyOption('owner', false)).toBe(false);
    expect(checkIdempotencyOption('owner', undefined)).toBeUndefined();
  });
});

describe('resolveIdempotencySettings: the environment', () => {
  it('refuses an IDEMPOTENCY_TABLE that is no DynamoDB table name with a 400 naming it', () => {
    expect(resolveIdempotencySettings({ IDEMPOTENCY_TABLE: 'bad name!' }, undefined)).toMatchObject({
      statusCode: 400,
      field: 'IDEMPOTENCY_TABLE',
      error: expect.stringContaining('IDEMPOTENCY_TABLE must be a DynamoDB table name'),
    });
    expect(resolveIdempotencySettings({ IDEMPOTENCY_TABLE: 'x'.repeat(256) }, undefined)).toMatchObject({
      field: 'IDEMPOTENCY_TABLE',
    });
  });

  it('trims IDEMPOTENCY_TABLE as other names are read, and takes a blank one as off', () => {
    expect(resolveIdempotencySettings({ IDEMPOTENCY_TABLE: ' jobs \n' }, undefined)).toMatchObject({
      tableName: 'jobs',
    });
    expect(resolveIdempotencySettings({ IDEMPOTENCY_TABLE: '   ' }, undefined)).toBeUndefined();
    expect(resolveIdempotencySettings({ IDEMPOTENCY_TABLE: '' }, undefined)).toBeUndefined();
  });

  it('checks DYNAMODB_ENDPOINT_URL as S3_ENDPOINT_URL is, with a 400 naming it', () => {
    for (const endpoint of ['127.0.0.1:8000', 'ftp://db', 'http://key:secret@127.0.0.1:8000']) {
      const rejection = resolveIdempotencySettings(
        { IDEMPOTENCY_TABLE: 'jobs', DYNAMODB_ENDPOINT_URL: endpoint },
        undefined,
      );
      expect(rejection).toMatchObject({ statusCode: 400, field: 'DYNAMODB_ENDPOINT_URL' });
      expect(JSON.stringify(rejection)).not.toContain('secret');
    }
    expect(
      resolveIdempotencySettings(
        { IDEMPOTENCY_TABLE: 'jobs', DYNAMODB_ENDPOINT_URL: 'http://127.0.0.1:8000' },
        undefined,
      ),
    ).toMatchObject({ endpoint: 'http://127.0.0.1:8000' });
    expect(
      resolveIdempotencySettings({ IDEMPOTENCY_TABLE: 'jobs', DYNAMODB_ENDPOINT_URL: '' }, undefined),
    ).not.toHaveProperty('endpoint');
  });

  it('takes the option over the environment, field by field', () => {
    const env = { IDEMPOTENCY_TABLE: 'env-table', IDEMPOTENCY_TTL_SECONDS: '120', DYNAMODB_ENDPOINT_URL: 'nope' };
    expect(
      resolveIdempotencySettings(env, { tableName: 'code-table', ttlSeconds: 30, endpoint: 'http://127.0.0.1:1' }),
    ).toEqual({ tableName: 'code-table', ttlSeconds: 30, marginSeconds: 60, endpoint: 'http://127.0.0.1:1' });
    expect(resolveIdempotencySettings({ ...env, DYNAMODB_ENDPOINT_URL: '' }, { tableName: 'code-table' })).toEqual({
      tableName: 'code-table',
      ttlSeconds: 120,
      marginSeconds: 60,
    });
  });
});
