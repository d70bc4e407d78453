import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { ListObjectsV2CommandInput, ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it, vi } from 'vitest';
import { s3ListSource } from '../../src/s3/s3-list-source.js';
import type { KeyPage, KeySource } from '../../src/types.js';

type Send = (command: unknown, options?: { abortSignal?: AbortSignal }) => Promise<unknown>;

/** A client whose `send` is a spy: enough for a source, which only sends ListObjectsV2. */
function fakeClient(send: Send): S3Client {
  return { send: vi.fn(send) } as unknown as S3Client;
}

function page(
  keys: readonly (string | { key: string; size: number })[],
  next?: string,
): Partial<ListObjectsV2CommandOutput> {
  return {
    Contents: keys.map((k) => (typeof k === 'string' ? { Key: k, Size: 10 } : { Key: k.key, Size: k.size })),
    IsTruncated: next !== undefined,
    ...(next === undefined ? {} : { NextContinuationToken: next }),
  };
}

async function collect(source: KeySource, signal = new AbortController().signal): Promise<KeyPage[]> {
  const pages: KeyPage[] = [];
  for await (const p of source.pages({ signal })) pages.push(p);
  return pages;
}

function inputs(client: S3Client): ListObjectsV2CommandInput[] {
  const send = client.send as unknown as ReturnType<typeof vi.fn>;
  return send.mock.calls.map((call) => {
    const command = call[0] as ListObjectsV2Command;
    expect(command).toBeInstanceOf(ListObjectsV2Command);
    return command.input;
  });
}

describe('s3ListSource', () => {
  describe('options', () => {
    const client = fakeClient(async () => page([]));

    // Core's option convention: the wrong type (NaN counts as not a number) is a TypeError, a bad value a RangeError.
    it.each([
      ['bucket', { bucket: '' }, RangeError],
      ['bucket', { bucket: 42 }, TypeError],
      ['prefix', { prefix: 7 }, TypeError],
      ['pageSize', { pageSize: 0 }, RangeError],
      ['pageSize', { pageSize: 1001 }, RangeError],
      ['pageSize', { pageSize: 2.5 }, RangeError],
      ['pageSize', { pageSize: Number.NaN }, TypeError],
      ['pageSize', { pageSize: '100' }, TypeError],
      ['filter', { filter: '.pdf' }, TypeError],
      ['startAfter', { startAfter: 5 }, TypeError],
      ['includeDirectoryMarkers', { includeDirectoryMarkers: 'yes' }, TypeError],
    ])('rejects a bad %s at creation, naming it, before any request', (name, bad, type) => {
      // Prepare
      const options = { client, bucket: 'b', ...bad } as never;
      // Act + Assess
      expect(() => s3ListSource(options)).toThrow(type);
      expect(() => s3ListSource(options)).toThrow(new RegExp(`\\b${name}\\b`));
      expect(client.send).not.toHaveBeenCalled();
    });

    it('rejects something that is not a client, naming client', () => {
      expect(() => s3ListSource({ client: {} as S3Client, bucket: 'b' })).toThrow(/client/);
      expect(() => s3ListSource(undefined as never)).toThrow(TypeError);
    });

    it('accepts the bounds of pageSize', () => {
      expect(() => s3ListSource({ client, bucket: 'b', pageSize: 1 })).not.toThrow();
      expect(() => s3ListSource({ client, bucket: 'b', pageSize: 1000 })).not.toThrow();
    });
  });

  it('pages through ListObjectsV2 with MaxKeys, Prefix, StartAfter on the first request and continuation tokens after', async () => {
    // Prepare
    const responses = [page(['p/a.pdf', 'p/b.txt'], 't1'), page(['p/c.pdf'], 't2'), page(['p/d.PDF'])];
    const client = fakeClient(async () => responses.shift());
    const source = s3ListSource({ client, bucket: 'b', prefix: 'p/', pageSize: 2, startAfter: 'p/0' });

    // Act
    const pages = await collect(source);

    // Assess
    expect(source.bucket).toBe('b');
    expect(pages.map((p) => p.keys)).toEqual([['p/a.pdf', 'p/b.txt'], ['p/c.pdf'], ['p/d.PDF']]);
    // Only the page of the untruncated response says that nothing follows.
    expect(pages.map((p) => p.last)).toEqual([undefined, undefined, true]);
    expect(inputs(client)).toEqual([
      { Bucket: 'b', Prefix: 'p/', MaxKeys: 2, StartAfter: 'p/0', EncodingType: 'url' },
      { Bucket: 'b', Prefix: 'p/', MaxKeys: 2, ContinuationToken: 't1', EncodingType: 'url' },
      { Bucket: 'b', Prefix: 'p/', MaxKeys: 2, ContinuationToken: 't2', EncodingType: 'url' },
    ]);
  });

  it('from a server that ignores EncodingType=url, yields keys exactly as listed (nothing decoded)', async () => {
    // Prepare: names that would change if they were decoded.
    const awkward = [
      'a b.pdf',
      'x+y.pdf',
      '100%.pdf',
      'a%0Db',
      'x%2By',
      'h#i?.pdf',
      'ü/€/漢字.pdf',
      'x//y.pdf',
      'k=v&w.pdf',
    ];
    const client = fakeClient(async () => page(awkward));

    // Act
    const pages = await collect(s3ListSource({ client, bucket: 'b' }));

    // Assess
    expect(inputs(client)[0]).toMatchObject({ EncodingType: 'url' });
    expect(pages).toEqual([{ bucket: 'b', keys: awkward, cursor: 'k=v&w.pdf', last: true }]);
  });

  it('decodes keys when the response says EncodingType=url; the cursor is the decoded key, tokens go back as they came', async () => {
    // Prepare: S3 encodes keys like form fields (a space may come as '+', a literal '+' as %2B).
    const responses = [
      { ...page(['p/a%0Db', 'p/c%0D%0Ad', 'p/e%01f%1F', 'p/g%09h'], 'tok%2B+/='), EncodingType: 'url' },
      {
        ...page(['p/i+j', 'p/k%20l', 'p/m%2Bn', 'p/o%25p', 'p/%C3%BC%E6%BC%A2%F0%9F%98%80', 'p/plain.pdf']),
        EncodingType: 'url',
      },
    ];
    const client = fakeClient(async () => responses.shift());

    // Act
    const pages = await collect(s3ListSource({ client, bucket: 'b', prefix: 'p/', pageSize: 4, startAfter: 'p/\r0' }));

    // Assess
    expect(pages).toEqual([
      { bucket: 'b', keys: ['p/a\rb', 'p/c\r\nd', 'p/e\x01f\x1f', 'p/g\th'], cursor: 'p/g\th' },
      {
        bucket: 'b',
        keys: ['p/i j', 'p/k l', 'p/m+n', 'p/o%p', 'p/ü漢😀', 'p/plain.pdf'],
        cursor: 'p/plain.pdf',
        last: true,
      },
    ]);
    expect(inputs(client)).toEqual([
      { Bucket: 'b', Prefix: 'p/', MaxKeys: 4, StartAfter: 'p/\r0', EncodingType: 'url' },
      { Bucket: 'b', Prefix: 'p/', MaxKeys: 4, ContinuationToken: 'tok%2B+/=', EncodingType: 'url' },
    ]);
  });

  it('skips directory markers by their decoded key', async () => {
    const client = fakeClient(async () => ({
      ...page([
        { key: 'p/a%0D/', size: 0 },
        { key: 'p/a%2F', size: 0 },
      ]),
      EncodingType: 'url',
    }));
    expect(await collect(s3ListSource({ client, bucket: 'b' }))).toEqual([
      { bucket: 'b', keys: [], cursor: 'p/a/', last: true },
    ]);
  });

  it.each([
    ['a malformed escape', 'p/a%zz'],
    ['a cut-off escape', 'p/a%C3'],
    ['a lone percent sign', 'p/100%'],
    ['an escaped surrogate (not UTF-8)', 'p/%ED%A0%80'],
  ])(
    'fails the listing on %s in an encoded key, naming the field, instead of yielding a wrong key',
    async (_what, bad) => {
      // Prepare
      const client = fakeClient(async () => ({ ...page(['p/ok', bad]), EncodingType: 'url' }));

      // Act
      const error = await collect(s3ListSource({ client, bucket: 'b' })).catch((e: unknown) => e);

      // Assess
      expect(error).toMatchObject({ name: 'PresignPipelineError', code: 'SOURCE_FAILED' });
      expect((error as Error).message).toContain('Contents[1].Key');
      expect((error as Error).message).toContain(JSON.stringify(bad));
      expect((error as Error).message).toContain('bucket b');
      expect((error as Error).cause).toBeInstanceOf(URIError);
    },
  );

  it('applies the filter, sets the cursor to the last key listed before filtering, and yields emptied pages', async () => {
    // Prepare
    const responses = [page(['a.pdf', 'b.txt'], 't1'), page(['c.txt', 'd.txt'], 't2'), page(['e.PDF'])];
    const client = fakeClient(async () => responses.shift());
    const filter = (key: string): boolean => key.toLowerCase().endsWith('.pdf');

    // Act
    const pages = await collect(s3ListSource({ client, bucket: 'b', filter }));

    // Assess
    expect(pages).toEqual([
      { bucket: 'b', keys: ['a.pdf'], cursor: 'b.txt' },
      { bucket: 'b', keys: [], cursor: 'd.txt' },
      { bucket: 'b', keys: ['e.PDF'], cursor: 'e.PDF', last: true },
    ]);
  });

  it('yields the one empty page of an empty prefix, without a cursor', async () => {
    const client = fakeClient(async () => ({ KeyCount: 0, IsTruncated: false }));
    expect(await collect(s3ListSource({ client, bucket: 'b', prefix: 'nothing/' }))).toEqual([
      { bucket: 'b', keys: [], last: true },
    ]);
  });

  it('skips zero-byte directory markers unless asked to keep them, and keeps non-empty keys ending in /', async () => {
    // Prepare
    const listing = ['a.pdf', { key: 'folder/', size: 0 }, { key: 'odd/', size: 5 }, { key: 'z/', size: 0 }];
    const client = fakeClient(async () => page(listing));

    // Act
    const skipped = await collect(s3ListSource({ client, bucket: 'b' }));
    const kept = await collect(s3ListSource({ client, bucket: 'b', includeDirectoryMarkers: true }));

    // Assess
    expect(skipped).toEqual([{ bucket: 'b', keys: ['a.pdf', 'odd/'], cursor: 'z/', last: true }]);
    expect(kept[0]?.keys).toEqual(['a.pdf', 'folder/', 'odd/', 'z/']);
  });

  it('starts over on every call to pages()', async () => {
    const client = fakeClient(async () => page(['a']));
    const source = s3ListSource({ client, bucket: 'b' });
    await collect(source);
    await collect(source);
    expect(client.send).toHaveBeenCalledTimes(2);
  });

  it('lists lazily: the next page is requested only when the consumer asks for it', async () => {
    // Prepare
    let served = 0;
    const client = fakeClient(async () => page(['a'], `more-${++served}`));
    const iterator = s3ListSource({ client, bucket: 'b' })
      .pages({ signal: new AbortController().signal })
      [Symbol.asyncIterator]();

    // Act
    await iterator.next();
    await iterator.next();

    // Assess
    expect(client.send).toHaveBeenCalledTimes(2);
    await iterator.return?.(undefined);
  });

  it('rethrows S3 errors unchanged (same object, name = S3 code), here on page 3', async () => {
    // Prepare
    const denied = Object.assign(new Error('Access Denied'), {
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    });
    let calls = 0;
    const client = fakeClient(async () => {
      calls += 1;
      if (calls === 3) throw denied;
      return page([`k${calls}`], `t${calls}`);
    });

    // Act
    const pages: KeyPage[] = [];
    const error = await (async () => {
      try {
        for await (const p of s3ListSource({ client, bucket: 'b' }).pages({ signal: new AbortController().signal })) {
          pages.push(p);
        }
      } catch (e) {
        return e;
      }
      return undefined;
    })();

    // Assess
    expect(error).toBe(denied);
    expect(pages).toHaveLength(2);
  });

  it('passes the abort signal to the request, so an abort cancels the request in flight', async () => {
    // Prepare: a request that only ends when its abortSignal fires, as the SDK's HTTP handler does.
    let seen: AbortSignal | undefined;
    const client = fakeClient(
      (_command, options) =>
        new Promise((_resolve, reject) => {
          seen = options?.abortSignal;
          seen?.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })));
        }),
    );
    const controller = new AbortController();
    const listing = collect(s3ListSource({ client, bucket: 'b' }), controller.signal);

    // Act
    await vi.waitFor(() => expect(seen).toBeDefined());
    controller.abort();

    // Assess
    await expect(listing).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toBe(controller.signal);
    expect(client.send).toHaveBeenCalledTimes(1);
  });

  it('sends nothing when the signal is already aborted, and stops before the next page after an abort', async () => {
    // Prepare
    const controller = new AbortController();
    controller.abort();
    const idle = fakeClient(async () => page(['a'], 'more'));
    const running = new AbortController();
    const client = fakeClient(async () => {
      running.abort(); // the abort lands while the page is in flight; the response is dropped
      return page(['a'], 'more');
    });

    // Act + Assess
    await expect(collect(s3ListSource({ client: idle, bucket: 'b' }), controller.signal)).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(idle.send).not.toHaveBeenCalled();
    await expect(collect(s3ListSource({ client, bucket: 'b' }), running.signal)).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(client.send).toHaveBeenCalledTimes(1);
  });

  it('fails loudly when S3 says truncated but gives no continuation token (instead of ending short)', async () => {
    const client = fakeClient(async () => ({ Contents: [{ Key: 'a', Size: 1 }], IsTruncated: true }));
    await expect(collect(s3ListSource({ client, bucket: 'b' }))).rejects.toMatchObject({
      code: 'MALFORMED_RESPONSE',
      message:
        'ListObjectsV2 page 1 of s3://b/ (first request): the answer is truncated but has no NextContinuationToken',
    });
  });

  it('works with a real S3Client (mocked transport)', async () => {
    // Prepare
    const client = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 's' } });
    const mock = mockClient(client);
    mock
      .on(ListObjectsV2Command)
      .resolvesOnce(page(['a.pdf'], 't'))
      .resolvesOnce(page(['b.pdf']));

    // Act
    const pages = await collect(s3ListSource({ client, bucket: 'b', pageSize: 1 }));

    // Assess
    expect(pages.flatMap((p) => p.keys)).toEqual(['a.pdf', 'b.pdf']);
    expect(mock.commandCalls(ListObjectsV2Command)[1]?.args[0].input).toMatchObject({
      ContinuationToken: 't',
      MaxKeys: 1,
    });
    mock.restore();
  });
});
