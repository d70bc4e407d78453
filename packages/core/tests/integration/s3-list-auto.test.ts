import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client, startS3Endpoint } from '@presign-pipeline/minio-testing';
import type { S3Endpoint } from '@presign-pipeline/minio-testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeResumeToken } from '../../src/s3/resume-token.js';
import { s3ListSource } from '../../src/s3/s3-list-source.js';
import type { KeyPage } from '../../src/types.js';

/**
 * `partitions: { by: 'auto' }` against a real S3 API: awkward keys (unicode, the characters on which UTF-16 and UTF-8
 * order disagree, spaces, `+`, `%`), a 200-byte prefix every key under one folder shares, 90 % of the keys under one
 * sub-prefix; every key listed exactly once, in one run and across a chain of runs cut short and resumed with the
 * token; tokens of another bucket or prefix, of another version, or malformed, refused. Seeded once (moto stores
 * about 180 objects/s).
 */
const BUCKET = 'auto-listing';
const OTHER_BUCKET = 'auto-listing-other';
const PREFIX = 'data/';
const LONG = `${'long-shared-prefix-'.repeat(10)}${'0'.repeat(10)}/`;
const AWKWARD = [
  'with space',
  'plus+sign',
  'per%cent',
  'per%25encoded',
  'ünïcödé-漢字',
  'emoji-😀',
  'fullwidth-\uff01',
  '\ue000-private',
  'tab\there',
];

function seededKeys(): string[] {
  const keys: string[] = [];
  // 90 % under hot/, the rest spread before and after it.
  for (let i = 0; i < 540; i++)
    keys.push(`${PREFIX}hot/${String(i).padStart(4, '0')}-${AWKWARD[i % AWKWARD.length]}.pdf`);
  for (let i = 0; i < 30; i++) keys.push(`${PREFIX}a-cold/${AWKWARD[i % AWKWARD.length]}-${i}.pdf`);
  for (let i = 0; i < 30; i++) keys.push(`${PREFIX}${LONG}${i}-${AWKWARD[i % AWKWARD.length]}.pdf`);
  return keys;
}

const utf8Sorted = (keys: readonly string[]): string[] =>
  [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

describe("s3ListSource partitions by 'auto' against a real S3 API", () => {
  let endpoint: S3Endpoint;
  let client: S3Client;
  const keys = seededKeys();

  beforeAll(async () => {
    endpoint = await startS3Endpoint({ log: false });
    client = createS3Client(endpoint);
    await endpoint.createBucket(BUCKET);
    await endpoint.createBucket(OTHER_BUCKET);
    await endpoint.seed(BUCKET, [...keys, 'dat', 'data', 'datb/x.pdf']);
  }, 180_000);

  afterAll(async () => {
    client?.destroy();
    await endpoint?.stop();
  });

  it.each([2, 8, 16])('lists every key exactly once at concurrency %i', async (concurrency) => {
    const listed: string[] = [];
    const source = s3ListSource({
      client,
      bucket: BUCKET,
      prefix: PREFIX,
      pageSize: 25,
      partitions: { by: 'auto', concurrency },
    });
    for await (const page of source.pages({ signal: new AbortController().signal })) listed.push(...page.keys);
    expect(listed).toHaveLength(keys.length);
    expect(utf8Sorted(listed)).toEqual(utf8Sorted(keys));
  });

  it('resumes a run cut 6 times from its token: the runs together list every key exactly once', async () => {
    const listed: string[] = [];
    let token: string | undefined;
    let runs = 0;
    let mostRanges = 0;
    for (;;) {
      runs += 1;
      const source = s3ListSource({
        client,
        bucket: BUCKET,
        prefix: PREFIX,
        pageSize: 20,
        partitions: { by: 'auto', concurrency: 6 },
        ...(token !== undefined ? { resumeToken: token } : {}),
      });
      let taken = 0;
      let last: KeyPage | undefined;
      let cut = false;
      for await (const page of source.pages({ signal: new AbortController().signal })) {
        listed.push(...page.keys);
        last = page;
        taken += 1;
        // Each run but the last stops after 3 pages: the rest of what it had listed is never handed on.
        if (runs < 7 && taken === 3) {
          cut = true;
          break;
        }
      }
      if (!cut) break;
      token = source.resumeToken?.(last);
      expect(token).toMatch(/^v1\./);
      expect(token!.length).toBeLessThanOrEqual(4096);
      mostRanges = Math.max(mostRanges, decodeResumeToken(token ?? '', BUCKET, PREFIX).length);
    }
    expect(runs).toBe(7);
    // The cuts fell while the listing ran several ranges at once: the tokens carried them all.
    expect(mostRanges).toBeGreaterThan(1);
    expect(listed).toHaveLength(keys.length);
    expect(utf8Sorted(listed)).toEqual(utf8Sorted(keys));
  });

  it('refuses tokens of another bucket or prefix, of another version, or malformed, with INVALID_RESUME_TOKEN', async () => {
    const source = s3ListSource({
      client,
      bucket: BUCKET,
      prefix: PREFIX,
      pageSize: 20,
      partitions: { by: 'auto', concurrency: 4 },
    });
    let first: KeyPage | undefined;
    for await (const page of source.pages({ signal: new AbortController().signal })) {
      first = page;
      break;
    }
    const token = source.resumeToken?.(first) ?? '';
    expect(token).toMatch(/^v1\./);
    const refusal = async (bucket: string, prefix: string, resumeToken: string): Promise<unknown> => {
      try {
        const resumed = s3ListSource({
          client,
          bucket,
          prefix,
          partitions: { by: 'auto', concurrency: 4 },
          resumeToken,
        });
        for await (const _ of resumed.pages({ signal: new AbortController().signal })) {
          // a refused token lists nothing
        }
      } catch (error) {
        return error;
      }
      throw new Error('the token was accepted');
    };
    await expect(refusal(OTHER_BUCKET, PREFIX, token)).resolves.toMatchObject({
      code: 'INVALID_RESUME_TOKEN',
      message: expect.stringMatching(/another bucket/),
    });
    await expect(refusal(BUCKET, 'data/hot/', token)).resolves.toMatchObject({
      code: 'INVALID_RESUME_TOKEN',
      message: expect.stringMatching(/another prefix/),
    });
    await expect(refusal(BUCKET, PREFIX, token.replace(/^v1\./, 'v2.'))).resolves.toMatchObject({
      code: 'INVALID_RESUME_TOKEN',
      message: expect.stringMatching(/version 2/),
    });
    await expect(refusal(BUCKET, PREFIX, 'v1.not-deflated')).resolves.toMatchObject({
      code: 'INVALID_RESUME_TOKEN',
      message: expect.stringMatching(/malformed/),
    });
    await expect(refusal(BUCKET, PREFIX, `v1.${'A'.repeat(5000)}`)).resolves.toMatchObject({
      code: 'INVALID_RESUME_TOKEN',
      message: expect.stringMatching(/longer than 4096/),
    });
  });
});
