import { describe, expect, it } from 'vitest';
import { checkAccess, parseList, resolveAccessPolicy } from '../../src/access.js';
import { resolveConfig, type PresignConfig } from '../../src/config.js';
import { recordLifetimeSeconds, resolveIdempotencySettings } from '../../src/idempotency.js';

function config(event: Record<string, unknown>, env: Record<string, string> = {}): PresignConfig {
  const result = resolveConfig(event, env);
  if (!result.ok) throw new Error(result.rejection.error);
  return result.config;
}

describe('allow-list', () => {
  it('parses comma-separated lists, trimming and dropping empty entries', () => {
    expect(parseList(' a, b ,,c ')).toEqual(['a', 'b', 'c']);
    expect(parseList('')).toEqual([]);
    expect(parseList(' , ')).toEqual([]);
    expect(parseList(undefined)).toBeUndefined();
  });

  it('fails closed, saying why, when a list is set but names nothing (a template left it blank)', () => {
    // Prepare
    const policy = resolveAccessPolicy({ ALLOWED_BUCKETS: ' , ', ALLOWED_PREFIXES: '' });

    // Act
    const rejection = checkAccess(config({ bucket: 'reports', prefix: 'team-a/' }), policy);

    // Assess
    expect(rejection).toMatchObject({ statusCode: 403, field: 'bucket' });
    expect(rejection?.error).toContain('ALLOWED_BUCKETS');
    expect(rejection?.error).toContain('names none');
    const prefixes = checkAccess(config({ bucket: 'reports', prefix: 'team-a/' }), { allowedPrefixes: [] });
    expect(prefixes).toMatchObject({ statusCode: 403, field: 'prefix' });
    expect(prefixes?.error).toContain('ALLOWED_PREFIXES');
  });

  it('is open when neither list is set', () => {
    const policy = resolveAccessPolicy({});
    expect(policy).toEqual({});
    expect(checkAccess(config({ bucket: 'any-bucket', prefix: 'any/' }), policy)).toBeUndefined();
  });

  it('admits only listed buckets, and prefixes starting with an allowed one (literally)', () => {
    const policy = resolveAccessPolicy({ ALLOWED_BUCKETS: 'reports', ALLOWED_PREFIXES: 'team-a/' });
    expect(checkAccess(config({ bucket: 'reports', prefix: 'team-a/2026/' }), policy)).toBeUndefined();
    expect(checkAccess(config({ bucket: 'reports', prefix: 'team-a/' }), policy)).toBeUndefined();
    expect(checkAccess(config({ bucket: 'reports', prefix: 'team-b/' }), policy)).toMatchObject({
      statusCode: 403,
      field: 'prefix',
    });
    expect(checkAccess(config({ bucket: 'other', prefix: 'team-a/' }), policy)).toMatchObject({
      statusCode: 403,
      field: 'bucket',
    });
    expect(checkAccess(config({ bucket: 'reports' }, { PREFIX: 'team-b/' }), policy)).toMatchObject({
      field: 'PREFIX',
    });
  });

  it('applies a prefix list alone to every bucket', () => {
    const policy = resolveAccessPolicy({ ALLOWED_PREFIXES: 'public/' });
    expect(checkAccess(config({ bucket: 'a-bucket', prefix: 'public/x' }), policy)).toBeUndefined();
    expect(checkAccess(config({ bucket: 'a-bucket', prefix: 'secret/' }), policy)).toMatchObject({ statusCode: 403 });
  });
});

describe('idempotency settings', () => {
  it('is off without a table, and with the option false even when IDEMPOTENCY_TABLE is set', () => {
    expect(resolveIdempotencySettings({}, undefined)).toBeUndefined();
    expect(resolveIdempotencySettings({ IDEMPOTENCY_TABLE: '' }, undefined)).toBeUndefined();
    expect(resolveIdempotencySettings({ IDEMPOTENCY_TABLE: 'jobs' }, false)).toBeUndefined();
  });

  it('reads IDEMPOTENCY_TABLE, IDEMPOTENCY_TTL_SECONDS and DYNAMODB_ENDPOINT_URL', () => {
    expect(
      resolveIdempotencySettings(
        { IDEMPOTENCY_TABLE: 'jobs', IDEMPOTENCY_TTL_SECONDS: ' 600 ', DYNAMODB_ENDPOINT_URL: 'http://127.0.0.1:1' },
        undefined,
      ),
    ).toEqual({ tableName: 'jobs', ttlSeconds: 600, marginSeconds: 60, endpoint: 'http://127.0.0.1:1' });
    expect(resolveIdempotencySettings({ IDEMPOTENCY_TABLE: 'jobs' }, undefined)).toEqual({
      tableName: 'jobs',
      ttlSeconds: 3600,
      marginSeconds: 60,
    });
  });

  it('refuses a bad IDEMPOTENCY_TTL_SECONDS, naming it', () => {
    expect(
      resolveIdempotencySettings({ IDEMPOTENCY_TABLE: 'jobs', IDEMPOTENCY_TTL_SECONDS: '0' }, undefined),
    ).toMatchObject({
      statusCode: 400,
      field: 'IDEMPOTENCY_TTL_SECONDS',
    });
  });

  it('lets options win over the environment', () => {
    expect(
      resolveIdempotencySettings(
        { IDEMPOTENCY_TABLE: 'env', IDEMPOTENCY_TTL_SECONDS: 'bad' },
        { tableName: 'opt', ttlSeconds: 120 },
      ),
    ).toEqual({
      tableName: 'opt',
      ttlSeconds: 120,
      marginSeconds: 60,
    });
  });

  it('keeps a record no longer than the URLs it points to', () => {
    const settings = { ttlSeconds: 3600, marginSeconds: 60 };
    // The reference's 15-minute URLs: the record lives 14 minutes, not the sketch's 24 hours.
    expect(recordLifetimeSeconds(settings, 900, undefined)).toBe(840);
    expect(recordLifetimeSeconds(settings, 86_400, undefined)).toBe(3600);
    expect(recordLifetimeSeconds(settings, 60, undefined)).toBe(0);
    expect(recordLifetimeSeconds(settings, 30, undefined)).toBeLessThan(0);
    // Credentials expiring in 10 minutes cap it further.
    const now = 1_000_000_000_000;
    expect(recordLifetimeSeconds(settings, 3600, new Date(now + 600_000), now)).toBe(540);
  });
});
