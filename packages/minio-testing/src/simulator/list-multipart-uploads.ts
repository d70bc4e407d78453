import { compareUtf8 } from './key-layouts.js';
import type { SimulatedUpload } from './object-store.js';
import { pageLimit } from './list-objects-v2.js';
import { xmlEscape } from './xml.js';

/** S3 returns at most 1,000 uploads a page whatever max-uploads asks for. */
export const MAX_UPLOADS_PER_PAGE = 1_000;

/** The query of a ListMultipartUploads request, as the simulator reads it (no delimiter). */
export interface ListUploadsQuery {
  readonly prefix: string;
  /** Uploads of keys after this one; with `uploadIdMarker`, also this key's uploads listed after that one. */
  readonly keyMarker: string;
  readonly uploadIdMarker: string;
  /** Page size asked for, before the cap at 1,000. */
  readonly maxUploads: number;
}

/** One page of uploads, and where the next one starts when there is more. */
export interface ListUploadsPage {
  readonly uploads: readonly SimulatedUpload[];
  readonly isTruncated: boolean;
}

/** Reads the query of a ListMultipartUploads request; max-uploads must be a non-negative integer, as on S3. */
export function parseListUploadsQuery(query: URLSearchParams): ListUploadsQuery {
  const maxUploads = pageLimit(query, 'max-uploads', MAX_UPLOADS_PER_PAGE);
  const keyMarker = query.get('key-marker') ?? '';
  return {
    prefix: query.get('prefix') ?? '',
    keyMarker,
    // S3 ignores the upload-id marker without a key marker.
    uploadIdMarker: keyMarker === '' ? '' : (query.get('upload-id-marker') ?? ''),
    maxUploads,
  };
}

/**
 * One page of `sorted` (a bucket's uploads under the prefix, in the order S3 lists them: key by UTF-8 bytes, then
 * creation): the uploads after the markers, at most max-uploads (capped at 1,000) of them. An upload-id marker that
 * names no upload of the key marker's key resumes after that key.
 */
export function listUploadsPage(sorted: readonly SimulatedUpload[], query: ListUploadsQuery): ListUploadsPage {
  const start = startIndex(sorted, query);
  const end = start + Math.min(query.maxUploads, MAX_UPLOADS_PER_PAGE);
  return { uploads: sorted.slice(start, end), isTruncated: end < sorted.length };
}

function startIndex(sorted: readonly SimulatedUpload[], { keyMarker, uploadIdMarker }: ListUploadsQuery): number {
  if (keyMarker === '') return 0;
  if (uploadIdMarker !== '') {
    const marked = sorted.findIndex((upload) => upload.key === keyMarker && upload.uploadId === uploadIdMarker);
    if (marked !== -1) return marked + 1;
  }
  const after = sorted.findIndex((upload) => compareUtf8(upload.key, keyMarker) > 0);
  return after === -1 ? sorted.length : after;
}

/** The XML body of a ListMultipartUploads response. */
export function listUploadsXml(bucket: string, query: ListUploadsQuery, page: ListUploadsPage): string {
  const last = page.uploads.at(-1);
  const parts = [
    '<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
    `<Bucket>${xmlEscape(bucket)}</Bucket><KeyMarker>${xmlEscape(query.keyMarker)}</KeyMarker>`,
    `<UploadIdMarker>${xmlEscape(query.uploadIdMarker)}</UploadIdMarker>`,
  ];
  if (last) {
    parts.push(`<NextKeyMarker>${xmlEscape(last.key)}</NextKeyMarker>`);
    parts.push(`<NextUploadIdMarker>${last.uploadId}</NextUploadIdMarker>`);
  }
  parts.push(
    `<Prefix>${xmlEscape(query.prefix)}</Prefix><MaxUploads>${query.maxUploads}</MaxUploads>`,
    `<IsTruncated>${page.isTruncated}</IsTruncated>`,
  );
  for (const upload of page.uploads) {
    parts.push(
      `<Upload><Key>${xmlEscape(upload.key)}</Key><UploadId>${upload.uploadId}</UploadId>` +
        `<Initiated>${upload.initiated}</Initiated><StorageClass>STANDARD</StorageClass></Upload>`,
    );
  }
  parts.push('</ListMultipartUploadsResult>');
  return parts.join('');
}
