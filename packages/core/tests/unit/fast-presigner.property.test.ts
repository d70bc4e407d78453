import { S3Client } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { isPresignPipelineError } from '../../src/errors.js';
import { fastPresigner } from '../../src/s3/fast-presigner.js';
import { sdkPresigner } from '../../src/s3/sdk-presigner.js';

// The equivalence proof: for the same client, clock and inputs, fastPresigner's URL is byte-identical to
// sdkPresigner's. Each run draws one client configuration and a handful of keys; RUNS × KEYS_PER_RUN ≥ 10,000 keys.
const RUNS = 1_000;
const KEYS_PER_RUN = 10;

const utf8Length = (value: string) => Buffer.byteLength(value, 'utf8');
/** A path segment that is exactly `.` or `..`, written independently of the code under test. */
const DOT_SEGMENT = { test: (key: string) => key.split('/').some((segment) => segment === '.' || segment === '..') };

/** Characters that break hand-rolled signers: reserved, sub-delims, percent, controls, spaces, quotes. */
const AWKWARD = [
  ...'+%#?=&~*\'()!/:;@$,[]{}|\\^`"<> \t\r\n',
  '\u0000',
  '\u0001',
  '\u001f',
  '\u007f',
  '\u0085',
  '\u00a0',
  '\u2028',
  '\ufeff',
  'é',
  'ß',
  '€',
  '中',
  '😀',
  '𝄞',
  '%2F',
  '%20',
  '..',
  '.',
];

const awkwardString = fc.string({
  unit: fc.constantFrom(...AWKWARD, 'a', 'Z', '0', '-', '_'),
  minLength: 1,
  maxLength: 40,
});
/** Any valid Unicode text: every code point, astral planes and control characters included. */
const unicodeString = fc.string({ unit: 'binary', minLength: 1, maxLength: 60 });
/** Keys made of segments, so empty segments give `//`, a leading `/` and a trailing `/`. */
const segmentedKey = fc
  .array(fc.oneof(fc.constant(''), awkwardString, unicodeString, fc.stringMatching(/^[a-z0-9._-]{1,12}$/)), {
    minLength: 1,
    maxLength: 8,
  })
  .map((segments) => segments.join('/'));
/** Keys of exactly 1,024 UTF-8 bytes, S3's maximum, with multi-byte characters in them. */
const maxLengthKey = fc
  .tuple(fc.string({ unit: 'binary', maxLength: 30 }), fc.constantFrom('a', 'é', '€', '😀', '%', ' ', '/'))
  .map(([head, filler]) => {
    let key = head; // at most 30 code points, so at most 120 bytes
    while (utf8Length(key + filler) <= 1024) key += filler;
    while (utf8Length(key) < 1024) key += 'a';
    return key;
  });
const key = fc
  .oneof(
    { arbitrary: unicodeString, weight: 3 },
    { arbitrary: awkwardString, weight: 3 },
    { arbitrary: segmentedKey, weight: 3 },
    { arbitrary: maxLengthKey, weight: 1 },
    { arbitrary: fc.stringMatching(/^[A-Za-z0-9/._-]{1,80}$/), weight: 1 },
  )
  .filter((value) => value.length > 0);

const clientConfig = fc.record({
  region: fc.constantFrom(
    'us-east-1',
    'eu-west-1',
    'ap-southeast-2',
    'us-west-2',
    'sa-east-1',
    'eu-central-1',
    'aws-global',
  ),
  endpoint: fc.constantFrom(undefined, 'http://127.0.0.1:9000', 'https://s3.example.test'),
  forcePathStyle: fc.boolean(),
  bucket: fc.constantFrom('my-bucket', 'reports2024', 'my.dotted.bucket', 'a.b-c.d', 'x'.repeat(63)),
  accessKeyId: fc.stringMatching(/^(AKIA|ASIA)[A-Z0-9]{16}$/),
  secretAccessKey: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 40 }),
  sessionToken: fc.option(fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 400 }), { nil: undefined }),
  signingDate: fc.date({
    min: new Date('2000-01-01T00:00:00Z'),
    max: new Date('2099-12-31T23:59:59.999Z'),
    noInvalidDate: true,
  }),
});

const job = fc.record({
  config: clientConfig,
  items: fc.array(fc.record({ key, expiresIn: fc.integer({ min: 1, max: 604_800 }) }), {
    minLength: KEYS_PER_RUN,
    maxLength: KEYS_PER_RUN,
  }),
});

type Config = typeof clientConfig extends fc.Arbitrary<infer T> ? T : never;

function makeClient(config: Config): S3Client {
  return new S3Client({
    region: config.region,
    forcePathStyle: config.forcePathStyle,
    ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
    credentials: {
      accessKeyId: config.accessKeyId,
      secretAccessKey: config.secretAccessKey,
      ...(config.sessionToken === undefined ? {} : { sessionToken: config.sessionToken }),
    },
  });
}

describe('fastPresigner ≡ sdkPresigner (property)', () => {
  const seen = {
    dotSegments: 0,
    virtualHosted: 0,
    pathStyle: 0,
    keys: 0,
    maxBytes: 0,
    astral: 0,
    controls: 0,
    doubleSlash: 0,
    leadingSlash: 0,
    tokens: 0,
    sync: 0,
  };

  afterAll(() => {
    // The property really covered what it claims.
    expect(seen.keys).toBeGreaterThanOrEqual(9_000);
    expect(seen.dotSegments).toBeGreaterThan(0);
    expect(seen.maxBytes).toBe(1024);
    expect(seen.astral).toBeGreaterThan(0);
    expect(seen.controls).toBeGreaterThan(0);
    expect(seen.doubleSlash).toBeGreaterThan(0);
    expect(seen.leadingSlash).toBeGreaterThan(0);
    expect(seen.tokens).toBeGreaterThan(0);
    expect(seen.sync).toBeGreaterThan(0);
    expect(seen.virtualHosted).toBeGreaterThan(0);
    expect(seen.pathStyle).toBeGreaterThan(0);
  });

  it(`gives byte-identical URLs for ${RUNS * KEYS_PER_RUN} generated keys across regions, endpoints, addressing and tokens`, async () => {
    await fc.assert(
      fc.asyncProperty(job, async ({ config, items }) => {
        const client = makeClient(config);
        const sdk = sdkPresigner({ client, signingDate: config.signingDate });
        // fallback off: a URL the fast path could not reproduce fails the property instead of hiding behind the SDK.
        const fast = fastPresigner({ client, signingDate: config.signingDate, fallback: false });
        if (config.sessionToken !== undefined) seen.tokens += 1;
        for (const { key, expiresIn } of items) {
          const object = { bucket: config.bucket, key };
          if (DOT_SEGMENT.test(key)) {
            // Both refuse it alike: a WHATWG client would send another path.
            await expect(sdk.presign(object, { expiresIn })).rejects.toMatchObject({ code: 'UNSAFE_KEY_PATH', key });
            await expect(fast.presign(object, { expiresIn })).rejects.toMatchObject({ code: 'UNSAFE_KEY_PATH', key });
            expect(() => fast.presignSync(object, { expiresIn })).toThrow(
              expect.objectContaining({ code: 'UNSAFE_KEY_PATH' }),
            );
            seen.dotSegments += 1;
            continue;
          }
          const expected = await sdk.presign(object, { expiresIn });
          // What a browser or fetch() sends is the URL itself: no segment removed, nothing re-encoded.
          expect(new URL(expected).href).toBe(expected);
          const actual = await fast.presign(object, { expiresIn });
          expect(actual).toBe(expected);
          const sync = fast.presignSync(object, { expiresIn });
          if (sync !== undefined) {
            expect(sync).toBe(expected);
            seen.sync += 1;
          }
          seen.keys += 1;
          if (new URL(expected).hostname.startsWith(`${config.bucket}.`)) seen.virtualHosted += 1;
          else seen.pathStyle += 1;
          seen.maxBytes = Math.max(seen.maxBytes, utf8Length(key));
          if (/[\u{10000}-\u{10FFFF}]/u.test(key)) seen.astral += 1;
          if (/[\u0000-\u001f\u007f]/.test(key)) seen.controls += 1;
          if (key.includes('//')) seen.doubleSlash += 1;
          if (key.startsWith('/')) seen.leadingSlash += 1;
        }
      }),
      { numRuns: RUNS },
    );
  }, 180_000);

  it('rejects keys holding an unpaired surrogate with INVALID_KEY, as sdkPresigner does', async () => {
    const lone = fc.oneof(fc.integer({ min: 0xd800, max: 0xdbff }), fc.integer({ min: 0xdc00, max: 0xdfff }));
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', maxLength: 20 }),
        lone,
        fc.string({ unit: 'binary', maxLength: 20 }),
        async (head, code, tail) => {
          // Guard characters keep the surrogate unpaired whatever head and tail hold.
          const key = `${head}x${String.fromCharCode(code)}x${tail}`;
          const client = new S3Client({
            region: 'eu-west-1',
            credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
          });
          const fast = fastPresigner({ client, fallback: false });
          const error = await fast.presign({ bucket: 'b', key }, { expiresIn: 60 }).then(
            () => undefined,
            (reason: unknown) => reason,
          );
          expect(isPresignPipelineError(error)).toBe(true);
          expect(error).toMatchObject({ code: 'INVALID_KEY', key });
          expect((error as Error).message).toMatch(/unpaired UTF-16 surrogate at index \d+/);
          await expect(sdkPresigner({ client }).presign({ bucket: 'b', key }, { expiresIn: 60 })).rejects.toMatchObject(
            { code: 'INVALID_KEY' },
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});
