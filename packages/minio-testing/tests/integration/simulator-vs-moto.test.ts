import { ListObjectsV2Command, type ListObjectsV2CommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client, type S3Endpoint, type S3Simulator, startS3Simulator } from '../../src/index.js';
import { useS3Endpoint } from '../../src/vitest.js';
import { bucketName } from '../helpers/s3.js';

/**
 * Keys that trip listing code: separators, spaces, '+', '%', control characters, non-ASCII, long names. (Not a
 * line feed: moto_server cannot store one; the unit tests cover it against the definition.)
 */
const AWKWARD_KEYS = [
  'a',
  'a/',
  'a/b',
  'a/b/c',
  'a/b c',
  'a/b+c',
  'a/b%2Fc',
  'a/b%c',
  'a//double',
  'a/é',
  'a/\u{1F600}',
  'a/\uFFFD',
  'a b/x',
  'a+b/x',
  'a%b/x',
  'b\rcarriage',
  'b\u0001control',
  'b\ttab',
  'b/~tilde',
  'b/x y/z',
  `c/${'x'.repeat(300)}`,
  'dir/sub/deep/1',
  'dir/sub/deep/2',
  'dir/sub/3',
  'dir/4',
  'dir.ext',
  'dir-dash',
  'dir0',
  ...Array.from({ length: 12 }, (_, i) => `n/${String(i).padStart(3, '0')}.pdf`),
  'z',
  '~last',
  '\u00e9t\u00e9/1',
  '\uFF21/full-width',
];

/**
 * How a listing page reads once decoded: everything a caller relies on, tokens only as present or not.
 * Unencoded, moto writes a carriage return into the XML as it is, and XML parsing turns it into a line feed; the
 * simulator escapes it (`&#xd;`) and the key arrives intact. So unencoded pages are compared with `\r` read as `\n`
 * (the reason listing code asks for EncodingType=url).
 */
function normalise(page: ListObjectsV2CommandOutput, decode: boolean) {
  const value = (text: string | undefined) =>
    text === undefined ? text : decode ? decodeURIComponent(text.replace(/\+/g, ' ')) : text.replace(/\r/g, '\n');
  return {
    keys: (page.Contents ?? []).map((object) => value(object.Key)),
    prefixes: (page.CommonPrefixes ?? []).map((prefix) => value(prefix.Prefix)),
    keyCount: page.KeyCount,
    isTruncated: page.IsTruncated,
    hasNextToken: page.NextContinuationToken !== undefined,
    maxKeys: page.MaxKeys,
    prefix: value(page.Prefix) ?? '',
    encodingType: page.EncodingType,
  };
}

interface Params {
  prefix: string;
  delimiter?: string;
  maxKeys: number;
  startAfter?: string;
  encoding?: 'url';
}

async function pages(client: S3Client, bucket: string, params: Params) {
  const out = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: params.prefix,
        MaxKeys: params.maxKeys,
        ...(params.delimiter ? { Delimiter: params.delimiter } : {}),
        ...(params.startAfter ? { StartAfter: params.startAfter } : {}),
        ...(params.encoding ? { EncodingType: params.encoding } : {}),
        ...(token ? { ContinuationToken: token } : {}),
      }),
    );
    out.push(normalise(page, params.encoding === 'url'));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token && out.length < 200);
  return out;
}

function matrix(): Params[] {
  const all: Params[] = [];
  for (const prefix of ['', 'a/', 'a', 'dir/', 'b', 'none/'])
    for (const delimiter of [undefined, '/', ' '])
      for (const maxKeys of [2, 1000])
        for (const startAfter of [undefined, 'a/b', 'a b', 'n/005.pdf', '~'])
          for (const encoding of [undefined, 'url'] as const)
            all.push({ prefix, delimiter, maxKeys, startAfter, encoding });
  // A start-after inside a common prefix ('a/b' with delimiter '/') is where moto and S3 part: see the test below.
  return all.filter(
    (p) => !(p.delimiter && p.startAfter?.startsWith(p.prefix) && p.startAfter.includes(p.delimiter, p.prefix.length)),
  );
}

describe('startS3Simulator lists as moto does', () => {
  let endpoint: S3Endpoint;
  let bucket: string;
  let simulator: S3Simulator;
  let simulatorClient: S3Client;

  beforeAll(async () => {
    endpoint = useS3Endpoint();
    bucket = bucketName('simvsmoto');
    await endpoint.createBucket(bucket);
    await endpoint.seed(bucket, AWKWARD_KEYS);
    simulator = await startS3Simulator({
      buckets: { [bucket]: { layout: 'keys', keys: AWKWARD_KEYS } },
      latencyMs: 0,
      jitterMs: 0,
    });
    simulatorClient = createS3Client(simulator);
  }, 120_000);

  afterAll(async () => {
    simulatorClient?.destroy();
    await simulator?.close();
    endpoint?.stop();
  });

  it('page by page for every prefix, delimiter, page size, start-after and encoding of the matrix, awkward keys included', async () => {
    const cases = matrix();
    let compared = 0;
    for (const params of cases) {
      const expected = await pages(endpoint.client, bucket, params);
      const actual = await pages(simulatorClient, bucket, params);
      expect({ params, pages: actual }).toEqual({ params, pages: expected });
      compared += actual.length;
    }
    // The matrix reaches the awkward keys: many pages, keys with control characters among them.
    expect(compared).toBeGreaterThan(cases.length * 2);
    const everything = await pages(simulatorClient, bucket, { prefix: '', maxKeys: 1000, encoding: 'url' });
    expect(everything[0]?.keys).toContain('b\rcarriage');
  }, 600_000);

  it('rolls up keys after a start-after that falls inside a common prefix (by keys, as S3 scans; moto skips the prefix)', async () => {
    const params: Params = { prefix: 'dir/', delimiter: '/', maxKeys: 1000, startAfter: 'dir/sub/deep/1' };
    const simulated = await pages(simulatorClient, bucket, params);
    expect(simulated).toHaveLength(1);
    expect(simulated[0]?.prefixes).toEqual(['dir/sub/']);
    expect(simulated[0]?.keys).toEqual([]);
    const moto = await pages(endpoint.client, bucket, params);
    expect(moto[0]?.prefixes).toEqual([]);
  });
});
