import type { IncomingHttpHeaders } from 'node:http';

/**
 * The S3 operations the proxy tells apart, from the method, the path (path-style:
 * `/bucket/key`) and the query. Anything else is `Other`.
 */
export type S3Operation =
  | 'ListBuckets'
  | 'CreateBucket'
  | 'DeleteBucket'
  | 'HeadBucket'
  | 'ListObjects'
  | 'ListObjectsV2'
  | 'ListMultipartUploads'
  | 'DeleteObjects'
  | 'GetObject'
  | 'HeadObject'
  | 'PutObject'
  | 'CopyObject'
  | 'DeleteObject'
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'UploadPartCopy'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'ListParts'
  | 'Other';

/** Every value of {@link S3Operation}, for validation and iteration. */
export const S3_OPERATIONS: readonly S3Operation[] = [
  'ListBuckets',
  'CreateBucket',
  'DeleteBucket',
  'HeadBucket',
  'ListObjects',
  'ListObjectsV2',
  'ListMultipartUploads',
  'DeleteObjects',
  'GetObject',
  'HeadObject',
  'PutObject',
  'CopyObject',
  'DeleteObject',
  'CreateMultipartUpload',
  'UploadPart',
  'UploadPartCopy',
  'CompleteMultipartUpload',
  'AbortMultipartUpload',
  'ListParts',
  'Other',
];

/** What the proxy knows about a request when it applies rules. */
export interface S3RequestInfo {
  /** HTTP method, upper case. */
  readonly method: string;
  /** Path and query as received. */
  readonly url: string;
  /** The operation, from {@link classifyS3Request}. */
  readonly operation: S3Operation;
  /** Bucket name (path-style), if any. */
  readonly bucket?: string;
  /** Object key, decoded, if any. */
  readonly key?: string;
}

/** Sub-resources that turn a bucket or object request into some other, unmodelled operation. */
const OTHER_SUBRESOURCES = [
  'accelerate',
  'acl',
  'analytics',
  'attributes',
  'cors',
  'encryption',
  'intelligent-tiering',
  'inventory',
  'legal-hold',
  'lifecycle',
  'location',
  'logging',
  'metrics',
  'notification',
  'object-lock',
  'ownershipControls',
  'policy',
  'policyStatus',
  'publicAccessBlock',
  'replication',
  'requestPayment',
  'restore',
  'retention',
  'select',
  'tagging',
  'torrent',
  'versioning',
  'versions',
  'website',
];

/**
 * Names the S3 operation of a path-style request, e.g. `GET /b?list-type=2` is
 * `ListObjectsV2` and `PUT /b/k?partNumber=1&uploadId=u` is `UploadPart`.
 * @param method HTTP method.
 * @param url path and query (`/bucket/key?…`) or a full URL.
 * @param headers request headers; only `x-amz-copy-source` is read (copies look like puts otherwise).
 */
export function classifyS3Request(method: string, url: string, headers: IncomingHttpHeaders = {}): S3Operation {
  return parseS3Request(method, url, headers).operation;
}

/** The request as the proxy and the simulator see it: its operation, bucket and key. */
export function parseS3Request(method: string, url: string, headers: IncomingHttpHeaders): S3RequestInfo {
  const verb = method.toUpperCase();
  const parsed = new URL(url, 'http://s3.invalid');
  const query = parsed.searchParams;
  const path = parsed.pathname;
  const slash = path.indexOf('/', 1);
  const bucket = safeDecode(slash < 0 ? path.slice(1) : path.slice(1, slash));
  const key = slash < 0 ? '' : safeDecode(path.slice(slash + 1));
  const base = {
    method: verb,
    url,
    ...(bucket ? { bucket } : {}),
    ...(key ? { key } : {}),
  };
  const has = (name: string): boolean => query.has(name);
  const other = OTHER_SUBRESOURCES.some(has);
  const copy = headers['x-amz-copy-source'] !== undefined;
  let operation: S3Operation = 'Other';
  if (!bucket) {
    if (verb === 'GET') operation = 'ListBuckets';
  } else if (!key) {
    if (verb === 'GET' && has('uploads')) operation = 'ListMultipartUploads';
    else if (other) operation = 'Other';
    else if (verb === 'GET') operation = query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
    else if (verb === 'PUT') operation = 'CreateBucket';
    else if (verb === 'DELETE') operation = 'DeleteBucket';
    else if (verb === 'HEAD') operation = 'HeadBucket';
    else if (verb === 'POST' && has('delete')) operation = 'DeleteObjects';
  } else if (verb === 'GET') {
    operation = has('uploadId') ? 'ListParts' : other ? 'Other' : 'GetObject';
  } else if (verb === 'HEAD') {
    operation = 'HeadObject';
  } else if (verb === 'PUT') {
    if (has('partNumber') && has('uploadId')) operation = copy ? 'UploadPartCopy' : 'UploadPart';
    else if (!other) operation = copy ? 'CopyObject' : 'PutObject';
  } else if (verb === 'POST') {
    if (has('uploads')) operation = 'CreateMultipartUpload';
    else if (has('uploadId')) operation = 'CompleteMultipartUpload';
  } else if (verb === 'DELETE') {
    operation = has('uploadId') ? 'AbortMultipartUpload' : other ? 'Other' : 'DeleteObject';
  }
  return { ...base, operation };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
