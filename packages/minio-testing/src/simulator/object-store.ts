import { createHash, randomUUID } from 'node:crypto';
import { compareUtf8 } from './key-layouts.js';
import type { BodySummary } from './request-body.js';
import { S3SimulatorRequestError } from './xml.js';

/**
 * What the simulator does with the bytes of written objects:
 * - `memory`: keeps them (GetObject returns them), with an MD5 ETag as S3 computes it;
 * - `count`: keeps only sizes and line counts, so a manifest of any size costs no memory. GetObject on such an
 *   object answers 501 `NotImplemented`; HeadObject works. ETags are unique but not MD5s.
 */
export type S3SimulatorStoreMode = 'memory' | 'count';

/** A written object as the simulator holds it. */
export interface SimulatedObject {
  /** Bytes. */
  readonly size: number;
  /** Newline bytes (manifest lines, for JSON Lines). */
  readonly lines: number;
  /** The ETag, quoted (`"…-N"` for a multipart upload of N parts). */
  readonly etag: string;
  /** Parts it was assembled from; 0 for a single PutObject. */
  readonly parts: number;
  /** Content-Type it was written with, if any. */
  readonly contentType?: string;
  /** The bytes, in `memory` mode only. */
  readonly body?: Buffer;
}

/** A multipart upload in progress. */
export interface SimulatedUpload {
  /** Bucket. */
  readonly bucket: string;
  /** Object key. */
  readonly key: string;
  /** Upload id. */
  readonly uploadId: string;
  /** When it was created (ISO 8601). */
  readonly initiated: string;
  /** Parts received so far. */
  readonly parts: ReadonlyMap<number, SimulatedPart>;
}

/** One uploaded part of a {@link SimulatedUpload}. */
export interface SimulatedPart {
  /** Bytes. */
  readonly size: number;
  /** Newline bytes. */
  readonly lines: number;
  /** Its ETag, quoted. */
  readonly etag: string;
  /** The bytes, in `memory` mode only. */
  readonly body?: Buffer;
}

interface MutableUpload extends SimulatedUpload {
  readonly parts: Map<number, SimulatedPart>;
  readonly contentType?: string;
}

/** Minimum size of every part but the last, as on S3. */
export const DEFAULT_MIN_PART_SIZE = 5 * 1024 * 1024;
const MAX_PART_NUMBER = 10_000;

/** Written objects and multipart uploads of every bucket. */
export class SimulatedObjectStore {
  private readonly objects = new Map<string, Map<string, SimulatedObject>>();
  private readonly uploads = new Map<string, MutableUpload>();
  private etagSequence = 0;

  constructor(
    readonly mode: S3SimulatorStoreMode,
    private readonly minPartSize: number,
  ) {}

  /** The objects written to `bucket`, by key. */
  bucketObjects(bucket: string): Map<string, SimulatedObject> {
    let map = this.objects.get(bucket);
    if (!map) {
      map = new Map();
      this.objects.set(bucket, map);
    }
    return map;
  }

  get(bucket: string, key: string): SimulatedObject | undefined {
    return this.objects.get(bucket)?.get(key);
  }

  put(bucket: string, key: string, body: BodySummary, contentType?: string): SimulatedObject {
    const object: SimulatedObject = {
      size: body.size,
      lines: body.lines,
      etag: this.etagOf(body),
      parts: 0,
      ...(contentType ? { contentType } : {}),
      ...(body.bytes ? { body: body.bytes } : {}),
    };
    this.bucketObjects(bucket).set(key, object);
    return object;
  }

  /** Stores an object given up front: its bytes are kept in either mode, with an MD5 ETag. */
  preload(bucket: string, key: string, bytes: Buffer): SimulatedObject {
    let lines = 0;
    for (let at = bytes.indexOf(10); at !== -1; at = bytes.indexOf(10, at + 1)) lines += 1;
    const md5 = createHash('md5').update(bytes).digest('hex');
    return this.put(bucket, key, { size: bytes.length, lines, md5, bytes });
  }

  delete(bucket: string, key: string): void {
    this.objects.get(bucket)?.delete(key);
  }

  /**
   * Uploads in progress in the order S3 lists them (keys by UTF-8 bytes, a key's uploads by creation), optionally
   * only those whose key starts with `prefix`.
   */
  listUploads(bucket: string, prefix = ''): SimulatedUpload[] {
    // The map holds uploads in creation order, and the sort is stable: a key's uploads keep that order.
    return [...this.uploads.values()]
      .filter((upload) => upload.bucket === bucket && upload.key.startsWith(prefix))
      .sort((a, b) => compareUtf8(a.key, b.key));
  }

  /** Every upload in progress, all buckets. */
  allUploads(): SimulatedUpload[] {
    return [...this.uploads.values()];
  }

  create(bucket: string, key: string, contentType?: string): SimulatedUpload {
    const upload: MutableUpload = {
      bucket,
      key,
      uploadId: randomUUID().replace(/-/g, ''),
      initiated: new Date().toISOString(),
      parts: new Map(),
      ...(contentType ? { contentType } : {}),
    };
    this.uploads.set(upload.uploadId, upload);
    return upload;
  }

  uploadPart(bucket: string, key: string, uploadId: string, partNumber: number, body: BodySummary): string {
    const upload = this.upload(bucket, key, uploadId);
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PART_NUMBER) {
      throw new S3SimulatorRequestError(
        400,
        'InvalidArgument',
        `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`,
      );
    }
    const etag = this.etagOf(body);
    upload.parts.set(partNumber, {
      size: body.size,
      lines: body.lines,
      etag,
      ...(body.bytes ? { body: body.bytes } : {}),
    });
    return etag;
  }

  abort(bucket: string, key: string, uploadId: string): void {
    this.upload(bucket, key, uploadId);
    this.uploads.delete(uploadId);
  }

  /** Assembles the listed parts as S3 does: ascending, each uploaded with that ETag, all but the last ≥ the minimum size. */
  complete(
    bucket: string,
    key: string,
    uploadId: string,
    listed: readonly { partNumber: number; etag: string }[],
  ): SimulatedObject {
    const upload = this.upload(bucket, key, uploadId);
    if (listed.length === 0)
      throw new S3SimulatorRequestError(
        400,
        'MalformedXML',
        'The XML you provided was not well-formed or did not validate against our published schema',
      );
    const parts = listed.map(({ partNumber, etag }, i) => {
      if (i > 0 && partNumber <= listed[i - 1]!.partNumber) {
        throw new S3SimulatorRequestError(
          400,
          'InvalidPartOrder',
          'The list of parts was not in ascending order. Parts must be ordered by part number.',
        );
      }
      const part = upload.parts.get(partNumber);
      if (!part || unquote(part.etag) !== unquote(etag)) {
        throw new S3SimulatorRequestError(
          400,
          'InvalidPart',
          "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
        );
      }
      return part;
    });
    // Sizes are checked once every listed part is known to exist, as S3 does: a missing part is InvalidPart
    // even when a small part comes before it.
    if (parts.slice(0, -1).some((part) => part.size < this.minPartSize)) {
      throw new S3SimulatorRequestError(
        400,
        'EntityTooSmall',
        'Your proposed upload is smaller than the minimum allowed object size.',
      );
    }
    const object: SimulatedObject = {
      size: parts.reduce((sum, part) => sum + part.size, 0),
      lines: parts.reduce((sum, part) => sum + part.lines, 0),
      etag: multipartEtag(parts.map((part) => part.etag)),
      parts: parts.length,
      ...(upload.contentType ? { contentType: upload.contentType } : {}),
      ...(this.mode === 'memory' ? { body: Buffer.concat(parts.map((part) => part.body ?? Buffer.alloc(0))) } : {}),
    };
    this.uploads.delete(uploadId);
    this.bucketObjects(bucket).set(key, object);
    return object;
  }

  private upload(bucket: string, key: string, uploadId: string): MutableUpload {
    const upload = this.uploads.get(uploadId);
    if (!upload || upload.bucket !== bucket || upload.key !== key) {
      throw new S3SimulatorRequestError(
        404,
        'NoSuchUpload',
        'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
      );
    }
    return upload;
  }

  private etagOf(body: BodySummary): string {
    if (body.md5) return `"${body.md5}"`;
    this.etagSequence += 1;
    return `"${createHash('md5').update(`${this.etagSequence}:${body.size}`).digest('hex')}"`;
  }
}

function unquote(etag: string): string {
  return etag.replace(/^"|"$/g, '').replace(/^&quot;|&quot;$/g, '');
}

/** S3's multipart ETag: the MD5 of the parts' binary MD5s, a dash, the part count. */
function multipartEtag(etags: readonly string[]): string {
  const hash = createHash('md5');
  for (const etag of etags) hash.update(Buffer.from(unquote(etag), 'hex'));
  return `"${hash.digest('hex')}-${etags.length}"`;
}
