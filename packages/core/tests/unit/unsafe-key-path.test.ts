import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { memoryManifestWriter } from '../../src/manifest/memory-manifest-writer.js';
import { presignPipeline } from '../../src/pipeline.js';
import { fastPresigner } from '../../src/s3/fast-presigner.js';
import { sdkPresigner } from '../../src/s3/sdk-presigner.js';
import { arrayKeySource } from '../../src/sources/array-key-source.js';

const signingDate = new Date('2026-04-01T12:00:00Z');
const clients = {
  'virtual-hosted': new S3Client({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
  }),
  'path-style': new S3Client({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:9000',
    forcePathStyle: true,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
  }),
};

const UNSAFE = ['a/../b.pdf', './x.pdf', 'a/./b', '..', '.', 'a/..', 'a/.', '../x.pdf', '/./x', 'a//../b'];
/** Dots that are not whole segments, and a literal "%2E%2E" (sent as %252E%252E): WHATWG clients leave these alone. */
const SAFE = ['.hidden', '..backup', 'a/.../b', 'a..b/c', 'a/b.', 'x/.pdf', 'a/%2E%2E/b.pdf', 'a/%2e/b', '.a/..b/...'];

describe('keys with . or .. path segments', () => {
  it('WHATWG URL parsing removes dot segments, written as dots or as %2E: no encoding of such a key survives a browser or fetch()', () => {
    // The evidence for refusing rather than re-encoding: the URL Standard counts "%2e" (any case) as a dot.
    for (const path of ['a/../b.pdf', 'a/%2E%2E/b.pdf', 'a/.%2e/b.pdf', 'a/%2e%2E/b.pdf']) {
      expect(new URL(`https://bucket.s3.eu-west-1.amazonaws.com/${path}?X-Amz-Signature=0`).pathname).toBe('/b.pdf');
    }
    expect(new URL('https://bucket.s3.eu-west-1.amazonaws.com/a/%2E/b').pathname).toBe('/a/b');
  });

  for (const [style, client] of Object.entries(clients)) {
    it.each(UNSAFE)(`%j is refused with UNSAFE_KEY_PATH by both presigners (${style})`, async (key) => {
      const object = { bucket: 'reports', key };
      const fast = fastPresigner({ client, signingDate, fallback: false });
      const sdk = sdkPresigner({ client, signingDate });
      await expect(fast.presign(object, { expiresIn: 60 })).rejects.toMatchObject({
        name: 'PresignPipelineError',
        code: 'UNSAFE_KEY_PATH',
        key,
      });
      expect(() => fast.presignSync(object, { expiresIn: 60 })).toThrow(
        expect.objectContaining({ code: 'UNSAFE_KEY_PATH', key }),
      );
      await expect(sdk.presign(object, { expiresIn: 60 })).rejects.toMatchObject({
        name: 'PresignPipelineError',
        code: 'UNSAFE_KEY_PATH',
        key,
      });
    });

    it.each(SAFE)(
      `%j is signed alike by both presigners, and WHATWG clients send its URL unchanged (${style})`,
      async (key) => {
        const object = { bucket: 'reports', key };
        const fastUrl = await fastPresigner({ client, signingDate, fallback: false }).presign(object, {
          expiresIn: 60,
        });
        const sdkUrl = await sdkPresigner({ client, signingDate }).presign(object, { expiresIn: 60 });
        expect(fastUrl).toBe(sdkUrl);
        expect(new URL(fastUrl).href).toBe(fastUrl);
      },
    );
  }

  it('reports such keys as item errors with their code and key, and presigns the rest', async () => {
    const keys = ['2026/04/a.pdf', '2026/04/../b.pdf', '2026/04/./c.pdf', '2026/04/.d.pdf'];
    const errors: Array<{ key: string; code: unknown }> = [];
    const manifest = memoryManifestWriter();
    const result = await presignPipeline({
      source: arrayKeySource(keys, { bucket: 'reports' }),
      presigner: fastPresigner({ client: clients['virtual-hosted'], signingDate }),
      manifest,
      reporters: [
        {
          subscribe(events) {
            const onError = (e: { key: string; error: Error }): void => {
              errors.push({ key: e.key, code: (e.error as { code?: unknown }).code });
            };
            events.on('item-error', onError);
            return () => events.off('item-error', onError);
          },
        },
      ],
    });
    expect(result).toMatchObject({ count: 2, errors: 2, complete: true });
    expect(manifest.entries.map((e) => e.key)).toEqual(['2026/04/a.pdf', '2026/04/.d.pdf']);
    for (const entry of manifest.entries) expect(new URL(entry.url).href).toBe(entry.url);
    expect(errors).toEqual([
      { key: '2026/04/../b.pdf', code: 'UNSAFE_KEY_PATH' },
      { key: '2026/04/./c.pdf', code: 'UNSAFE_KEY_PATH' },
    ]);
  });
});
