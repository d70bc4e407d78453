import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { S3Operation } from '../s3-operations.js';
import type { KeySpace } from './key-layouts.js';
import { indexOfKey, listPage, listPageXml, objectEtag, objectSize, parseListQuery } from './list-objects-v2.js';
import { listUploadsPage, listUploadsXml, parseListUploadsQuery } from './list-multipart-uploads.js';
import type { SimulatedObject, SimulatedObjectStore } from './object-store.js';
import { readBody } from './request-body.js';
import { elementTexts, S3SimulatorRequestError, xmlEscape } from './xml.js';

/** What the routes work on. */
export interface SimulatorState {
  /** Listed keys per bucket. */
  readonly spaces: ReadonlyMap<string, KeySpace>;
  /** Written objects and uploads. */
  readonly store: SimulatedObjectStore;
  /** Counters the routes add to. */
  readonly counters: { keysListed: number; bytesReceived: number };
}

/** One request, parsed. */
export interface SimulatorRequest {
  readonly method: string;
  readonly operation: S3Operation;
  readonly bucket: string;
  readonly key: string;
  readonly query: URLSearchParams;
  readonly request: IncomingMessage;
}

/** The answer to send. */
export interface SimulatorAnswer {
  readonly status: number;
  readonly headers: OutgoingHttpHeaders;
  readonly body?: string | Buffer;
}

const XML = { 'content-type': 'application/xml' };

/** Answers one request, or throws an {@link S3SimulatorRequestError}. */
export async function routeRequest(state: SimulatorState, request: SimulatorRequest): Promise<SimulatorAnswer> {
  const space = state.spaces.get(request.bucket);
  if (request.bucket === '' || !space) {
    throw new S3SimulatorRequestError(404, 'NoSuchBucket', 'The specified bucket does not exist');
  }
  switch (request.operation) {
    case 'ListObjectsV2':
      return listObjects(state, space, request);
    case 'HeadBucket':
      return { status: 200, headers: { 'x-amz-bucket-region': 'us-east-1' } };
    case 'PutObject':
      return putObject(state, request);
    case 'CreateMultipartUpload':
      return createUpload(state, request);
    case 'UploadPart':
      return uploadPart(state, request);
    case 'CompleteMultipartUpload':
      return completeUpload(state, request);
    case 'AbortMultipartUpload':
      state.store.abort(request.bucket, request.key, request.query.get('uploadId') ?? '');
      return { status: 204, headers: {} };
    case 'ListMultipartUploads':
      return listUploads(state, request);
    case 'GetObject':
    case 'HeadObject':
      return getObject(state, space, request);
    case 'DeleteObject':
      state.store.delete(request.bucket, request.key);
      return { status: 204, headers: {} };
    default:
      throw new S3SimulatorRequestError(
        501,
        'NotImplemented',
        `The S3 simulator does not implement ${request.operation} (${request.method})`,
      );
  }
}

function listObjects(state: SimulatorState, space: KeySpace, request: SimulatorRequest): SimulatorAnswer {
  const query = parseListQuery(request.query);
  const page = listPage(space, query);
  state.counters.keysListed += page.contents.length;
  return { status: 200, headers: XML, body: listPageXml(request.bucket, query, page) };
}

async function putObject(state: SimulatorState, request: SimulatorRequest): Promise<SimulatorAnswer> {
  const body = await readBody(request.request, state.store.mode === 'memory');
  state.counters.bytesReceived += body.size;
  const contentType = request.request.headers['content-type'];
  const object = state.store.put(request.bucket, request.key, body, contentType);
  return { status: 200, headers: { etag: object.etag } };
}

function createUpload(state: SimulatorState, request: SimulatorRequest): SimulatorAnswer {
  const upload = state.store.create(request.bucket, request.key, request.request.headers['content-type']);
  return {
    status: 200,
    headers: XML,
    body:
      '<?xml version="1.0" encoding="UTF-8"?>\n<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      `<Bucket>${xmlEscape(upload.bucket)}</Bucket><Key>${xmlEscape(upload.key)}</Key><UploadId>${upload.uploadId}</UploadId>` +
      '</InitiateMultipartUploadResult>',
  };
}

async function uploadPart(state: SimulatorState, request: SimulatorRequest): Promise<SimulatorAnswer> {
  const uploadId = request.query.get('uploadId') ?? '';
  const partNumber = Number(request.query.get('partNumber'));
  const body = await readBody(request.request, state.store.mode === 'memory');
  state.counters.bytesReceived += body.size;
  const etag = state.store.uploadPart(request.bucket, request.key, uploadId, partNumber, body);
  return { status: 200, headers: { etag } };
}

async function completeUpload(state: SimulatorState, request: SimulatorRequest): Promise<SimulatorAnswer> {
  const xml = (await readBody(request.request, true)).bytes?.toString('utf8') ?? '';
  const parts = elementTexts(xml, 'Part').map((part) => ({
    partNumber: Number(elementTexts(part, 'PartNumber')[0]),
    etag: (elementTexts(part, 'ETag')[0] ?? '').replace(/&quot;/g, '"'),
  }));
  const object = state.store.complete(request.bucket, request.key, request.query.get('uploadId') ?? '', parts);
  return {
    status: 200,
    headers: XML,
    body:
      '<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      `<Location>/${xmlEscape(request.bucket)}/${xmlEscape(request.key)}</Location><Bucket>${xmlEscape(request.bucket)}</Bucket>` +
      `<Key>${xmlEscape(request.key)}</Key><ETag>${xmlEscape(object.etag)}</ETag></CompleteMultipartUploadResult>`,
  };
}

function listUploads(state: SimulatorState, request: SimulatorRequest): SimulatorAnswer {
  const query = parseListUploadsQuery(request.query);
  const page = listUploadsPage(state.store.listUploads(request.bucket, query.prefix), query);
  return { status: 200, headers: XML, body: listUploadsXml(request.bucket, query, page) };
}

/** A written object, else a listed (generated) key, whose body is the key itself. */
function getObject(state: SimulatorState, space: KeySpace, request: SimulatorRequest): SimulatorAnswer {
  const written = state.store.get(request.bucket, request.key);
  if (written) return writtenObject(written, request.method === 'HEAD');
  const index = indexOfKey(space, request.key);
  if (index === -1) throw new S3SimulatorRequestError(404, 'NoSuchKey', 'The specified key does not exist.');
  const body = Buffer.from(request.key, 'utf8');
  return {
    status: 200,
    headers: {
      etag: objectEtag(index),
      'content-length': body.length,
      'content-type': 'application/octet-stream',
      'x-amz-meta-listed-size': objectSize(index),
    },
    ...(request.method === 'HEAD' ? {} : { body }),
  };
}

function writtenObject(object: SimulatedObject, head: boolean): SimulatorAnswer {
  const headers: OutgoingHttpHeaders = {
    etag: object.etag,
    'content-length': object.size,
    'content-type': object.contentType ?? 'binary/octet-stream',
    'last-modified': new Date().toUTCString(),
  };
  if (head) return { status: 200, headers };
  if (!object.body) {
    throw new S3SimulatorRequestError(
      501,
      'NotImplemented',
      "This object's bytes were counted, not kept (store: 'count'); use HeadObject",
    );
  }
  return { status: 200, headers, body: object.body };
}
