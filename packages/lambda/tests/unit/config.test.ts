import { describe, expect, it } from 'vitest';
import { bucketNameProblem, isPythonFalsy, parsePythonInt, resolveConfig } from '../../src/config.js';
import { ok, rejected } from '../helpers/config-result.js';

describe('resolveConfig: defaults and fallbacks', () => {
  it('uses the reference defaults for an empty event and an empty environment', () => {
    const config = ok(resolveConfig({}, {}));
    expect(config).toEqual({
      bucket: 'my-company-reports-bucket',
      prefix: '2026/04/',
      expirySeconds: 900,
      pageSize: 1000,
      concurrency: 4,
      queueMax: 2000,
      deadlineMarginMs: 30_000,
      sources: { bucket: 'default', prefix: 'default', expirySeconds: 'default' },
    });
  });

  it('refuses a missing event (undefined or null) instead of listing the default bucket', () => {
    expect(rejected(resolveConfig(undefined, {}))).toMatchObject({ statusCode: 400, field: 'event' });
    expect(rejected(resolveConfig(null, {}))).toMatchObject({ statusCode: 400, field: 'event' });
    expect(rejected(resolveConfig(null, {})).error).toContain('null');
  });

  it('refuses NaN and the infinities in every numeric field, naming the field and the value', () => {
    for (const field of ['expiry_seconds', 'page_size', 'concurrency']) {
      for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
        const rejection = rejected(resolveConfig({ [field]: value }, { URL_EXPIRY_SECONDS: '300' }));
        expect(rejection).toMatchObject({ statusCode: 400, field });
        expect(rejection.error).toContain(String(value));
      }
    }
    for (const name of ['URL_EXPIRY_SECONDS', 'QUEUE_MAX', 'DEADLINE_MARGIN_MS']) {
      for (const value of ['NaN', 'Infinity', '-Infinity', 'inf']) {
        expect(rejected(resolveConfig({}, { [name]: value }))).toMatchObject({ statusCode: 400, field: name });
      }
    }
  });

  it('falls back to BUCKET_NAME, PREFIX, URL_EXPIRY_SECONDS and QUEUE_MAX', () => {
    const config = ok(
      resolveConfig({}, { BUCKET_NAME: 'env-bucket', PREFIX: 'env/', URL_EXPIRY_SECONDS: '120', QUEUE_MAX: '50' }),
    );
    expect(config).toMatchObject({ bucket: 'env-bucket', prefix: 'env/', expirySeconds: 120, queueMax: 50 });
    expect(config.sources).toEqual({ bucket: 'env', prefix: 'env', expirySeconds: 'env' });
  });

  it('prefers event values to the environment', () => {
    const env = { BUCKET_NAME: 'env-bucket', PREFIX: 'env/', URL_EXPIRY_SECONDS: '120' };
    const config = ok(
      resolveConfig(
        { bucket: 'event-bucket', prefix: 'event/', expiry_seconds: 60, page_size: 10, concurrency: 8 },
        env,
      ),
    );
    expect(config).toMatchObject({
      bucket: 'event-bucket',
      prefix: 'event/',
      expirySeconds: 60,
      pageSize: 10,
      concurrency: 8,
    });
    expect(config.sources).toEqual({ bucket: 'event', prefix: 'event', expirySeconds: 'event' });
  });

  it.each([
    ['an empty string', ''],
    ['null', null],
    ['false', false],
    ['0', 0],
    ['an empty array', []],
    ['an empty object', {}],
  ])('falls back like Python `or` when the event bucket is %s', (_name, value) => {
    const config = ok(resolveConfig({ bucket: value }, { BUCKET_NAME: 'env-bucket' }));
    expect(config.bucket).toBe('env-bucket');
    expect(config.sources.bucket).toBe('env');
  });

  it('falls back for expiry_seconds 0, page_size 0 and concurrency 0 (Python-falsy), to env or the defaults', () => {
    const config = ok(
      resolveConfig({ expiry_seconds: 0, page_size: 0, concurrency: 0 }, { URL_EXPIRY_SECONDS: '300' }),
    );
    expect(config).toMatchObject({ expirySeconds: 300, pageSize: 1000, concurrency: 4 });
  });

  it('falls back to the env PREFIX for an empty event prefix, and lists the whole bucket when PREFIX is set but empty', () => {
    expect(ok(resolveConfig({ prefix: '' }, { PREFIX: 'env/' })).prefix).toBe('env/');
    expect(ok(resolveConfig({}, { PREFIX: '' })).prefix).toBe('');
  });

  it('keeps an explicitly set but empty variable, as os.environ.get does: BUCKET_NAME="" is refused', () => {
    const rejection = rejected(resolveConfig({}, { BUCKET_NAME: '' }));
    expect(rejection).toMatchObject({ statusCode: 400, field: 'BUCKET_NAME' });
  });

  it('does not fall back for the truthy string "0": it is validated and refused', () => {
    expect(rejected(resolveConfig({ expiry_seconds: '0' }, {}))).toMatchObject({
      statusCode: 400,
      field: 'expiry_seconds',
    });
  });

  it('reads S3_ENDPOINT_URL from the environment only, and an empty one means unset', () => {
    expect(ok(resolveConfig({}, { S3_ENDPOINT_URL: 'http://127.0.0.1:9000' })).endpoint).toBe('http://127.0.0.1:9000');
    expect(ok(resolveConfig({}, { S3_ENDPOINT_URL: '' })).endpoint).toBeUndefined();
    expect(
      ok(resolveConfig({ S3_ENDPOINT_URL: 'http://evil:1', endpoint: 'http://evil:2' } as never, {})).endpoint,
    ).toBeUndefined();
  });

  it('takes the public endpoint from S3_PUBLIC_ENDPOINT_URL, the option winning', () => {
    expect(ok(resolveConfig({}, { S3_PUBLIC_ENDPOINT_URL: 'http://public:9000' })).publicEndpoint).toBe(
      'http://public:9000',
    );
    expect(
      ok(resolveConfig({}, { S3_PUBLIC_ENDPOINT_URL: 'http://env:1' }, { publicEndpoint: 'https://opt.example' }))
        .publicEndpoint,
    ).toBe('https://opt.example');
  });
});

describe('resolveConfig: integers as Python int() reads them', () => {
  it.each([
    ['"900"', '900', 900],
    ['" 900 "', ' 900 ', 900],
    ['"+900"', '+900', 900],
    ['"\\t42\\n"', '\t42\n', 42],
    ['"0900"', '0900', 900],
    ['"1_000"', '1_000', 1000],
    ['900.0 (a JSON integer)', 900.0, 900],
  ])('accepts %s', (_name, value, expected) => {
    expect(ok(resolveConfig({ expiry_seconds: value }, {})).expirySeconds).toBe(expected);
  });

  it.each([
    ['"9.5"', '9.5'],
    ['"1e3"', '1e3'],
    ['"0x10"', '0x10'],
    ['"1__0"', '1__0'],
    ['"_1"', '_1'],
    ['"abc"', 'abc'],
    ['" "', ' '],
    ['9.5', 9.5],
    ['true', true],
    ['an array', [900]],
    ['an object', { value: 900 }],
    ['-5', -5],
    ['604801', 604801],
    ['"99999999999999999999"', '99999999999999999999'],
  ])('refuses expiry_seconds %s with 400 naming expiry_seconds', (_name, value) => {
    const rejection = rejected(resolveConfig({ expiry_seconds: value }, {}));
    expect(rejection.statusCode).toBe(400);
    expect(rejection.field).toBe('expiry_seconds');
    expect(rejection.error).toContain('expiry_seconds must be an integer from 1 to 604800');
  });

  it('accepts the bounds 1 and 604800 (SigV4 seven days)', () => {
    expect(ok(resolveConfig({ expiry_seconds: 1 }, {})).expirySeconds).toBe(1);
    expect(ok(resolveConfig({ expiry_seconds: '604800' }, {})).expirySeconds).toBe(604800);
  });

  it('names URL_EXPIRY_SECONDS when the bad value came from the environment', () => {
    expect(rejected(resolveConfig({}, { URL_EXPIRY_SECONDS: 'soon' }))).toMatchObject({
      statusCode: 400,
      field: 'URL_EXPIRY_SECONDS',
    });
    expect(rejected(resolveConfig({}, { URL_EXPIRY_SECONDS: '' }))).toMatchObject({ field: 'URL_EXPIRY_SECONDS' });
    expect(ok(resolveConfig({}, { URL_EXPIRY_SECONDS: ' 60 ' })).expirySeconds).toBe(60);
  });

  it('bounds page_size to 1..1000 and concurrency to 1..256', () => {
    expect(ok(resolveConfig({ page_size: '1000', concurrency: '256' }, {}))).toMatchObject({
      pageSize: 1000,
      concurrency: 256,
    });
    expect(ok(resolveConfig({ page_size: 1, concurrency: 1 }, {}))).toMatchObject({ pageSize: 1, concurrency: 1 });
    expect(rejected(resolveConfig({ page_size: 1001 }, {}))).toMatchObject({ statusCode: 400, field: 'page_size' });
    expect(rejected(resolveConfig({ page_size: -1 }, {}))).toMatchObject({ field: 'page_size' });
    expect(rejected(resolveConfig({ page_size: 'ten' }, {}))).toMatchObject({ field: 'page_size' });
    expect(rejected(resolveConfig({ concurrency: 257 }, {}))).toMatchObject({ statusCode: 400, field: 'concurrency' });
    expect(rejected(resolveConfig({ concurrency: 2.5 }, {}))).toMatchObject({ field: 'concurrency' });
  });

  it('refuses an invalid QUEUE_MAX with 400 naming QUEUE_MAX', () => {
    for (const value of ['abc', '', '0', '-1', '1.5']) {
      const rejection = rejected(resolveConfig({}, { QUEUE_MAX: value }));
      expect(rejection).toMatchObject({ statusCode: 400, field: 'QUEUE_MAX' });
      expect(rejection.error).toContain('QUEUE_MAX');
    }
    expect(ok(resolveConfig({}, { QUEUE_MAX: '1' })).queueMax).toBe(1);
  });
});

describe('resolveConfig: shapes and strings', () => {
  it.each([
    ['a string', 'bucket=x', 'a string'],
    ['a number', 42, 'a number'],
    ['an array', [{ bucket: 'x' }], 'an array'],
    ['a boolean', true, 'a boolean'],
    ['false', false, 'a boolean'],
    ['a Date', new Date(0), 'a non-plain object'],
  ])('refuses an event that is %s', (_name, event, kind) => {
    const rejection = rejected(resolveConfig(event, {}));
    expect(rejection).toEqual({
      statusCode: 400,
      field: 'event',
      error: `The event must be a JSON object, got ${kind}`,
    });
  });

  it.each([
    ['a number', 123],
    ['true', true],
    ['an array', ['my-bucket']],
    ['an object', { name: 'my-bucket' }],
  ])('refuses a bucket that is %s', (_name, bucket) => {
    const rejection = rejected(resolveConfig({ bucket }, {}));
    expect(rejection.field).toBe('bucket');
    expect(rejection.error).toContain('bucket must be a string');
  });

  it('refuses a prefix that is not a string, or longer than an S3 key', () => {
    expect(rejected(resolveConfig({ prefix: 5 }, {}))).toMatchObject({ statusCode: 400, field: 'prefix' });
    expect(rejected(resolveConfig({ prefix: ['a/'] }, {}))).toMatchObject({ field: 'prefix' });
    expect(rejected(resolveConfig({ prefix: 'é'.repeat(513) }, {}))).toMatchObject({ field: 'prefix' });
    expect(ok(resolveConfig({ prefix: 'a'.repeat(1024) }, {})).prefix).toHaveLength(1024);
  });

  it('refuses a malformed S3_ENDPOINT_URL or public endpoint, naming the variable or option', () => {
    expect(rejected(resolveConfig({}, { S3_ENDPOINT_URL: 'localhost:9000' }))).toMatchObject({
      field: 'S3_ENDPOINT_URL',
    });
    expect(rejected(resolveConfig({}, { S3_ENDPOINT_URL: 'ftp://host' }))).toMatchObject({ field: 'S3_ENDPOINT_URL' });
    expect(rejected(resolveConfig({}, { S3_PUBLIC_ENDPOINT_URL: 'http://u:p@host' }))).toMatchObject({
      field: 'S3_PUBLIC_ENDPOINT_URL',
    });
    expect(rejected(resolveConfig({}, {}, { publicEndpoint: 'nope' }))).toMatchObject({ field: 'publicEndpoint' });
  });

  it('validates in order and reports the first bad field', () => {
    expect(rejected(resolveConfig({ bucket: 'Bad', expiry_seconds: 'x' }, {})).field).toBe('bucket');
    expect(rejected(resolveConfig({ expiry_seconds: 'x', page_size: 'y' }, {})).field).toBe('expiry_seconds');
  });

  it('checks every field in one fixed order: with all of them bad, fixing each in turn names the next', () => {
    const bad: Array<[string, 'event' | 'env', unknown]> = [
      ['bucket', 'event', 'Bad'],
      ['prefix', 'event', 7],
      ['expiry_seconds', 'event', 'x'],
      ['page_size', 'event', 0.5],
      ['concurrency', 'event', 'y'],
      ['start_after', 'event', 5],
      ['DEADLINE_MARGIN_MS', 'env', '1'],
      ['QUEUE_MAX', 'env', '0'],
      ['S3_ENDPOINT_URL', 'env', 'ftp://host'],
      ['S3_PUBLIC_ENDPOINT_URL', 'env', 'nope'],
      ['MANIFEST_SSE', 'env', 'rot13'],
    ];
    for (let fixed = 0; fixed < bad.length; fixed++) {
      const event: Record<string, unknown> = {};
      const env: Record<string, string> = {};
      for (const [name, where, value] of bad.slice(fixed)) {
        if (where === 'event') event[name] = value;
        else env[name] = value as string;
      }
      expect(rejected(resolveConfig(event, env)).field).toBe(bad[fixed]![0]);
    }
    expect(resolveConfig({}, {}).ok).toBe(true);
  });

  it('does not echo huge values back in full', () => {
    const rejection = rejected(resolveConfig({ expiry_seconds: 'x'.repeat(10_000) }, {}));
    expect(rejection.error.length).toBeLessThan(200);
  });
});

describe('bucketNameProblem', () => {
  it.each(['abc', 'my-company-reports-bucket', 'a.b.c', 'a'.repeat(63), '1bucket', 'bucket-1', 'data--usw2-az1--x-s3'])(
    'accepts %s',
    (name) => {
      expect(bucketNameProblem(name)).toBeUndefined();
    },
  );

  it.each([
    ['ab', 'must be 3 to 63 characters long'],
    ['a'.repeat(64), 'must be 3 to 63 characters long'],
    ['MyBucket', 'lowercase'],
    ['my_bucket', 'lowercase'],
    ['my bucket', 'lowercase'],
    ['-bucket', 'start and end'],
    ['bucket-', 'start and end'],
    ['.bucket', 'start and end'],
    ['bucket.', 'start and end'],
    ['my..bucket', 'two adjacent dots'],
    ['192.168.5.4', 'IP address'],
    ['xn--bucket', '"xn--"'],
    ['sthree-bucket', '"sthree-"'],
    ['sthree-configurator', '"sthree-"'],
    ['amzn-s3-demo-bucket', '"amzn-s3-demo-"'],
    ['bucket-s3alias', '"-s3alias"'],
    ['bucket--ol-s3', '"--ol-s3"'],
    ['bucket.mrap', '".mrap"'],
    ['bucket--table-s3', '"--table-s3"'],
  ])('refuses %s', (name, problem) => {
    expect(bucketNameProblem(name)).toContain(problem);
  });

  it('makes resolveConfig answer 400 with the rule broken', () => {
    const rejection = rejected(resolveConfig({ bucket: 'My_Bucket' }, {}));
    expect(rejection.statusCode).toBe(400);
    expect(rejection.field).toBe('bucket');
    expect(rejection.error).toContain('is not a valid S3 bucket name');
  });
});

describe('Python helpers', () => {
  it('isPythonFalsy matches Python truthiness for JSON values', () => {
    for (const value of [undefined, null, false, 0, -0, '', [], {}]) expect(isPythonFalsy(value)).toBe(true);
    // float('nan') and float('inf') are truthy in Python.
    for (const value of [true, 1, -1, '0', ' ', [0], { a: 0 }, Number.NaN, Number.POSITIVE_INFINITY])
      expect(isPythonFalsy(value)).toBe(false);
  });

  it('parsePythonInt refuses non-ASCII digits and unsafe integers', () => {
    expect(parsePythonInt('٩٠٠')).toBeUndefined();
    expect(parsePythonInt(2 ** 60)).toBeUndefined();
    expect(parsePythonInt('-7')).toBe(-7);
    expect(parsePythonInt('\u00a012\u3000')).toBe(12);
  });
});
