import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { describe, expect, it, vi } from 'vitest';
import { DROP_X_ID_MIDDLEWARE } from '../../src/s3/presign-client.js';
import { sdkPresigner } from '../../src/s3/sdk-presigner.js';
import { expectedSignature, s3EncodeKey } from './s3-sigv4-reference.js';
import { SIGV4_QUERY, SIGV4_SESSION_QUERY } from './sigv4-query.js';

const SIGNING_DATE = new Date('2026-04-01T12:34:56Z');
const STATIC = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const SESSION = { ...STATIC, sessionToken: 'FwoGZXIvYXdzEB0aDH+/token=with&odd%chars' };

function client(config: S3ClientConfig = {}): S3Client {
  return new S3Client({ region: 'eu-west-1', credentials: STATIC, ...config });
}

function names(url: string): string[] {
  return [...new URL(url).searchParams.keys()];
}

describe('sdkPresigner', () => {
  describe('options', () => {
    it.each([
      ['client', { client: {} }],
      ['client', { client: { send: () => undefined } }],
      ['client', { client: null }],
      [
        'client',
        {
          client: {
            send: () => undefined,
            config: { serviceId: 'DynamoDB' },
            middlewareStack: { clone: (): number => 0, add: (): number => 0 },
          },
        },
      ],
      ['signingDate', { client: client(), signingDate: new Date('nope') }],
      ['signingDate', { client: client(), signingDate: '2026-01-01' }],
    ])('rejects a bad %s with a TypeError naming it', (name, options) => {
      expect(() => sdkPresigner(options as never)).toThrow(TypeError);
      expect(() => sdkPresigner(options as never)).toThrow(new RegExp(`\\b${name}\\b`));
    });

    it.each([
      [{ bucket: '', key: 'k' }, { expiresIn: 60 }, TypeError, /bucket/],
      [{ bucket: 'b', key: '' }, { expiresIn: 60 }, TypeError, /key/],
      [{ bucket: 'b', key: 7 }, { expiresIn: 60 }, TypeError, /key/],
      [{ bucket: 'b', key: 'k' }, { expiresIn: 0 }, RangeError, /expiresIn/],
      [{ bucket: 'b', key: 'k' }, { expiresIn: 604_801 }, RangeError, /expiresIn/],
      [{ bucket: 'b', key: 'k' }, { expiresIn: 1.5 }, RangeError, /expiresIn/],
    ])('rejects a bad presign call %o %o', async (object, options, type, pattern) => {
      const presigner = sdkPresigner({ client: client() });
      const presigning = presigner.presign(object as never, options as never);
      await expect(presigning).rejects.toThrow(type);
      await expect(presigning).rejects.toThrow(pattern);
    });
  });

  describe('query parameters', () => {
    it('carries exactly the SigV4 parameters, sorted, with static credentials', async () => {
      const url = await sdkPresigner({ client: client(), signingDate: SIGNING_DATE }).presign(
        { bucket: 'my-bucket', key: 'a.pdf' },
        { expiresIn: 900 },
      );
      expect(names(url)).toEqual(SIGV4_QUERY);
      const q = new URL(url).searchParams;
      expect(q.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
      expect(q.get('X-Amz-Content-Sha256')).toBe('UNSIGNED-PAYLOAD');
      expect(q.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20260401/eu-west-1/s3/aws4_request');
      expect(q.get('X-Amz-Date')).toBe('20260401T123456Z');
      expect(q.get('X-Amz-SignedHeaders')).toBe('host');
    });

    it('adds X-Amz-Security-Token, and nothing else, with session credentials', async () => {
      const url = await sdkPresigner({ client: client({ credentials: SESSION }), signingDate: SIGNING_DATE }).presign(
        { bucket: 'my-bucket', key: 'a.pdf' },
        { expiresIn: 900 },
      );
      expect(names(url)).toEqual(SIGV4_SESSION_QUERY);
      expect(new URL(url).searchParams.get('X-Amz-Security-Token')).toBe(SESSION.sessionToken);
    });

    it('adds no checksum parameter and no x-id for a client with the default checksum settings (WHEN_SUPPORTED)', async () => {
      // Prepare: the same client presigned directly by the SDK shows what we avoid.
      const userClient = client({
        requestChecksumCalculation: 'WHEN_SUPPORTED',
        responseChecksumValidation: 'WHEN_SUPPORTED',
      });
      const plain = await getSignedUrl(userClient, new GetObjectCommand({ Bucket: 'my-bucket', Key: 'a.pdf' }), {
        expiresIn: 60,
      });

      // Act
      const ours = await sdkPresigner({ client: userClient }).presign(
        { bucket: 'my-bucket', key: 'a.pdf' },
        { expiresIn: 60 },
      );

      // Assess
      expect(names(plain)).toEqual(expect.arrayContaining(['x-amz-checksum-mode', 'x-id']));
      expect(names(ours).filter((n) => /checksum|^x-id$/i.test(n))).toEqual([]);
      expect(names(ours).every((n) => n.startsWith('X-Amz-'))).toBe(true);
    });

    it('is signed over exactly the parameters it carries (x-id removed before signing, not after)', async () => {
      // The reference check itself: it accepts the SDK's URL as is, and refuses it once x-id is cut out afterwards.
      const sdkUrl = await getSignedUrl(client(), new GetObjectCommand({ Bucket: 'my-bucket', Key: 'k' }), {
        expiresIn: 60,
      });
      expect(new URL(sdkUrl).searchParams.get('X-Amz-Signature')).toBe(
        expectedSignature(sdkUrl, STATIC.secretAccessKey),
      );
      const cut = new URL(sdkUrl);
      cut.searchParams.delete('x-id');
      expect(cut.searchParams.get('X-Amz-Signature')).not.toBe(
        expectedSignature(cut.toString(), STATIC.secretAccessKey),
      );

      for (const credentials of [STATIC, SESSION]) {
        const url = await sdkPresigner({ client: client({ credentials }), signingDate: SIGNING_DATE }).presign(
          { bucket: 'my-bucket', key: 'dir/a b+c.pdf' },
          { expiresIn: 3600 },
        );
        expect(new URL(url).searchParams.get('X-Amz-Signature')).toBe(
          expectedSignature(url, credentials.secretAccessKey),
        );
      }
    });

    it('honours expiresIn', async () => {
      const presigner = sdkPresigner({ client: client() });
      for (const expiresIn of [1, 900, 3600, 604_800]) {
        const url = await presigner.presign({ bucket: 'my-bucket', key: 'k' }, { expiresIn });
        expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe(String(expiresIn));
      }
    });
  });

  describe('addressing', () => {
    it('uses virtual-hosted style on AWS by default and path style with forcePathStyle', async () => {
      const object = { bucket: 'my-bucket', key: 'dir/a.pdf' };
      const virtual = new URL(await sdkPresigner({ client: client() }).presign(object, { expiresIn: 60 }));
      const path = new URL(
        await sdkPresigner({ client: client({ forcePathStyle: true }) }).presign(object, { expiresIn: 60 }),
      );
      expect(`${virtual.origin}${virtual.pathname}`).toBe('https://my-bucket.s3.eu-west-1.amazonaws.com/dir/a.pdf');
      expect(`${path.origin}${path.pathname}`).toBe('https://s3.eu-west-1.amazonaws.com/my-bucket/dir/a.pdf');
    });

    it('presigns against a custom endpoint, path style (MinIO, moto) or virtual-hosted', async () => {
      const object = { bucket: 'my-bucket', key: 'a.pdf' };
      const local = new URL(
        await sdkPresigner({
          client: client({ endpoint: 'http://127.0.0.1:9000', forcePathStyle: true, region: 'us-east-1' }),
        }).presign(object, { expiresIn: 60 }),
      );
      const hosted = new URL(
        await sdkPresigner({ client: client({ endpoint: 'https://s3.example.com' }) }).presign(object, {
          expiresIn: 60,
        }),
      );
      expect(`${local.origin}${local.pathname}`).toBe('http://127.0.0.1:9000/my-bucket/a.pdf');
      expect(local.searchParams.get('X-Amz-Credential')).toContain('/us-east-1/s3/');
      expect(`${hosted.origin}${hosted.pathname}`).toBe('https://my-bucket.s3.example.com/a.pdf');
    });

    it.each([
      [{ useDualstackEndpoint: true }, 'my-bucket.s3.dualstack.eu-west-1.amazonaws.com'],
      [{ useAccelerateEndpoint: true }, 'my-bucket.s3-accelerate.amazonaws.com'],
      [{ useFipsEndpoint: true, region: 'us-east-1' }, 'my-bucket.s3-fips.us-east-1.amazonaws.com'],
    ])('keeps the endpoint variant the client was built with (%o)', async (config, host) => {
      const url = await sdkPresigner({ client: client(config) }).presign(
        { bucket: 'my-bucket', key: 'k' },
        { expiresIn: 60 },
      );
      expect(new URL(url).host).toBe(host);
    });

    it('uses the region of the client', async () => {
      const url = await sdkPresigner({ client: client({ region: 'ap-southeast-2' }) }).presign(
        { bucket: 'my-bucket', key: 'k' },
        { expiresIn: 60 },
      );
      expect(new URL(url).host).toBe('my-bucket.s3.ap-southeast-2.amazonaws.com');
      expect(new URL(url).searchParams.get('X-Amz-Credential')).toContain('/ap-southeast-2/s3/aws4_request');
    });
  });

  describe('keys', () => {
    const awkward = [
      'a b.pdf',
      'x+y.pdf',
      '100%.pdf',
      'h#i?.pdf',
      'ü/€/漢字.pdf',
      'a/b/c/d/e.pdf',
      'x//y.pdf',
      "k=v&w;!'()*~$@,:.pdf",
      'emoji 😀.PDF',
    ];

    it.each(awkward)('encodes %j the way S3 expects, each byte outside the unreserved set as %%XX', async (key) => {
      const url = await sdkPresigner({ client: client({ forcePathStyle: true }), signingDate: SIGNING_DATE }).presign(
        { bucket: 'my-bucket', key },
        { expiresIn: 60 },
      );
      const pathname = url.slice(url.indexOf('/', 'https://'.length), url.indexOf('?'));
      expect(pathname).toBe(`/my-bucket/${s3EncodeKey(key)}`);
      expect(decodeURIComponent(pathname.slice('/my-bucket/'.length))).toBe(key);
      expect(new URL(url).searchParams.get('X-Amz-Signature')).toBe(expectedSignature(url, STATIC.secretAccessKey));
    });
  });

  describe('signingDate', () => {
    it('makes URLs reproducible: the same inputs give the same URL, another date another signature', async () => {
      const object = { bucket: 'my-bucket', key: 'r.pdf' };
      const a = await sdkPresigner({ client: client(), signingDate: SIGNING_DATE }).presign(object, { expiresIn: 60 });
      const b = await sdkPresigner({ client: client(), signingDate: new Date(SIGNING_DATE) }).presign(object, {
        expiresIn: 60,
      });
      const c = await sdkPresigner({ client: client(), signingDate: new Date(SIGNING_DATE.getTime() + 1000) }).presign(
        object,
        { expiresIn: 60 },
      );
      expect(a).toBe(b);
      expect(new URL(c).searchParams.get('X-Amz-Signature')).not.toBe(new URL(a).searchParams.get('X-Amz-Signature'));
    });

    it('equals the SDK’s own URL for a client that already validates checksums only when required', async () => {
      const whenRequired = client({
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
      const sdk = await getSignedUrl(whenRequired, new GetObjectCommand({ Bucket: 'my-bucket', Key: 'a b.pdf' }), {
        expiresIn: 60,
        signingDate: SIGNING_DATE,
      });
      const ours = await sdkPresigner({ client: whenRequired, signingDate: SIGNING_DATE }).presign(
        { bucket: 'my-bucket', key: 'a b.pdf' },
        { expiresIn: 60 },
      );
      // The SDK's URL differs only by x-id (and therefore by its signature).
      const strip = (u: string): string => {
        const parsed = new URL(u);
        parsed.searchParams.delete('x-id');
        parsed.searchParams.delete('X-Amz-Signature');
        return parsed.toString();
      };
      expect(strip(ours)).toBe(strip(sdk));
    });

    it('is not affected by later changes to the Date object passed in', async () => {
      const date = new Date(SIGNING_DATE);
      const presigner = sdkPresigner({ client: client(), signingDate: date });
      date.setFullYear(2030);
      const url = await presigner.presign({ bucket: 'my-bucket', key: 'k' }, { expiresIn: 60 });
      expect(new URL(url).searchParams.get('X-Amz-Date')).toBe('20260401T123456Z');
    });
  });

  describe('the user client', () => {
    it('is left untouched: no middleware added, checksum settings unchanged', async () => {
      const userClient = client();
      const before = userClient.middlewareStack.identify();
      await sdkPresigner({ client: userClient }).presign({ bucket: 'my-bucket', key: 'k' }, { expiresIn: 60 });
      expect(userClient.middlewareStack.identify()).toEqual(before);
      expect(before.join(' ')).not.toContain(DROP_X_ID_MIDDLEWARE);
      expect(await userClient.config.responseChecksumValidation()).toBe('WHEN_SUPPORTED');
    });

    it('signs with the credentials its provider returns at presign time (rotation is picked up)', async () => {
      let generation = 0;
      const provider = vi.fn(async () => {
        generation += 1;
        return { accessKeyId: `AKID${generation}`, secretAccessKey: 's', expiration: new Date(Date.now() + 1000) };
      });
      const presigner = sdkPresigner({ client: client({ credentials: provider }) });
      const first = await presigner.presign({ bucket: 'my-bucket', key: 'k' }, { expiresIn: 60 });
      expect(new URL(first).searchParams.get('X-Amz-Credential')).toMatch(/^AKID\d+\//);
      expect(provider).toHaveBeenCalled();
    });
  });

  describe('credentialsExpiration', () => {
    it('reports the expiration of temporary credentials', async () => {
      const expiration = new Date(Date.now() + 3_600_000);
      const presigner = sdkPresigner({
        client: client({ credentials: async () => ({ ...SESSION, expiration }) }),
      });
      expect((await presigner.credentialsExpiration?.())?.getTime()).toBe(expiration.getTime());
    });

    it('reports nothing for long-term credentials', async () => {
      expect(await sdkPresigner({ client: client() }).credentialsExpiration?.()).toBeUndefined();
    });
  });

  it('never logs: presigning writes nothing to the console', async () => {
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) => vi.spyOn(console, m));
    await sdkPresigner({ client: client({ credentials: SESSION }) }).presign(
      { bucket: 'my-bucket', key: 'k' },
      { expiresIn: 60 },
    );
    for (const spy of spies) {
      expect(spy).not.toHaveBeenCalled();
      spy.mockRestore();
    }
  });
});
