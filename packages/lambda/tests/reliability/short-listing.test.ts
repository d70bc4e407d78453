import type { FaultRule } from '@presign-pipeline/minio-testing';
import { useS3Endpoint } from '@presign-pipeline/minio-testing/vitest';
import { afterEach, describe, expect, it } from 'vitest';
import { readCaptured } from '../helpers/capture.js';
import {
  lambdaContext,
  objectsUnder,
  pdfKeys,
  readText,
  rejection,
  uniqueBucket,
  uploadsIn,
  within,
  proxiedHandler,
  useSeededProxy,
} from './helpers.js';

/**
 * The worst failure a manifest tool can have is a short manifest reported as complete. Here a ListObjectsV2 page in
 * the middle of the listing is answered 200 with something that is not S3's answer (an HTML gateway page, an empty
 * body, XML of another kind), through a fault proxy in front of a real S3 API: the handler either answers with every
 * key or fails the invocation loudly; it never answers `complete: true` with fewer keys.
 */
const endpoint = useS3Endpoint();
const bucket = uniqueBucket('short');
const prefix = 'reports/';
const keys = pdfKeys(prefix, 250);
/** Three pages of 100: the faults hit the second. */
const event = { bucket, prefix, page_size: 100 };

const faults = useSeededProxy(endpoint, bucket, keys);

afterEach(() => faults.proxy.setRules([]));

function handlerThroughProxy(rules: readonly FaultRule[]) {
  return proxiedHandler(endpoint, faults.proxy, rules, { clientConfig: { maxAttempts: 2 } });
}

const FOREIGN = [
  ['an HTML gateway page', { fault: 'foreign-body' }],
  ['an empty body', { fault: 'empty-body' }],
  ['foreign XML', { fault: 'foreign-body', body: '<?xml version="1.0"?><Status><Healthy>true</Healthy></Status>' }],
] as const;

describe('the handler never answers complete with a short manifest', () => {
  it.each(FOREIGN)(
    'page 2 answered 200 with %s every time: the invocation fails with MALFORMED_RESPONSE, nothing left',
    async (_what, fault) => {
      // Prepare
      const manifestsBefore = await objectsUnder(endpoint.client, bucket, 'manifests/');
      const { handler, sink } = handlerThroughProxy([{ ...fault, operation: 'ListObjectsV2', after: 1 }]);

      // Act
      const error = await rejection(handler(event, lambdaContext('req-short')));

      // Assess
      expect(error).toMatchObject({ name: 'PresignPipelineError', code: 'MALFORMED_RESPONSE' });
      expect(error.message).toMatch(
        new RegExp(`^ListObjectsV2 page 2 of s3://${bucket}/${prefix} \\(continuation token "[^"]+"\\): the answer `),
      );
      expect(faults.proxy.hits.byOperation.ListObjectsV2).toBe(3); // page 1, then page 2 twice (maxAttempts 2)
      expect(faults.proxy.hits.byOperation.PutObject ?? 0).toBe(0);
      const { logs } = readCaptured(sink.lines);
      expect(logs.filter((l) => l.event === 'complete')).toEqual([]);
      expect(logs.find((l) => l.event === 'error')).toMatchObject({
        error_name: 'PresignPipelineError',
        request_id: 'req-short',
      });
      expect(await objectsUnder(endpoint.client, bucket, 'manifests/')).toEqual(manifestsBefore);
      expect(await uploadsIn(endpoint.client, bucket)).toBe(0);
    },
  );

  it.each(FOREIGN)(
    'page 2 answered 200 with %s once: the retry lists it, and the manifest holds every key',
    async (_what, fault) => {
      const { handler } = handlerThroughProxy([{ ...fault, operation: 'ListObjectsV2', after: 1, times: 1 }]);
      const response = await within(handler(event, lambdaContext('req-once')));
      expect(response.statusCode).toBe(200);
      const body = JSON.parse(response.body) as { count: number; complete: boolean; manifest_key: string };
      expect(body).toMatchObject({ count: keys.length, complete: true });
      const listed = (await readText(endpoint.client, bucket, body.manifest_key))
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { key: string }).key);
      expect(listed.sort()).toEqual(keys);
      expect(faults.proxy.hits.byOperation.ListObjectsV2).toBe(4);
    },
  );
});
