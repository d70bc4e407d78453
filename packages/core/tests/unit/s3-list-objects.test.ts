import { Readable } from 'node:stream';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeListing, decodeUrlValue, listObjectsCommand, parseListBody } from '../../src/s3/list-objects.js';
import { s3ListSource } from '../../src/s3/s3-list-source.js';

// The lean ListObjectsV2 reader must give exactly what the SDK's deserializer gives, or decline and let the SDK read
// the body. These tests run the real SDK client over a transport that answers with a given XML body.

interface Reply {
  readonly status?: number;
  readonly body: string;
  readonly asStream?: boolean;
}

/** An S3Client whose transport answers every request with `reply()`; `queries` records each request's query. */
function clientAnswering(reply: () => Reply, queries: Record<string, unknown>[] = []): S3Client {
  return new S3Client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 's' },
    maxAttempts: 1,
    requestHandler: {
      handle: async (request: { query?: Record<string, unknown> }) => {
        queries.push({ ...request.query });
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
async function bothWays(
  body: string,
  asStream = false,
): Promise<{ sdk: unknown; lean: unknown; leanRaw: Record<string, unknown> }> {
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
        for (const object of (leanRaw.Contents as object[] | undefined) ?? [])
          expect(object).not.toHaveProperty('LastModified');
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
    ['leading zeros', '<Size>0000000000000000012</Size>'],
    ['16 digits, past exact double arithmetic', '<Size>9007199254740993</Size>'],
    ['15 digits', '<Size>999999999999999</Size>'],
    ['a character reference', '<Size>&#49;2</Size>'],
    ['an empty element', '<Size/>'],
    ['a closing tag with a space', '<Size>42</Size >'],
    ['a key closed with a space', '<Key>a</Key ><Size>7</Size>'],
  ])('reads a Contents with %s as the SDK does, or leaves it to the SDK', async (_what, elements) => {
    // Prepare
    const key = elements.includes('<Key>') ? '' : '<Key>k</Key>';
    const xml = `<ListBucketResult><Name>b</Name><IsTruncated>false</IsTruncated><Contents>${key}${elements}</Contents></ListBucketResult>`;

    // Act
    const { sdk, lean } = await bothWays(xml);
    const parsed = parseListBody(xml);

    // Assess: whatever the lean reader takes, it reads as the SDK does.
    expect(lean).toEqual(sdk);
    if (parsed !== undefined) expect(essentials(parsed as Record<string, unknown>)).toEqual(sdk);
  });

  it.each([
    [
      'a duplicated EncodingType',
      '<ListBucketResult><EncodingType>url</EncodingType><EncodingType>url</EncodingType></ListBucketResult>',
    ],
    ['another root', '<ListAllMyBucketsResult><Buckets/></ListAllMyBucketsResult>'],
    [
      'a duplicated IsTruncated',
      '<ListBucketResult><IsTruncated>true</IsTruncated><IsTruncated>false</IsTruncated></ListBucketResult>',
    ],
    ['a Contents without Key', '<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>'],
    ['a non-numeric Size', '<ListBucketResult><Contents><Key>a</Key><Size>1e3</Size></Contents></ListBucketResult>'],
    ['text between elements', '<ListBucketResult>junk<Contents><Key>a</Key></Contents></ListBucketResult>'],
    [
      'spaces without a line break between elements',
      '<ListBucketResult> <Contents><Key>a</Key></Contents></ListBucketResult>',
    ],
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
    const body =
      '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>';
    const client = clientAnswering(() => ({ status: 404, body }));

    // Act
    const error = await client.send(listObjectsCommand({ Bucket: 'b' })).catch((e: unknown) => e);

    // Assess
    expect(error).toMatchObject({ name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } });
    client.destroy();
  });

  it('adds its middleware to the command only, never to the client the user passed', async () => {
    // Prepare
    const client = clientAnswering(() => ({
      body: '<ListBucketResult><Name>b</Name><Prefix/><IsTruncated>false</IsTruncated><Contents><Key>a</Key><Size>1</Size></Contents></ListBucketResult>',
    }));
    const before = client.middlewareStack.identify();

    // Act
    const pages = [];
    for await (const page of s3ListSource({ client, bucket: 'b' }).pages({ signal: new AbortController().signal }))
      pages.push(page);

    // Assess
    expect(pages).toEqual([{ bucket: 'b', keys: ['a'], cursor: 'a', last: true }]);
    expect(client.middlewareStack.identify()).toEqual(before);
    client.destroy();
  });

  it('reads answers streamed at once in small chunks, each into its own bytes, one larger than a reused buffer', async () => {
    // Prepare: eight answers arriving chunk by chunk, interleaved; the last one about 450 KB (more than the 256 KiB
    // buffers answers are read into, so it grows), and one the lean reader declines (a CDATA key), read by the SDK.
    const answer = (n: number, keys: number, cdata: boolean): string => {
      let contents = '';
      for (let i = 0; i < keys; i++) {
        const key = `answer-${n}/${String(i).padStart(6, '0')}.pdf`;
        contents += `<Contents><Key>${cdata && i === 0 ? `<![CDATA[${key}]]>` : key}</Key><LastModified>2026-11-27T02:57:55.000Z</LastModified><Size>${i}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
      }
      return `<ListBucketResult><Name>b</Name><Prefix/><IsTruncated>false</IsTruncated>${contents}</ListBucketResult>`;
    };
    const keyCounts = [3, 40, 200, 1, 500, 60, 7, 3000];
    const bodies = keyCounts.map((keys, n) => Buffer.from(answer(n, keys, n === 2)));
    const client = new S3Client({
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 's' },
      maxAttempts: 1,
      requestHandler: {
        handle: async (request: { query?: Record<string, unknown> }) => {
          const bytes = bodies[Number(request.query?.['start-after'])] as Buffer;
          async function* chunks(): AsyncGenerator<Buffer> {
            for (let at = 0; at < bytes.length; at += 4096) {
              await new Promise((resolve) => setImmediate(resolve));
              yield bytes.subarray(at, at + 4096);
            }
          }
          return { response: { statusCode: 200, reason: '', headers: {}, body: Readable.from(chunks()) } };
        },
      },
    });

    // Act
    const outputs = await Promise.all(
      keyCounts.map((_, n) => client.send(listObjectsCommand({ Bucket: 'b', StartAfter: String(n) }))),
    );

    // Assess
    outputs.forEach((output, n) => {
      const keys = (output.Contents ?? []).map((object) => object.Key);
      expect(keys).toHaveLength(keyCounts[n] as number);
      expect(keys.at(-1)).toBe(`answer-${n}/${String((keyCounts[n] as number) - 1).padStart(6, '0')}.pdf`);
      expect(keys[0]).toBe(`answer-${n}/000000.pdf`);
    });
    client.destroy();
  });

  it('copies the text it keeps out of the bytes the body came from, so no key is a slice holding the whole body', () => {
    // Prepare: the same body as text and as bytes, except that the bytes spell each kept value in capitals, so the
    // reader's output says which one each value was taken from.
    const xml =
      '<ListBucketResult><Name>b</Name><Prefix>p/</Prefix><IsTruncated>true</IsTruncated>' +
      '<NextContinuationToken>token-of-the-next-page</NextContinuationToken>' +
      '<Contents><Key>p/quarterly-summary-0001.pdf</Key><Size>7</Size></Contents></ListBucketResult>';
    const bytes = Buffer.from(
      xml
        .replace('p/quarterly-summary-0001.pdf', 'P/QUARTERLY-SUMMARY-0001.PDF')
        .replace('>p/<', '>P/<')
        .replace('token-of-the-next-page', 'TOKEN-OF-THE-NEXT-PAGE'),
    );

    // Act
    const fromBytes = parseListBody(xml, bytes);
    const notAscii = parseListBody(xml.replace('0001', '000é'), Buffer.from(xml.replace('0001', '000é')));

    // Assess: with ASCII bytes of the same length, keys, prefix and token are copies from them; other bodies are
    // read from the text.
    expect(fromBytes).toMatchObject({
      Prefix: 'P/',
      NextContinuationToken: 'TOKEN-OF-THE-NEXT-PAGE',
      Contents: [{ Key: 'P/QUARTERLY-SUMMARY-0001.PDF', Size: 7 }],
    });
    expect(notAscii?.Contents).toEqual([{ Key: 'p/quarterly-summary-000é.pdf', Size: 7 }]);
  });
});

// ---- EncodingType=url ------------------------------------------------------------------------------------------

/** Encodes as S3 does for `EncodingType=url`: `/` kept, everything else escaped, a space as `+` or `%20`. */
const s3UrlEncode = (text: string, spaceAsPlus: boolean): string =>
  encodeURIComponent(text)
    .replace(/%2F/g, '/')
    .replace(/%20/g, spaceAsPlus ? '+' : '%20')
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Characters a plain XML listing cannot carry or alters, and the ones URL decoding could get wrong. */
const encodedKeyChar = fc.oneof(
  { weight: 3, arbitrary: keyChar },
  { weight: 2, arbitrary: fc.constantFrom('\r', '\r\n', '\x01', '\x1f', '\x7f', '+', '%', '%2B', '%0D', ' ') },
);
const encodedKeyText = fc.array(encodedKeyChar, { minLength: 1, maxLength: 12 }).map((chars) => chars.join(''));

const encodedListing = fc
  .record({
    keys: fc.array(encodedKeyText, { maxLength: 6 }),
    prefixes: fc.array(encodedKeyText, { maxLength: 3 }),
    spaceAsPlus: fc.boolean(),
    echoFirst: fc.boolean(),
    truncated: fc.boolean(),
    token: fc.string({ unit: fc.constantFrom('a', 'Z', '9', '/', '+', '=', '%'), minLength: 1, maxLength: 20 }),
    sp: space,
  })
  .map(({ keys, prefixes, spaceAsPlus, echoFirst, truncated, token, sp }) => {
    const enc = (text: string): string => s3UrlEncode(text, spaceAsPlus);
    const echo = '<EncodingType>url</EncodingType>';
    const xml =
      `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${sp}` +
      `<Name>b</Name><Prefix>${enc('p ')}</Prefix><StartAfter>${enc('p \r')}</StartAfter>${echoFirst ? echo : ''}` +
      `<KeyCount>${keys.length + prefixes.length}</KeyCount><MaxKeys>1000</MaxKeys><Delimiter>${enc('/')}</Delimiter>` +
      `<IsTruncated>${truncated}</IsTruncated>${truncated ? `<NextContinuationToken>${token}</NextContinuationToken>` : ''}` +
      keys
        .map(
          (key, i) =>
            `<Contents>${sp}<Key>${enc(key)}</Key><LastModified>2026-11-27T02:57:55.000Z</LastModified><Size>${i}</Size>${sp}</Contents>`,
        )
        .join(sp) +
      prefixes.map((p) => `<CommonPrefixes><Prefix>${enc(`${p}/`)}</Prefix></CommonPrefixes>`).join('') +
      `${echoFirst ? '' : echo}${sp}</ListBucketResult>`;
    return { xml, keys, prefixes: prefixes.map((p) => `${p}/`), token: truncated ? token : undefined };
  });

/** Keys and prefixes of a decoded page. */
const keysOf = (page: { Contents?: readonly { Key?: string }[] }): (string | undefined)[] =>
  (page.Contents ?? []).map((c) => c.Key);
const prefixesOf = (page: { CommonPrefixes?: readonly { Prefix?: string }[] }): (string | undefined)[] =>
  (page.CommonPrefixes ?? []).map((c) => c.Prefix);

describe('EncodingType=url', () => {
  it.each([
    ['plain/key.pdf', 'plain/key.pdf'],
    ['a+b', 'a b'],
    ['a%20b', 'a b'],
    ['a%2Bb', 'a+b'],
    ['%2B+%20', '+  '],
    ['a%0Db', 'a\rb'],
    ['a%0d%0Ab', 'a\r\nb'],
    ['%01%1F%09%7F', '\x01\x1f\t\x7f'],
    ['%25', '%'],
    ['%2525', '%25'],
    ['%C3%BC%E6%BC%A2%F0%9F%98%80', 'ü漢😀'],
    ['ü漢', 'ü漢'],
  ])('decodes %j as %j (once, like a form field)', (encoded, key) => {
    expect(decodeUrlValue(encoded)).toBe(key);
  });

  it.each(['a%zz', 'a%', 'a%2', '%C3', '%C3%28', '%ED%A0%80', '%FF'])(
    'rejects the malformed escape %j with a URIError',
    (bad) => {
      expect(() => decodeUrlValue(bad)).toThrow(URIError);
    },
  );

  it('decodes keys and common prefixes only when the response says EncodingType=url; never the token; drops the echoes', () => {
    // Prepare
    const raw = {
      Contents: [
        { Key: 'a%0Db+c', Size: 1 },
        { Key: 'plain', Size: 2 },
      ],
      CommonPrefixes: [{ Prefix: 'd%2Be/' }],
      IsTruncated: true,
      NextContinuationToken: 'tok%2B+=',
      Prefix: 'p%', // an echo some servers send unencoded: never read
    };

    // Act
    const decoded = decodeListing({ ...raw, EncodingType: 'url' }, 'b');
    const asIs = decodeListing(raw, 'b');
    const otherEncoding = decodeListing({ ...raw, EncodingType: 'none' }, 'b');

    // Assess
    expect(decoded).toEqual({
      Contents: [
        { Key: 'a\rb c', Size: 1 },
        { Key: 'plain', Size: 2 },
      ],
      CommonPrefixes: [{ Prefix: 'd+e/' }],
      IsTruncated: true,
      NextContinuationToken: 'tok%2B+=',
    });
    expect(keysOf(asIs)).toEqual(['a%0Db+c', 'plain']);
    expect(prefixesOf(asIs)).toEqual(['d%2Be/']);
    expect(keysOf(otherEncoding)).toEqual(['a%0Db+c', 'plain']);
    expect(asIs).not.toHaveProperty('Prefix');
  });

  it('names the field, the bucket and the value of a malformed escape, in a common prefix too', () => {
    const error = (() => {
      try {
        decodeListing({ EncodingType: 'url', CommonPrefixes: [{ Prefix: 'ok/' }, { Prefix: 'x%G0/' }] }, 'my-bucket');
      } catch (e) {
        return e as Error & { code?: string };
      }
      return undefined;
    })();
    expect(error).toMatchObject({ name: 'PresignPipelineError', code: 'SOURCE_FAILED' });
    expect(error?.message).toMatch(/bucket my-bucket: CommonPrefixes\[1\]\.Prefix "x%G0\/" is not valid URL encoding/);
  });

  it('the SDK itself does not decode: it returns encoded keys as the body has them', async () => {
    const client = clientAnswering(() => ({
      body: '<ListBucketResult><EncodingType>url</EncodingType><Contents><Key>a%0Db+c</Key></Contents></ListBucketResult>',
    }));
    const output = await client.send(new ListObjectsV2Command({ Bucket: 'b', EncodingType: 'url' }));
    expect(output.Contents?.[0]?.Key).toBe('a%0Db+c');
    expect(output.EncodingType).toBe('url');
    client.destroy();
  });

  it('the lean reader takes encoded listings (no fallback), agrees with the SDK, and both decode to the stored keys (property)', async () => {
    await fc.assert(
      fc.asyncProperty(encodedListing, fc.boolean(), async ({ xml, keys, prefixes, token }, asStream) => {
        // Act
        const parsed = parseListBody(xml);
        const client = clientAnswering(() => ({ body: xml, asStream }));
        const sdk = await client.send(new ListObjectsV2Command({ Bucket: 'b', EncodingType: 'url' }));
        const lean = await client.send(listObjectsCommand({ Bucket: 'b', EncodingType: 'url' }));
        client.destroy();

        // Assess: the lean reader read it as the SDK does, EncodingType included.
        expect(parsed).toBeDefined();
        expect(parsed?.EncodingType).toBe('url');
        expect(essentials(parsed as Record<string, unknown>)).toEqual(
          essentials(sdk as unknown as Record<string, unknown>),
        );
        // Decoded, every output gives back the keys byte for byte; the token stays as it came.
        for (const output of [parsed as LeanListingLike, sdk as LeanListingLike, lean as LeanListingLike]) {
          const decoded = decodeListing(output, 'b');
          expect(keysOf(decoded)).toEqual(keys);
          expect(prefixesOf(decoded)).toEqual(prefixes);
          expect(decoded.NextContinuationToken).toBe(token);
        }
        // The command's output came from the lean reader, not the SDK deserializer.
        for (const object of lean.Contents ?? []) expect(object).not.toHaveProperty('LastModified');
      }),
      { numRuns: 300 },
    );
  });

  it('decodes what the SDK reads when the lean reader declines the body, the same way', async () => {
    // Prepare: a comment makes the lean reader hand the body to the SDK.
    const listing = (truncated: boolean): string =>
      `<ListBucketResult><!-- served by a proxy --><Name>b</Name><Prefix>p%2F</Prefix><EncodingType>url</EncodingType><IsTruncated>${truncated}</IsTruncated>` +
      '<Contents><Key>p/a%0Db</Key><LastModified>2026-11-27T02:57:55.000Z</LastModified><Size>3</Size></Contents>' +
      '<Contents><Key>p/c+d%2B</Key><LastModified>2026-11-27T02:57:55.000Z</LastModified><Size>4</Size></Contents>' +
      `<CommonPrefixes><Prefix>p/%01/</Prefix></CommonPrefixes>${truncated ? '<NextContinuationToken>t%2B+</NextContinuationToken>' : ''}` +
      '</ListBucketResult>';
    const queries: Record<string, unknown>[] = [];
    const client = clientAnswering(() => ({ body: listing(false) }), queries);
    const truncated = clientAnswering(() => ({ body: listing(true) }));

    // Act
    const page = decodeListing(await truncated.send(listObjectsCommand({ Bucket: 'b', EncodingType: 'url' })), 'b');
    const pages = [];
    for await (const p of s3ListSource({ client, bucket: 'b', prefix: 'p/', startAfter: 'p/\r' }).pages({
      signal: new AbortController().signal,
    })) {
      pages.push(p);
    }
    client.destroy();
    truncated.destroy();

    // Assess
    expect(parseListBody(listing(true))).toBeUndefined();
    expect(page.Contents?.[0]).toHaveProperty('LastModified'); // the SDK deserializer read this body
    expect(keysOf(page)).toEqual(['p/a\rb', 'p/c d+']);
    expect(prefixesOf(page)).toEqual(['p/\x01/']);
    expect(page.NextContinuationToken).toBe('t%2B+');
    expect(pages).toEqual([{ bucket: 'b', keys: ['p/a\rb', 'p/c d+'], cursor: 'p/c d+', last: true }]);
    expect(queries[0]).toMatchObject({ 'encoding-type': 'url', prefix: 'p/', 'start-after': 'p/\r' });
  });

  it('s3ListSource over a real client: keys with control characters come back exact, cursor included', async () => {
    // Prepare
    const body =
      '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      '<Name>b</Name><Prefix></Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><EncodingType>url</EncodingType>' +
      '<IsTruncated>false</IsTruncated><Contents><Key>a%0D%0Ab</Key><Size>3</Size></Contents>' +
      '<Contents><Key>c%0Dd</Key><Size>3</Size></Contents></ListBucketResult>';
    const queries: Record<string, unknown>[] = [];
    const client = clientAnswering(() => ({ body }), queries);

    // Act
    const pages = [];
    for await (const page of s3ListSource({ client, bucket: 'b' }).pages({ signal: new AbortController().signal }))
      pages.push(page);
    client.destroy();

    // Assess
    expect(pages).toEqual([{ bucket: 'b', keys: ['a\r\nb', 'c\rd'], cursor: 'c\rd', last: true }]);
    expect(queries[0]).toMatchObject({ 'encoding-type': 'url' });
  });
});

type LeanListingLike = Parameters<typeof decodeListing>[0];
