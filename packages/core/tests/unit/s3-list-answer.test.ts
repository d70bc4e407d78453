import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { isPresignPipelineError } from '../../src/errors.js';
import { s3ListSource } from '../../src/s3/s3-list-source.js';
import type { KeyPage } from '../../src/types.js';

// A 2xx ListObjectsV2 answer is believed only when it is S3's answer to the request sent. These tests run the real
// SDK client (its retry strategy included, without delays worth waiting for) over a transport that answers with
// given bodies, and check what s3ListSource does with each.

interface Reply {
  readonly status?: number;
  readonly body: string;
}

/** A real S3Client whose transport answers the n-th request with `replies[n]` (the last one repeats). */
function clientAnswering(
  replies: readonly Reply[],
  maxAttempts = 3,
): { client: S3Client; queries: Record<string, unknown>[] } {
  const queries: Record<string, unknown>[] = [];
  const client = new S3Client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 's' },
    maxAttempts,
    requestHandler: {
      handle: async (request: { query?: Record<string, unknown> }) => {
        queries.push({ ...request.query });
        const { status = 200, body } = replies[Math.min(queries.length - 1, replies.length - 1)] as Reply;
        return {
          response: {
            statusCode: status,
            reason: '',
            headers: { 'content-type': 'application/xml' },
            body: Buffer.from(body, 'utf8'),
          },
        };
      },
    },
  });
  return { client, queries };
}

function listing(
  options: {
    name?: string | null;
    prefix?: string | null;
    truncated?: boolean | null;
    next?: string;
    keys?: readonly string[];
  } = {},
): string {
  const { name = 'b', prefix = 'p/', truncated = false, next, keys = ['p/a.pdf'] } = options;
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
    (name === null ? '' : `<Name>${name}</Name>`) +
    (prefix === null ? '' : `<Prefix>${prefix}</Prefix>`) +
    '<MaxKeys>1000</MaxKeys>' +
    (truncated === null ? '' : `<IsTruncated>${truncated}</IsTruncated>`) +
    keys.map((key) => `<Contents><Key>${key}</Key><Size>1</Size></Contents>`).join('') +
    (next === undefined ? '' : `<NextContinuationToken>${next}</NextContinuationToken>`) +
    '</ListBucketResult>'
  );
}

const HTML =
  '<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>';

async function listAll(
  client: S3Client,
  options: Partial<Parameters<typeof s3ListSource>[0]> = {},
): Promise<KeyPage[]> {
  const pages: KeyPage[] = [];
  for await (const page of s3ListSource({ client, bucket: 'b', prefix: 'p/', ...options }).pages({
    signal: new AbortController().signal,
  })) {
    pages.push(page);
  }
  return pages;
}

async function failure(
  promise: Promise<unknown>,
): Promise<Error & { code?: string; $metadata?: { attempts?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected the listing to fail');
}

describe('s3ListSource believes only S3 answers', () => {
  it.each([
    ['an HTML page', HTML, /the answer is not a ListBucketResult but an HTML page \("<!DOCTYPE html> <html><head>/],
    ['an empty body', '', /the answer is not a ListBucketResult but an empty body$/],
    [
      'foreign XML',
      '<?xml version="1.0"?><Status><Healthy>true</Healthy></Status>',
      /but another XML document \("<\?xml version=\\"1\.0\\"\?><Status>/,
    ],
    ['JSON', '{"ok":true}', /but a body that is not XML \("\{\\"ok\\":true\}"\)/],
    [
      'malformed XML',
      '<ListBucketResult><Name>b</Name><IsTruncated>false</IsTr',
      /the answer could not be read \(@aws-sdk XML parse error/,
    ],
    ['another bucket', listing({ name: 'other' }), /the answer lists bucket "other", not "b"$/],
    ['no bucket name', listing({ name: null }), /the answer names no bucket$/],
    ['another prefix', listing({ prefix: 'q/' }), /the answer lists prefix "q\/", not "p\/"$/],
    [
      'no IsTruncated',
      listing({ truncated: null }),
      /the answer has no IsTruncated, so it does not say whether more pages follow$/,
    ],
    [
      'truncated without a token',
      listing({ truncated: true }),
      /the answer is truncated but has no NextContinuationToken$/,
    ],
  ])(
    'a 200 answer with %s is retried like a 5xx, then fails the listing with MALFORMED_RESPONSE naming the page',
    async (_what, body, message) => {
      // Prepare
      const { client, queries } = clientAnswering([{ body }]);

      // Act
      const error = await failure(listAll(client));
      client.destroy();

      // Assess
      expect(isPresignPipelineError(error)).toBe(true);
      expect(error.code).toBe('MALFORMED_RESPONSE');
      expect(error.message).toMatch(/^ListObjectsV2 page 1 of s3:\/\/b\/p\/ \(first request\): /);
      expect(error.message).toMatch(message);
      expect(queries).toHaveLength(3);
      expect(error.$metadata?.attempts).toBe(3);
    },
  );

  it('a malformed answer that does not persist is absorbed by the retry: every key is listed', async () => {
    const { client, queries } = clientAnswering([
      { body: listing({ truncated: true, next: 'token-1', keys: ['p/a.pdf'] }) },
      { body: HTML },
      { body: '' },
      { body: listing({ keys: ['p/b.pdf'] }) },
    ]);
    const pages = await listAll(client);
    client.destroy();
    expect(pages.flatMap((p) => p.keys)).toEqual(['p/a.pdf', 'p/b.pdf']);
    expect(queries).toHaveLength(4);
    expect(queries.slice(1).map((q) => q['continuation-token'])).toEqual(['token-1', 'token-1', 'token-1']);
  });

  it('a continuation token that does not move forward fails page 2, naming the token sent', async () => {
    const { client } = clientAnswering([
      { body: listing({ truncated: true, next: 'same-token' }) },
      { body: listing({ truncated: true, next: 'same-token' }) },
    ]);
    const error = await failure(listAll(client));
    client.destroy();
    expect(error).toMatchObject({ code: 'MALFORMED_RESPONSE' });
    expect(error.message).toBe(
      'ListObjectsV2 page 2 of s3://b/p/ (continuation token "same-token"): the answer is truncated but hands back the ' +
        'continuation token it was sent, so the listing would not move forward',
    );
  });

  it('names startAfter for the first page of a resumed listing', async () => {
    const { client } = clientAnswering([{ body: HTML }], 1);
    const error = await failure(listAll(client, { startAfter: 'p/k.pdf' }));
    client.destroy();
    expect(error.message).toMatch(
      /^ListObjectsV2 page 1 of s3:\/\/b\/p\/ \(start after "p\/k\.pdf"\): the answer is not a ListBucketResult/,
    );
  });

  it('accepts the prefix echoed URL-encoded (EncodingType=url) and an empty prefix echoed as <Prefix/>', async () => {
    const encoded = clientAnswering([
      { body: listing({ prefix: 'p%2F' }).replace('<MaxKeys>', '<EncodingType>url</EncodingType><MaxKeys>') },
    ]);
    const empty = clientAnswering([{ body: listing({ prefix: '' }).replace('<Prefix></Prefix>', '<Prefix/>') }]);
    expect((await listAll(encoded.client)).flatMap((p) => p.keys)).toEqual(['p/a.pdf']);
    expect((await listAll(empty.client, { prefix: '' })).flatMap((p) => p.keys)).toEqual(['p/a.pdf']);
    encoded.client.destroy();
    empty.client.destroy();
  });

  it('a partition answered with an HTML page fails the partitioned listing with MALFORMED_RESPONSE naming the partition', async () => {
    const { client } = clientAnswering([{ body: HTML }], 2);
    const error = await failure(listAll(client, { partitions: { by: 'range', boundaries: ['p/m'] } }));
    client.destroy();
    expect(error).toMatchObject({ code: 'MALFORMED_RESPONSE', $metadata: { attempts: 2 } });
    expect(error.message).toMatch(
      /^ListObjectsV2 page 1 of partition "p\/" of s3:\/\/b\/p\/ \((first request|start after "p\/m")\): the answer is not a ListBucketResult but an HTML page/,
    );
  });

  it('a client whose send bypasses the SDK (a double answering {}) cannot end the listing early either', async () => {
    const client = { send: async () => ({}), config: {}, middlewareStack: {} } as unknown as S3Client;
    const error = await failure(listAll(client));
    expect(error).toMatchObject({ code: 'MALFORMED_RESPONSE' });
    expect(error.message).toContain('the answer has no IsTruncated');
  });
});
