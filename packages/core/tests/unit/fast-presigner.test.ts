import { S3Client } from '@aws-sdk/client-s3';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isPresignPipelineError } from '../../src/errors.js';
import { fastPresigner } from '../../src/s3/fast-presigner.js';
import { sdkPresigner } from '../../src/s3/sdk-presigner.js';
import {
  deriveSigningKey,
  encodeS3Key,
  formatAmzDate,
  hmacHex,
  parseAmzDate,
  scopeSigner,
  sha256Hex,
} from '../../src/s3/sigv4.js';
import { SIGV4_SESSION_QUERY } from './sigv4-query.js';

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

const DATE = new Date('2024-05-06T07:08:09.123Z');
const STATIC = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const SESSION = { ...STATIC, sessionToken: 'IQoJb3JpZ2luX2VjE/+= token with spaces & symbols!*' };

/**
 * A client whose credential provider the test controls and counts. The SDK's own `credentials` setter would wrap the
 * function in its memoising layer (which hides rotations until near expiry), so the property is replaced outright.
 */
function controlledClient(config: S3ClientConfig, provide: () => Credentials) {
  const client = new S3Client({ region: 'eu-west-1', ...config, credentials: STATIC });
  const provider = vi.fn(async () => provide());
  Object.defineProperty(client.config, 'credentials', { value: provider, writable: true, configurable: true });
  return { client, provider };
}

function queryNames(url: string): string[] {
  return [...new URL(url).searchParams.keys()];
}

afterEach(() => {
  vi.useRealTimers();
});

describe('sigv4 arithmetic (AWS published examples)', () => {
  it('derives the signing key of the SigV4 documentation example', () => {
    // Prepare: the "deriving the signing key" example of the AWS General Reference.
    const key = deriveSigningKey('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20120215', 'us-east-1', 'iam');
    // Assess
    expect(key.toString('hex')).toBe('f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d');
  });

  it('reproduces the signature of the S3 presigned-URL documentation example', () => {
    // Prepare: the query-string authentication example of the S3 API reference (examplebucket/test.txt).
    const canonical = [
      'GET',
      '/test.txt',
      'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host',
      'host:examplebucket.s3.amazonaws.com',
      '',
      'host',
      'UNSIGNED-PAYLOAD',
    ].join('\n');
    const stringToSign = [
      'AWS4-HMAC-SHA256',
      '20130524T000000Z',
      '20130524/us-east-1/s3/aws4_request',
      sha256Hex(canonical),
    ].join('\n');
    // Act
    const signature = hmacHex(deriveSigningKey(STATIC.secretAccessKey, '20130524', 'us-east-1', 's3'), stringToSign);
    // Assess
    expect(signature).toBe('aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404');
    // The prepared-buffer signer the presigner uses gives the same signature, and stays right when reused.
    const signer = scopeSigner(
      deriveSigningKey(STATIC.secretAccessKey, '20130524', 'us-east-1', 's3'),
      '20130524/us-east-1/s3/aws4_request',
    );
    expect(signer('20130524T000000Z', sha256Hex(canonical))).toBe(signature);
    expect(signer('20130524T000001Z', sha256Hex('other'))).toBe(
      hmacHex(
        deriveSigningKey(STATIC.secretAccessKey, '20130524', 'us-east-1', 's3'),
        `AWS4-HMAC-SHA256\n20130524T000001Z\n20130524/us-east-1/s3/aws4_request\n${sha256Hex('other')}`,
      ),
    );
    expect(signer('20130524T000000Z', sha256Hex(canonical))).toBe(signature);
  });

  it('encodes keys per segment, keeping slashes and never normalising', () => {
    expect(encodeS3Key('a/b c+d')).toBe('a/b%20c%2Bd');
    expect(encodeS3Key("!'()*~-._")).toBe('%21%27%28%29%2A~-._');
    expect(encodeS3Key('/x//../y/.')).toBe('/x//../y/.');
    expect(encodeS3Key('100%/#?=&')).toBe('100%25/%23%3F%3D%26');
    expect(encodeS3Key('é😀')).toBe('%C3%A9%F0%9F%98%80');
  });

  it('formats and parses SigV4 dates in UTC, whole seconds', () => {
    expect(formatAmzDate(DATE.getTime())).toEqual({ long: '20240506T070809Z', short: '20240506' });
    expect(parseAmzDate('20240506T070809Z')).toBe(Date.UTC(2024, 4, 6, 7, 8, 9));
    expect(parseAmzDate('2024-05-06')).toBeNaN();
  });
});

describe('fastPresigner', () => {
  const awkwardKeys = [
    'plain/key.pdf',
    'spaces and+plus.pdf',
    "+ % # ? = & ~ * ' ( ) !",
    '//double//slashes/',
    '/leading-slash',
    // Dots that are not whole segments; keys with . or .. segments are refused (unsafe-key-path.test.ts).
    '.dot/..segments/...',
    '100%25 already-encoded%2F.pdf',
    'ünïcødé/日本語/😀.PDF',
    'controls\u0000\u0001\t\n\u007f',
    'é'.repeat(512),
  ];
  const configs: Array<[string, S3ClientConfig, string]> = [
    ['virtual-hosted us-east-1', { region: 'us-east-1' }, 'my-bucket'],
    ['path-style eu-west-1', { region: 'eu-west-1', forcePathStyle: true }, 'my-bucket'],
    ['dotted bucket ap-southeast-2', { region: 'ap-southeast-2' }, 'my.dotted.bucket'],
    ['custom IP endpoint', { region: 'us-east-1', endpoint: 'http://127.0.0.1:9000' }, 'my-bucket'],
    ['custom https endpoint', { region: 'us-east-1', endpoint: 'https://s3.example.test' }, 'my-bucket'],
    ['aws-global', { region: 'aws-global' }, 'my-bucket'],
  ];

  it.each(configs)('gives the sdkPresigner URL byte for byte (%s)', async (_name, config, bucket) => {
    // Prepare
    const client = new S3Client({ ...config, credentials: SESSION });
    const sdk = sdkPresigner({ client, signingDate: DATE });
    const fast = fastPresigner({ client, signingDate: DATE, fallback: false });
    for (const key of awkwardKeys) {
      // Act
      const [expected, actual] = await Promise.all([
        sdk.presign({ bucket, key }, { expiresIn: 3600 }),
        fast.presign({ bucket, key }, { expiresIn: 3600 }),
      ]);
      // Assess
      expect(actual).toBe(expected);
    }
  });

  it('emits exactly the SigV4 parameters, no checksum mode and no x-id, even on a client with default checksums', async () => {
    // Prepare: the client keeps the SDK default (checksums WHEN_SUPPORTED), which adds x-amz-checksum-mode to getSignedUrl.
    const client = new S3Client({ region: 'eu-west-1', credentials: SESSION });
    const url = await fastPresigner({ client, signingDate: DATE }).presign(
      { bucket: 'b', key: 'k.pdf' },
      { expiresIn: 900 },
    );
    // Assess
    expect(queryNames(url)).toEqual(SIGV4_SESSION_QUERY);
    const query = new URL(url).searchParams;
    expect(query.get('X-Amz-Security-Token')).toBe(SESSION.sessionToken);
    expect(query.get('X-Amz-Credential')).toBe(`${SESSION.accessKeyId}/20240506/eu-west-1/s3/aws4_request`);
    expect(query.get('X-Amz-Date')).toBe('20240506T070809Z');
    expect(query.get('X-Amz-Expires')).toBe('900');
    expect(query.get('X-Amz-SignedHeaders')).toBe('host');
    expect(query.get('X-Amz-Content-Sha256')).toBe('UNSIGNED-PAYLOAD');
  });

  it('leaves X-Amz-Security-Token out for long-term credentials', async () => {
    const client = new S3Client({ region: 'eu-west-1', credentials: STATIC });
    const url = await fastPresigner({ client, signingDate: DATE }).presign(
      { bucket: 'b', key: 'k' },
      { expiresIn: 60 },
    );
    expect(queryNames(url)).not.toContain('X-Amz-Security-Token');
    expect(url).toBe(
      await sdkPresigner({ client, signingDate: DATE }).presign({ bucket: 'b', key: 'k' }, { expiresIn: 60 }),
    );
  });

  it('signs as of the current second when no signingDate is given, matching the SDK at the same instant', async () => {
    // Prepare: only Date is faked, so promises and timers behave normally.
    vi.useFakeTimers({ toFake: ['Date'] });
    const client = new S3Client({ region: 'us-west-2', credentials: SESSION });
    const fast = fastPresigner({ client });
    const sdk = sdkPresigner({ client });
    for (const instant of ['2024-12-31T23:59:59.900Z', '2025-01-01T00:00:00.100Z', '2025-01-01T00:00:01.000Z']) {
      vi.setSystemTime(new Date(instant));
      // Act
      const actual = await fast.presign({ bucket: 'b', key: 'year/end.pdf' }, { expiresIn: 120 });
      // Assess
      expect(actual).toBe(await sdk.presign({ bucket: 'b', key: 'year/end.pdf' }, { expiresIn: 120 }));
      expect(new URL(actual).searchParams.get('X-Amz-Date')).toBe(formatAmzDate(Date.parse(instant)).long);
    }
  });

  it('reads the credentials once per second, not once per URL', async () => {
    // Prepare
    const { client, provider } = controlledClient({}, () => STATIC);
    const fast = fastPresigner({ client, signingDate: DATE });
    await fast.presign({ bucket: 'b', key: 'warm-up' }, { expiresIn: 60 });
    const before = provider.mock.calls.length;
    // Act
    for (let i = 0; i < 200; i += 1) await fast.presign({ bucket: 'b', key: `k${i}` }, { expiresIn: 60 });
    // Assess
    expect(provider.mock.calls.length - before).toBeLessThanOrEqual(1);
  });

  it('picks up rotated credentials within a second and signs with them', async () => {
    // Prepare
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(DATE);
    let current: Credentials = { ...SESSION, expiration: new Date(DATE.getTime() + 3_600_000) };
    const { client } = controlledClient({}, () => current);
    const fast = fastPresigner({ client, signingDate: DATE });
    const first = await fast.presign({ bucket: 'b', key: 'k' }, { expiresIn: 60 });
    expect(new URL(first).searchParams.get('X-Amz-Credential')).toMatch(/^AKIAIOSFODNN7EXAMPLE\//);
    // Act: the provider now hands out new keys; a second later the presigner must use them.
    current = { accessKeyId: 'ASIAROTATEDKEY000001', secretAccessKey: 'rotated-secret', sessionToken: 'rotated-token' };
    vi.setSystemTime(DATE.getTime() + 1_500);
    const second = await fast.presign({ bucket: 'b', key: 'k' }, { expiresIn: 60 });
    // Assess
    const rotated = new S3Client({ region: 'eu-west-1', credentials: current });
    expect(second).toBe(
      await sdkPresigner({ client: rotated, signingDate: DATE }).presign({ bucket: 'b', key: 'k' }, { expiresIn: 60 }),
    );
  });

  it('asks the provider again on every call once the credentials are within five minutes of expiry', async () => {
    // Prepare
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(DATE);
    const expiring = { ...SESSION, expiration: new Date(DATE.getTime() + 4 * 60_000) };
    const { client, provider } = controlledClient({}, () => expiring);
    const fast = fastPresigner({ client, signingDate: DATE });
    await fast.presign({ bucket: 'b', key: 'warm-up' }, { expiresIn: 60 });
    const before = provider.mock.calls.length;
    // Act
    for (let i = 0; i < 5; i += 1) await fast.presign({ bucket: 'b', key: `k${i}` }, { expiresIn: 60 });
    // Assess
    expect(provider.mock.calls.length - before).toBe(5);
    expect(fast.presignSync({ bucket: 'b', key: 'k' }, { expiresIn: 60 })).toBeUndefined();
  });

  it('reports when the credentials expire', async () => {
    const expiration = new Date('2030-01-01T00:00:00Z');
    const { client } = controlledClient({}, () => ({ ...SESSION, expiration }));
    await expect(fastPresigner({ client }).credentialsExpiration()).resolves.toEqual(expiration);
    const { client: longTerm } = controlledClient({}, () => STATIC);
    await expect(fastPresigner({ client: longTerm }).credentialsExpiration()).resolves.toBeUndefined();
  });

  it('signs synchronously once the bucket is warm, and only then', async () => {
    // Prepare
    const client = new S3Client({ region: 'eu-west-1', credentials: SESSION });
    const fast = fastPresigner({ client, signingDate: DATE });
    const object = { bucket: 'b', key: 'sync/ünïcode key.pdf' };
    // Act / Assess: cold, then warm for bucket b only.
    expect(fast.presignSync(object, { expiresIn: 300 })).toBeUndefined();
    const url = await fast.presign(object, { expiresIn: 300 });
    expect(fast.presignSync(object, { expiresIn: 300 })).toBe(url);
    expect(fast.presignSync({ bucket: 'other', key: 'k' }, { expiresIn: 300 })).toBeUndefined();
  });

  it('resolves a bucket once however many first calls race for it', async () => {
    // Prepare: count endpoint resolutions, which every SDK presign performs.
    const base = new S3Client({ region: 'eu-west-1' });
    const resolve = vi.fn(base.config.endpointProvider);
    const client = new S3Client({ region: 'eu-west-1', credentials: STATIC, endpointProvider: resolve });
    const fast = fastPresigner({ client, signingDate: DATE });
    await fast.presign({ bucket: 'solo', key: 'k' }, { expiresIn: 60 });
    const perProbe = resolve.mock.calls.length;
    resolve.mockClear();
    // Act
    const urls = await Promise.all(
      Array.from({ length: 50 }, (_, i) => fast.presign({ bucket: 'raced', key: `k${i}` }, { expiresIn: 60 })),
    );
    // Assess
    expect(perProbe).toBeGreaterThan(0);
    expect(resolve.mock.calls.length).toBe(perProbe);
    expect(new Set(urls).size).toBe(50);
  });

  it('falls back to the SDK for a bucket it cannot reproduce, or refuses when fallback is off', async () => {
    // Prepare: an endpoint that adds a plain header; the SDK signs it (SignedHeaders=host;x-tenant), the fast path cannot.
    const base = new S3Client({ region: 'eu-west-1' });
    const endpointProvider: S3ClientConfig['endpointProvider'] = (params, context) => ({
      ...base.config.endpointProvider(params, context),
      headers: { 'x-tenant': ['t1'] },
    });
    const client = new S3Client({ region: 'eu-west-1', credentials: STATIC, endpointProvider });
    const object = { bucket: 'b', key: 'k.pdf' };
    // Act
    const viaFallback = await fastPresigner({ client, signingDate: DATE }).presign(object, { expiresIn: 60 });
    const strict = fastPresigner({ client, signingDate: DATE, fallback: false });
    const refused = await strict.presign(object, { expiresIn: 60 }).catch((error: unknown) => error);
    // Assess
    expect(viaFallback).toBe(await sdkPresigner({ client, signingDate: DATE }).presign(object, { expiresIn: 60 }));
    expect(new URL(viaFallback).searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-tenant');
    expect(isPresignPipelineError(refused)).toBe(true);
    expect(refused).toMatchObject({ code: 'PRESIGN_FAILED' });
    expect((refused as Error).message).toContain('bucket "b"');
    expect(strict.presignSync(object, { expiresIn: 60 })).toBeUndefined();
  });

  it('rejects a key that no URL can carry with INVALID_KEY naming the position', async () => {
    const client = new S3Client({ region: 'eu-west-1', credentials: STATIC });
    const fast = fastPresigner({ client, signingDate: DATE });
    const key = 'report-\uD83D.pdf';
    const error = await fast.presign({ bucket: 'b', key }, { expiresIn: 60 }).catch((reason: unknown) => reason);
    expect(error).toMatchObject({ code: 'INVALID_KEY', key });
    expect((error as Error).message).toContain('unpaired UTF-16 surrogate at index 7');
    // Warm now, the synchronous path throws the same error.
    await fast.presign({ bucket: 'b', key: 'ok' }, { expiresIn: 60 });
    expect(() => fast.presignSync({ bucket: 'b', key }, { expiresIn: 60 })).toThrow(/unpaired UTF-16 surrogate/);
  });

  it('refuses a key longer than 1,024 UTF-8 bytes, which no S3 object can have, as sdkPresigner does', async () => {
    const client = new S3Client({ region: 'eu-west-1', credentials: STATIC });
    const longest = 'é'.repeat(512); // 1,024 bytes: signed
    const tooLong = `${longest}a`; // 1,025 bytes
    await expect(
      fastPresigner({ client, signingDate: DATE }).presign({ bucket: 'b', key: longest }, { expiresIn: 60 }),
    ).resolves.toMatch(/^https:/);
    for (const presigner of [
      fastPresigner({ client, signingDate: DATE }),
      sdkPresigner({ client, signingDate: DATE }),
    ]) {
      await expect(presigner.presign({ bucket: 'b', key: tooLong }, { expiresIn: 60 })).rejects.toMatchObject({
        code: 'INVALID_KEY',
      });
    }
  });

  describe('validation', () => {
    const client = new S3Client({ region: 'eu-west-1', credentials: STATIC });

    it.each([
      ['options', undefined, TypeError, /"options"/],
      ['client', {}, TypeError, /"client"/],
      ['client', { client: { config: {} } }, TypeError, /"client"/],
      ['signingDate', { client, signingDate: new Date(Number.NaN) }, TypeError, /"signingDate"/],
      ['signingDate', { client, signingDate: '2024-01-01' }, TypeError, /"signingDate"/],
      ['fallback', { client, fallback: 'yes' }, TypeError, /"fallback"/],
    ])('refuses bad option %s', (_name, options, type, message) => {
      expect(() => fastPresigner(options as never)).toThrow(type);
      expect(() => fastPresigner(options as never)).toThrow(message);
    });

    it.each([
      ['bucket', { bucket: '', key: 'k' }, { expiresIn: 60 }, TypeError, /"bucket"/],
      ['key', { bucket: 'b', key: '' }, { expiresIn: 60 }, TypeError, /"key"/],
      ['key', { bucket: 'b', key: 42 }, { expiresIn: 60 }, TypeError, /"key"/],
      ['object', null, { expiresIn: 60 }, TypeError, /"object"/],
      ['expiresIn', { bucket: 'b', key: 'k' }, { expiresIn: 0 }, RangeError, /"expiresIn"/],
      ['expiresIn', { bucket: 'b', key: 'k' }, { expiresIn: 604_801 }, RangeError, /"expiresIn"/],
      ['expiresIn', { bucket: 'b', key: 'k' }, { expiresIn: 1.5 }, RangeError, /"expiresIn"/],
      ['expiresIn', { bucket: 'b', key: 'k' }, { expiresIn: '60' }, TypeError, /"expiresIn"/],
    ])('refuses a bad %s before asking for credentials', async (_name, object, options, type, message) => {
      const { client: counted, provider } = controlledClient({}, () => STATIC);
      const fast = fastPresigner({ client: counted });
      await expect(fast.presign(object as never, options as never)).rejects.toThrow(type);
      await expect(fast.presign(object as never, options as never)).rejects.toThrow(message);
      expect(() => fast.presignSync(object as never, options as never)).toThrow(message);
      expect(provider).not.toHaveBeenCalled();
    });
  });
});
