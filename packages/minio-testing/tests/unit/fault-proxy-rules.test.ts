import { describe, expect, it } from 'vitest';
import { classifyS3Request, startFaultProxy, type FaultRule, type S3Operation } from '../../src/index.js';

describe('classifyS3Request', () => {
  const cases: Array<[string, string, S3Operation, Record<string, string>?]> = [
    ['GET', '/', 'ListBuckets'],
    ['PUT', '/bucket', 'CreateBucket'],
    ['HEAD', '/bucket', 'HeadBucket'],
    ['DELETE', '/bucket', 'DeleteBucket'],
    ['GET', '/bucket?list-type=2&prefix=a%2F&max-keys=200', 'ListObjectsV2'],
    ['GET', '/bucket/?list-type=2', 'ListObjectsV2'],
    ['GET', '/bucket?prefix=a', 'ListObjects'],
    ['GET', '/bucket?uploads', 'ListMultipartUploads'],
    ['GET', '/bucket?location', 'Other'],
    ['POST', '/bucket?delete', 'DeleteObjects'],
    ['GET', '/bucket/a/b.pdf?x-id=GetObject', 'GetObject'],
    ['HEAD', '/bucket/a/b.pdf', 'HeadObject'],
    ['PUT', '/bucket/a/b.pdf?x-id=PutObject', 'PutObject'],
    ['PUT', '/bucket/a/b.pdf', 'CopyObject', { 'x-amz-copy-source': '/bucket/c' }],
    ['PUT', '/bucket/a/b.pdf?partNumber=3&uploadId=xyz&x-id=UploadPart', 'UploadPart'],
    ['PUT', '/bucket/a/b.pdf?partNumber=3&uploadId=xyz', 'UploadPartCopy', { 'x-amz-copy-source': '/bucket/c' }],
    ['POST', '/bucket/manifests/m.jsonl?uploads', 'CreateMultipartUpload'],
    ['POST', '/bucket/manifests/m.jsonl?uploadId=xyz', 'CompleteMultipartUpload'],
    ['DELETE', '/bucket/manifests/m.jsonl?uploadId=xyz&x-id=AbortMultipartUpload', 'AbortMultipartUpload'],
    ['GET', '/bucket/manifests/m.jsonl?uploadId=xyz', 'ListParts'],
    ['DELETE', '/bucket/a/b.pdf?x-id=DeleteObject', 'DeleteObject'],
    ['GET', '/bucket/a/b.pdf?tagging', 'Other'],
    ['PUT', '/bucket/a/b.pdf?tagging', 'Other'],
    ['GET', 'http://127.0.0.1:9000/bucket?list-type=2', 'ListObjectsV2'],
    ['get', '/bucket/k%20with%20space%3F', 'GetObject'],
  ];
  it.each(cases)('%s %s is %s', (method, url, expected, headers) => {
    expect(classifyS3Request(method, url, headers)).toBe(expected);
  });

  it('tells a key whose name looks like a sub-resource from the sub-resource', () => {
    expect(classifyS3Request('PUT', '/bucket/uploads')).toBe('PutObject');
    expect(classifyS3Request('POST', '/bucket/uploads')).toBe('Other');
  });
});

describe('startFaultProxy validation', () => {
  const bad: Array<[string, FaultRule, RegExp]> = [
    ['unknown fault', { fault: 'explode' as 'reset' }, /rules\[0\]\.fault/],
    ['delay without delayMs', { fault: 'delay' }, /rules\[0\]\.delayMs/],
    ['negative delayMs', { fault: 'delay', delayMs: -1 }, /rules\[0\]\.delayMs/],
    ['fractional after', { fault: 'reset', after: 1.5 }, /rules\[0\]\.after/],
    ['zero times', { fault: 'reset', times: 0 }, /rules\[0\]\.times/],
    ['unknown operation', { fault: 'reset', operation: 'PutObjects' as S3Operation }, /rules\[0\]\.operation/],
    ['empty operation list', { fault: 'reset', operation: [] }, /rules\[0\]\.operation/],
    ['bad phase', { fault: 'reset', phase: 'later' as 'request' }, /rules\[0\]\.phase/],
    ['a body on a rule that sends none', { fault: 'empty-body', body: '<x/>' }, /rules\[0\]\.body/],
    ['a non-string body', { fault: 'foreign-body', body: 42 as unknown as string }, /rules\[0\]\.body/],
    ['a content type on an S3 error', { fault: 'slow-down', contentType: 'text/html' }, /rules\[0\]\.contentType/],
    ['a non-2xx foreign-body status', { fault: 'foreign-body', status: 500 }, /rules\[0\]\.status/],
    ['a status on a truncate rule', { fault: 'truncate', status: 200 }, /rules\[0\]\.status/],
  ];
  it.each(bad)('rejects a rule with %s, naming the field, before listening', async (_label, rule, message) => {
    await expect(startFaultProxy({ target: 'http://127.0.0.1:9', rules: [rule] })).rejects.toThrow(message);
  });

  it('rejects a missing or malformed target', async () => {
    await expect(startFaultProxy({ target: '' })).rejects.toThrow(/target/);
    await expect(startFaultProxy({ target: 'nope' })).rejects.toThrow(/target is not a URL/);
    await expect(startFaultProxy({ target: { endpoint: 'ftp://x' } })).rejects.toThrow(/http/);
  });
});
