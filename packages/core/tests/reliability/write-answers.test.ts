import type { FaultRule } from '@presign-pipeline/minio-testing';
import { describe, expect, it } from 'vitest';
import { expectExactManifest, expectFailureLeavingNothing, runThroughProxy, useSeededTarget } from './harness.js';

/**
 * The two requests that create the manifest object, and the one that starts its upload, answered with something that
 * is not S3's answer or with S3's answer lost, over a real S3 API (moto or MinIO behind the fault proxy):
 * - a CreateMultipartUpload that took effect but whose answer was lost: the SDK retries and starts a second upload;
 *   the run completes, and the first upload is aborted (no upload left open after a successful run);
 * - a PutObject or CompleteMultipartUpload answered 200 without S3's evidence (no ETag, a foreign or malformed body):
 *   when the request never reached S3 the run fails loudly with MANIFEST_WRITE_FAILED and leaves nothing; when it
 *   did, HeadObject confirms the manifest and the run completes with it.
 */
const BUCKET = 'reliability-answers';
const PREFIX = 'seeded/';
const SEEDED = 600;
const PAGE_SIZE = 64;
/** 600 lines of 12 KB: a 7.2 MB manifest, two parts of a multipart upload. */
const MULTIPART = 12_000;
/** 600 lines of 300 bytes: a 190 KB manifest, one PutObject. */
const SINGLE = 300;
const TIMEOUT_MS = 120_000;
const FOREIGN_XML = '<?xml version="1.0" encoding="UTF-8"?>\n<Status><Healthy>true</Healthy></Status>';
const MALFORMED_XML = '<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUploadResult><ETag>"x"</ET';

const keys = Array.from({ length: SEEDED }, (_, i) => `${PREFIX}${String(i).padStart(4, '0')}.pdf`);

describe('manifest writes: every upload accounted for, every manifest confirmed', () => {
  const seeded = useSeededTarget(BUCKET, PREFIX, keys);

  it.each([
    ['a 500 after it took effect', { fault: 'internal-error', phase: 'response' }],
    ['a reset after it took effect', { fault: 'reset', phase: 'response' }],
    ['a body cut off mid-answer', { fault: 'truncate' }],
  ] as const)(
    'CreateMultipartUpload answered with %s: the retry starts a second upload, the first is aborted, the run completes',
    async (_what, fault) => {
      // Prepare
      const rules: FaultRule[] = [{ ...fault, operation: 'CreateMultipartUpload', times: 1 }];

      // Act
      const run = await runThroughProxy(seeded.target, rules, {
        maxAttempts: 3,
        urlBytes: MULTIPART,
        pageSize: PAGE_SIZE,
      });

      // Assess: two uploads started, one completed, the other aborted after the run, none left open.
      await expectExactManifest(seeded.target, run);
      expect(run.hits.byOperation.CreateMultipartUpload).toBe(2);
      expect(run.hits.byOperation.CompleteMultipartUpload).toBe(1);
      expect(run.hits.byOperation.ListMultipartUploads).toBe(1);
      expect(run.hits.byOperation.AbortMultipartUpload).toBe(1);
    },
    TIMEOUT_MS,
  );

  it(
    'a multipart manifest with no retried create costs one ListMultipartUploads and no abort',
    async () => {
      const run = await runThroughProxy(seeded.target, [], {
        maxAttempts: 3,
        urlBytes: MULTIPART,
        pageSize: PAGE_SIZE,
      });
      await expectExactManifest(seeded.target, run);
      expect(run.hits.byOperation).toMatchObject({
        CreateMultipartUpload: 1,
        UploadPart: 2,
        CompleteMultipartUpload: 1,
        ListMultipartUploads: 1,
      });
      expect(run.hits.byOperation.AbortMultipartUpload ?? 0).toBe(0);
      expect(run.hits.byOperation.HeadObject ?? 0).toBe(0);
    },
    TIMEOUT_MS,
  );

  it.each([
    ['PutObject', 'an HTML gateway page', { fault: 'foreign-body' }, SINGLE],
    ['PutObject', 'an empty body', { fault: 'empty-body' }, SINGLE],
    ['CompleteMultipartUpload', 'an HTML gateway page', { fault: 'foreign-body' }, MULTIPART],
    ['CompleteMultipartUpload', 'foreign XML', { fault: 'foreign-body', body: FOREIGN_XML }, MULTIPART],
  ] as const)(
    '%s answered 200 with %s, never reaching S3: MANIFEST_WRITE_FAILED, no upload and no object left',
    async (operation, _what, fault, urlBytes) => {
      // Act
      const run = await runThroughProxy(seeded.target, [{ ...fault, operation }], {
        maxAttempts: 3,
        urlBytes,
        pageSize: PAGE_SIZE,
      });

      // Assess
      const error = await expectFailureLeavingNothing(seeded.target, run);
      expect(error).toMatchObject({ name: 'PresignPipelineError', code: 'MANIFEST_WRITE_FAILED' });
      expect(error.message).toMatch(
        new RegExp(
          `^s3ManifestWriter: ${operation} of s3://${BUCKET}/${run.keyPrefix}[0-9a-f-]{36}\\.jsonl was answered without an ETag, and HeadObject finds no object there`,
        ),
      );
      expect(run.hits.byOperation.HeadObject).toBe(1);
      expect(run.logs.find((l) => l.event === 'error')).toMatchObject({ error_name: 'PresignPipelineError' });
      if (operation === 'CompleteMultipartUpload')
        expect(run.hits.byOperation.AbortMultipartUpload ?? 0).toBeGreaterThan(0);
    },
    TIMEOUT_MS,
  );

  it(
    'CompleteMultipartUpload answered 200 with malformed XML, never reaching S3: MANIFEST_WRITE_FAILED (not a bare SDK parse error)',
    async () => {
      const rules: FaultRule[] = [{ fault: 'foreign-body', operation: 'CompleteMultipartUpload', body: MALFORMED_XML }];
      const run = await runThroughProxy(seeded.target, rules, {
        maxAttempts: 3,
        urlBytes: MULTIPART,
        pageSize: PAGE_SIZE,
      });
      const error = await expectFailureLeavingNothing(seeded.target, run);
      expect(error).toMatchObject({ name: 'PresignPipelineError', code: 'MANIFEST_WRITE_FAILED' });
      expect(error.message).toContain("got a 2xx answer that is not S3's (@aws-sdk XML parse error");
    },
    TIMEOUT_MS,
  );

  it.each([
    ['an empty body', { fault: 'empty-body' }],
    ['an HTML gateway page', { fault: 'foreign-body' }],
  ] as const)(
    'UploadPart answered 200 with %s, never reaching S3: MANIFEST_WRITE_FAILED naming UploadPart, no upload and no object left',
    async (_what, fault) => {
      const rules: FaultRule[] = [{ ...fault, operation: 'UploadPart' }];
      const run = await runThroughProxy(seeded.target, rules, {
        maxAttempts: 3,
        urlBytes: MULTIPART,
        pageSize: PAGE_SIZE,
      });
      const error = await expectFailureLeavingNothing(seeded.target, run);
      expect(error).toMatchObject({ name: 'PresignPipelineError', code: 'MANIFEST_WRITE_FAILED' });
      expect(error.message).toMatch(/UploadPart \d+ of s3:\/\/.* was answered without an ETag/);
      expect(run.hits.byOperation.CompleteMultipartUpload ?? 0).toBe(0);
    },
    TIMEOUT_MS,
  );

  it.each([
    ['PutObject', 'an empty body', { fault: 'empty-body' }, SINGLE],
    ['PutObject', 'an HTML gateway page', { fault: 'foreign-body' }, SINGLE],
    ['CompleteMultipartUpload', 'foreign XML', { fault: 'foreign-body', body: FOREIGN_XML }, MULTIPART],
    ['CompleteMultipartUpload', 'malformed XML', { fault: 'foreign-body', body: MALFORMED_XML }, MULTIPART],
    ['CompleteMultipartUpload', 'a body cut off mid-answer', { fault: 'truncate' }, MULTIPART],
  ] as const)(
    '%s carried out by S3 but answered with %s: the manifest is confirmed and the run completes exactly',
    async (operation, _what, fault, urlBytes) => {
      const rules: FaultRule[] = [{ ...fault, operation, phase: 'response', times: 1 }];
      const run = await runThroughProxy(seeded.target, rules, { maxAttempts: 3, urlBytes, pageSize: PAGE_SIZE });
      await expectExactManifest(seeded.target, run);
      expect(run.hits.rules[0]?.injected).toBe(1);
      // A cut-off answer is a network error: the SDK retries, and this S3 API answers the repeated Complete itself.
      if (fault.fault === 'truncate') expect(run.hits.byOperation[operation]).toBe(2);
      else expect(run.hits.byOperation.HeadObject).toBe(1);
    },
    TIMEOUT_MS,
  );
});
