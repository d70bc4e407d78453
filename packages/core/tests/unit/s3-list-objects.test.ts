import { Readable } from 'node:stream';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { listObjectsCommand, parseListBody } from '../../src/s3/list-objects.js';
import { s3ListSource } from '../../src/s3/s3-list-source.js';

// The lean ListObjectsV2 reader must give exactly what the SDK's deserializer gives, or decline and let the SDK read
// the body. These tests run the real SDK client over a transport that answers with a given XML body.

interface Reply {
  readonly status?: number;
  readonly body: string;
  readonly asStream?: boolean;
}

/** An S3Client whose transport answers every request with `reply()`. */
function clientAnswering(reply: () => Reply): S3Client {
  return new S3Client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 's' },
    maxAttempts: 1,
    requestHandler: {
      handle: async () => {
        const { status = 200, body, asStream = false } = reply();
        const bytes = Buffer.from(body, 'utf8');
        return {
          response: {
            statusCode: status,
            reason: '',
            headers: { 'content-type': 'application/xml', 'x-amz-request-id': 'req-1' },
            body: asStream ? Readable.from([bytes.subarray(0, 7), bytes.subarray(7)]) : bytes,
          },
        };
      },
    },
  });
}

/** The fields a key source reads, normalised (an absent list is an empty one). */
function essentials(output: Record<string, unknown>): unknown {
  const contents = (output.Contents as { Key?: string; Size?: number }[] | undefined) ?? [];
  const prefixes = (output.CommonPrefixes as { Prefix?: string }[] | undefined) ?? [];
  return {
    contents: contents.map((c) => ({ Key: c.Key, Size: c.Size })),
    prefixes: prefixes.map((p) => p.Prefix),
    isTruncated: output.IsTruncated,
    next: output.NextContinuationToken,
  };
}

/** SDK output and lean output for one body. */
async function bothWays(body: string, asStream = false): Promise<{ sdk: unknown; lean: unknown; leanRaw: Record<string, unknown> }> {
  const client = clientAnswering(() => ({ body, asStream }));
  const sdk = await client.send(new ListObjectsV2Command({ Bucket: 'b' }));
  const leanRaw = (await client.send(listObjectsCommand({ Bucket: 'b' }))) as unknown as Record<string, unknown>;
  client.destroy();
  return { sdk: essentials(sdk as unknown as Record<string, unknown>), lean: essentials(leanRaw), leanRaw };
}

// ---- generators of S3-shaped listings -------------------------------------------------------------------------

const keyChar = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('a', 'Z', '0', '/', '-', '.', '_', ' ') },
  { weight: 3, arbitrary: fc.constantFrom('&', '<', '>', '"', "'", ';', '#', '\t', '\n') },
  { weight: 2, arbitrary: fc.constantFrom('ü', '漢', '€', '\uffe0', '😀', '\u{10ffff}') },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
);
const keyText = fc.array(keyChar, { minLength: 1, maxLength: 12 }).map((chars) => chars.join(''));

/** Escapes text as S3 (or another server) might: entities, character references, or raw where XML allows. */
const escaped = (text: string): fc.Arbitrary<string> =>
  fc.array(fc.integer({ min: 0, max: 3 }), { minLength: text.length, maxLength: text.length }).map((choices) => {
    let out = '';
    let i = 0;
    for (const ch of text) {
      const choice = choices[i++] ?? 0;
      const code = ch.codePointAt(0) ?? 0;
      const named: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
      if (ch === '&' || ch === '<') out += choice === 1 && code <= 0xffff ? `&#${code};` : (named[ch] ?? ch);
      else if (choice === 1 && code <= 0xffff) out += `&#${code};`;
      else if (choice === 2 && code <= 0xffff) out += `&#x${code.toString(16)};`;
      else if (choice === 3 && named[ch] !== undefined) out += named[ch];
      else out += ch;
    }
    return out;
  });

const space = fc.constantFrom('', '', '\n', '\n  ', '\n\t');

const contents = fc
  .record({
    key: keyText.chain(escaped),
    size: fc.nat({ max: 5_000_000_000 }),
    owner: fc.boolean(),
    restore: fc.boolean(),
    sp: space,
  })
  .map(
    ({ key, size, owner, restore, sp }) =>
      `<Contents>${sp}<Key>${key}</Key>${sp}<LastModified>2026-11-27T02:57:55.000Z</LastModified><ETag>&quot;9a1cb6&quot;</ETag>` +
      `<ChecksumAlgorithm>CRC64NVME</ChecksumAlgorithm><ChecksumType>FULL_OBJECT</ChecksumType><Size>${size}</Size>` +
      `<StorageClass>STANDARD</StorageClass>${owner ? '<Owner><ID>75aa57</ID><DisplayName>webfile</DisplayName></Owner>' : ''}` +
      `${restore ? '<RestoreStatus><IsRestoreInProgress>false</IsRestoreInProgress></RestoreStatus>' : ''}${sp}</Contents>`,
  );
const commonPrefix = keyText.chain(escaped).map((p) => `<CommonPrefixes><Prefix>${p}/</Prefix></CommonPrefixes>`);

const listing = fc
  .record({
    declaration: fc.boolean(),
    contents: fc.array(contents, { maxLength: 6 }),
    prefixes: fc.array(commonPrefix, { maxLength: 3 }),
    truncated: fc.boolean(),
    token: fc.string({ unit: fc.constantFrom('a', 'Z', '9', '/', '+', '=', '-'), minLength: 1, maxLength: 20 }),
    sp: space,
  })
  .map(
    ({ declaration, contents: objects, prefixes, truncated, token, sp }) =>
      `${declaration ? '<?xml version="1.0" encoding="UTF-8"?>\n' : ''}` +
      `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${sp}<Name>b</Name><Prefix>p/</Prefix>` +
      `<KeyCount>${objects.length + prefixes.length}</KeyCount><MaxKeys>1000</MaxKeys><Delimiter>/</Delimiter>` +
      `<IsTruncated>${truncated}</IsTruncated>${truncated ? `<NextContinuationToken>${token}</NextContinuationToken>` : ''}` +
      `${objects.join(sp)}${sp}${prefixes.join('')}${sp}</ListBucketResult>`,
  );

describe('lean ListObjectsV2 reader', () => {
  it('reads S3-shaped listings exactly as the SDK does (property)', async () => {
    await fc.assert(
      fc.asyncProperty(listing, fc.boolean(), async (xml, asStream) => {
        // Act
        const parsed = parseListBody(xml);
        const { sdk, lean, leanRaw } = await bothWays(xml, asStream);

        // Assess: the lean reader took it (no fallback) and agrees with the SDK field for field.
        expect(parsed).toBeDefined();
        expect(lean).toEqual(sdk);
        expect(essentials(parsed as Record<string, unknown>)).toEqual(sdk);
        expect(leanRaw.$metadata).toMatchObject({ httpStatusCode: 200, requestId: 'req-1' });
        // The lean output carries only what it reads: proof that the SDK deserializer did not produce it.
        for (const object of (leanRaw.Contents as object[] | undefined) ?? []) expect(object).not.toHaveProperty('LastModified');
      }),
      { numRuns: 400 },
    );
  });

  it.each([
    ['a CDATA section', '<Key><![CDATA[a&b]]></Key>'],
    ['a comment', '<Key>a<!-- x -->b</Key>'],
    ['a carriage return', '<Key>a\r\nb</Key>'],
    ['an astral character reference', '<Key>&#x1F600;</Key>'],
    ['an unknown entity', '<Key>&nbsp;x</Key>'],
    ['a bare ampersand', '<Key>a&b</Key>'],
    ['an attribute on an element', '<Key id="1">a</Key>'],
  ])('hands %s to the SDK and still yields what the SDK yields', async (_what, keyElement) => {
    // Prepare
    const xml = `<ListBucketResult><IsTruncated>false</IsTruncated><Contents>${keyElement}<Size>3</Size></Contents></ListBucketResult>`;

    // Act
    const { sdk, lean } = await bothWays(xml);

    // Assess
    expect(parseListBody(xml)).toBeUndefined();
    expect(lean).toEqual(sdk);
  });

  it.each([
    ['EncodingType', '<ListBucketResult><EncodingType>url</EncodingType><Contents><Key>a%20b</Key></Contents></ListBucketResult>'],
    ['another root', '<ListAllMyBucketsResult><Buckets/></ListAllMyBucketsResult>'],
    ['a duplicated IsTruncated', '<ListBucketResult><IsTruncated>true</IsTruncated><IsTruncated>false</IsTruncated></ListBucketResult>'],
    ['a Contents without Key', '<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>'],
    ['a non-numeric Size', '<ListBucketResult><Contents><Key>a</Key><Size>1e3</Size></Contents></ListBucketResult>'],
    ['text between elements', '<ListBucketResult>junk<Contents><Key>a</Key></Contents></ListBucketResult>'],
    ['spaces without a line break between elements', '<ListBucketResult> <Contents><Key>a</Key></Contents></ListBucketResult>'],
    ['a truncated document', '<ListBucketResult><Contents><Key>a</Key>'],
  ])('declines %s', (_what, xml) => {
    expect(parseListBody(xml)).toBeUndefined();
  });

  it('reads what S3 sends for keys that need escaping, and a whitespace-only key the way the SDK does', async () => {
    // Prepare
    const xml =
      '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      '<IsTruncated>true</IsTruncated><Contents><Key>a&amp;b&lt;c&gt;&quot;d&apos;e&#9;f&#x41;</Key><Size>0</Size></Contents>' +
      '<Contents><Key>\n  </Key><Size>2</Size></Contents><Contents><Key/><Size>1</Size></Contents>' +
      '<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken></ListBucketResult>';

    // Act
    const { sdk, lean } = await bothWays(xml);

    // Assess
    expect(parseListBody(xml)).toEqual({
      Contents: [
        { Key: 'a&b<c>"d\'e\tfA', Size: 0 },
        { Key: '', Size: 2 },
        { Key: '', Size: 1 },
      ],
      IsTruncated: true,
      NextContinuationToken: '1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=',
    });
    expect(lean).toEqual(sdk);
  });

  it('leaves errors to the SDK: a 404 NoSuchBucket rejects as the SDK rejects it', async () => {
    // Prepare
    const body = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>';
    const client = clientAnswering(() => ({ status: 404, body }));

    // Act
    const error = await client.send(listObjectsCommand({ Bucket: 'b' })).catch((e: unknown) => e);

    // Assess
    expect(error).toMatchObject({ name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } });
    client.destroy();
  });

  it('adds its middleware to the command only, never to the client the user passed', async () => {
    // Prepare
    const client = clientAnswering(() => ({ body: '<ListBucketResult><Contents><Key>a</Key><Size>1</Size></Contents></ListBucketResult>' }));
    const before = client.middlewareStack.identify();

    // Act
    const pages = [];
    for await (const page of s3ListSource({ client, bucket: 'b' }).pages({ signal: new AbortController().signal })) pages.push(page);

    // Assess
    expect(pages).toEqual([{ bucket: 'b', keys: ['a'], cursor: 'a' }]);
    expect(client.middlewareStack.identify()).toEqual(before);
    client.destroy();
  });
});
