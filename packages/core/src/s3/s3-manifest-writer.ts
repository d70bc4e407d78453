import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
} from '@aws-sdk/client-s3';
import type { PutObjectCommandInput, S3Client, ServerSideEncryption } from '@aws-sdk/client-s3';
import { PresignPipelineError, abortError } from '../errors.js';
import type { ManifestContext, ManifestEntry, ManifestInfo, ManifestWriter, Presigner } from '../types.js';
import { LineBuffer, writeLines, type LineSink } from '../manifest/jsonl.js';
import { PooledUpload } from './pooled-upload.js';
import { RequestSignals } from './request-signals.js';
import { sdkPresigner } from './sdk-presigner.js';
import { assertS3Client, describe } from './validate.js';

/** Options of {@link s3ManifestWriter}. */
export interface S3ManifestWriterOptions {
  /** The S3 client that uploads. */
  client: S3Client;
  /** The bucket the manifest goes to. */
  bucket: string;
  /** Prefix of the manifest key; the key is `${keyPrefix}${randomUUID()}.jsonl`. Default `manifests/`. */
  keyPrefix?: string;
  /**
   * Bytes per multipart part, at least 5 MiB (S3's minimum). Default 8 MiB. A multipart upload has at most
   * 10,000 parts and the manifest's length is unknown up front, so this caps the manifest at 10,000 × partSize
   * (78.1 GiB by default, tens of millions of lines).
   */
  partSize?: number;
  /**
   * Parts uploaded at once, an integer ≥ 1. Default 4. Memory held by the writer is about
   * partSize × (queueSize + 1), the parts in flight plus the one being filled (40 MiB by default), plus up to 4 MiB
   * of chunk and stream buffers. The part buffers are a fixed pool, reused part after part (no per-part copies waiting
   * for the garbage collector), so a process's peak stays flat however large the manifest. Four 8 MiB parts in flight keep up with
   * about 100,000 keys/s of 1.7 KB URLs when each part takes under 200 ms to upload.
   */
  queueSize?: number;
  /** Content type of the manifest object. Default `application/x-ndjson`. */
  contentType?: string;
  /**
   * Server-side encryption of the manifest object (`AES256`, `aws:kms`, …). The manifest holds bearer URLs, so
   * encrypting it at rest may be required. Default: the bucket's default encryption.
   */
  serverSideEncryption?: ServerSideEncryption;
  /** The KMS key id for `serverSideEncryption: 'aws:kms'`. */
  sseKmsKeyId?: string;
  /** Presigns the finished manifest. Default: {@link sdkPresigner} on `client`. */
  presigner?: Presigner;
}

const MIB = 1024 * 1024;
/** S3's smallest part (every part but the last). */
const MIN_PART_SIZE = 5 * MIB;
/** S3's largest part. */
const MAX_PART_SIZE = 5 * 1024 * MIB;
const DEFAULT_PART_SIZE = 8 * MIB;
const DEFAULT_QUEUE_SIZE = 4;
/** Bytes the stream between `write` and the upload may buffer before `write` waits for it to drain. */
const STREAM_BUFFER = MIB;
/**
 * Lines are encoded straight into chunks of this size, each handed to the upload once full. A fresh chunk each time:
 * the stream holds on to the ones the upload has not yet copied into a part.
 */
const CHUNK_SIZE = MIB;

type State = 'new' | 'open' | 'closing' | 'closed' | 'aborted';

/**
 * Streams the JSONL manifest (`{"key":…,"url":…}` per line) to S3 as a multipart upload from a fixed pool of part
 * buffers, then presigns it.
 *
 * - Memory stays flat whatever the manifest's size: `write` resolves only once the upload has room (about
 *   partSize × (queueSize + 1) bytes are held), so a fast producer waits for S3 instead of buffering.
 * - A manifest smaller than one part (including an empty one) is stored with a single PutObject.
 * - `close` completes the upload and returns `{ key, url, bytes, location }`; the URL lives `expiresIn` seconds
 *   (from the run), `bytes` counts UTF-8 bytes.
 * - `abort`, and any failure, leave nothing behind: in-flight requests are cancelled, then the multipart upload is
 *   aborted with AbortMultipartUpload (tolerating `NoSuchUpload`); if the upload
 *   was being created at that moment, ListMultipartUploads finds it by key. If a PutObject or
 *   CompleteMultipartUpload had been sent, the object is deleted too (S3 may have carried out a request we cancelled).
 *   After the upload fails on its own (an S3 error), the next `write` or `close` rejects with that error.
 * - A PutObject or CompleteMultipartUpload that fails after the SDK's retries but took effect on S3 (the answer was
 *   lost) is confirmed with HeadObject: an object at the writer's key holding exactly the bytes written is the
 *   manifest, and the run completes. So the role needs `s3:GetObject` on the manifests, as the manifest URL does.
 * - One writer writes one manifest: `open` may be called once.
 *
 * @example
 * ```ts
 * const manifest = s3ManifestWriter({ client, bucket: 'my-company-reports-bucket', keyPrefix: 'manifests/' });
 * const result = await presignPipeline({ source, presigner, manifest });
 * console.log(result.manifest.location); // s3://my-company-reports-bucket/manifests/<uuid>.jsonl
 * ```
 */
export function s3ManifestWriter(options: S3ManifestWriterOptions): ManifestWriter {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`s3ManifestWriter: options must be an object, got ${describe(options)}`);
  }
  const {
    client,
    bucket,
    keyPrefix = 'manifests/',
    partSize = DEFAULT_PART_SIZE,
    queueSize = DEFAULT_QUEUE_SIZE,
    contentType = 'application/x-ndjson',
    serverSideEncryption,
    sseKmsKeyId,
  } = options;
  assertS3Client('s3ManifestWriter', client);
  if (typeof bucket !== 'string' || bucket.length === 0) {
    throw new TypeError(`s3ManifestWriter: bucket must be a non-empty string, got ${describe(bucket)}`);
  }
  if (typeof keyPrefix !== 'string') {
    throw new TypeError(`s3ManifestWriter: keyPrefix must be a string, got ${describe(keyPrefix)}`);
  }
  if (typeof partSize !== 'number') {
    throw new TypeError(`s3ManifestWriter: partSize must be a number, got ${describe(partSize)}`);
  }
  if (!Number.isInteger(partSize) || partSize < MIN_PART_SIZE || partSize > MAX_PART_SIZE) {
    throw new RangeError(
      `s3ManifestWriter: partSize must be an integer in ${MIN_PART_SIZE}..${MAX_PART_SIZE} bytes (5 MiB..5 GiB), got ${partSize}`,
    );
  }
  if (typeof queueSize !== 'number') {
    throw new TypeError(`s3ManifestWriter: queueSize must be a number, got ${describe(queueSize)}`);
  }
  if (!Number.isInteger(queueSize) || queueSize < 1) {
    throw new RangeError(`s3ManifestWriter: queueSize must be an integer ≥ 1, got ${queueSize}`);
  }
  if (typeof contentType !== 'string' || contentType.length === 0) {
    throw new TypeError(`s3ManifestWriter: contentType must be a non-empty string, got ${describe(contentType)}`);
  }
  if (serverSideEncryption !== undefined && (typeof serverSideEncryption !== 'string' || (serverSideEncryption as string) === '')) {
    throw new TypeError(
      `s3ManifestWriter: serverSideEncryption must be a non-empty string, got ${describe(serverSideEncryption)}`,
    );
  }
  if (sseKmsKeyId !== undefined && (typeof sseKmsKeyId !== 'string' || sseKmsKeyId === '')) {
    throw new TypeError(`s3ManifestWriter: sseKmsKeyId must be a non-empty string, got ${describe(sseKmsKeyId)}`);
  }
  const presignerOption: unknown = options.presigner;
  if (
    presignerOption !== undefined &&
    (typeof presignerOption !== 'object' ||
      presignerOption === null ||
      typeof (presignerOption as Presigner).presign !== 'function')
  ) {
    throw new TypeError(`s3ManifestWriter: presigner must be an object with presign(), got ${describe(presignerOption)}`);
  }
  const presigner = options.presigner ?? sdkPresigner({ client });

  let state: State = 'new';
  let context: ManifestContext | undefined;
  let key = '';
  let bytes = 0;
  let stream: PassThrough | undefined;
  /** The chunk lines are being encoded into; handed to `stream` when full, or at close. */
  let chunk: LineBuffer | undefined;
  let upload: PooledUpload | undefined;
  let uploadSettled: Promise<void> = Promise.resolve();
  /** The upload's own failure (an S3 error), once it happened. */
  let failure: { error: unknown } | undefined;
  /** Wakes a `write` waiting for room when the upload fails or is aborted. */
  let wakeWaiter: ((error: unknown) => void) | undefined;
  let abortPromise: Promise<void> | undefined;
  let cleanupPromise: Promise<void> | undefined;

  /** Cancels the requests the upload makes; AbortMultipartUpload is exempt so cleanup can still run. */
  const requests = new RequestSignals();
  const inFlight = new Set<Promise<unknown>>();
  let multipartRequested = false;
  /** Set once a request that creates the manifest object (PutObject, CompleteMultipartUpload) has been sent. */
  let objectRequested = false;
  let uploadId: string | undefined;

  // The upload talks to S3 through this view of the client, which sees every request: it learns the UploadId
  // and cancels in-flight requests on abort.
  const uploadClient = Object.create(client) as S3Client;
  const send = (command: { input?: unknown }, sendOptions?: { abortSignal?: AbortSignal }): Promise<unknown> => {
    const name = commandName(command);
    if (name === 'AbortMultipartUploadCommand') {
      return track((client.send as (c: unknown, o?: unknown) => Promise<unknown>).call(client, command, sendOptions), false);
    }
    if (requests.aborted) return Promise.reject(abortError(requests.reason));
    if (name === 'CreateMultipartUploadCommand') multipartRequested = true;
    const createsObject = name === 'PutObjectCommand' || name === 'CompleteMultipartUploadCommand';
    if (createsObject) objectRequested = true;
    const sent = requests.run((abortSignal) =>
      (client.send as (c: unknown, o?: unknown) => Promise<unknown>).call(client, command, { ...sendOptions, abortSignal }),
    );
    const operation = name?.replace(/Command$/, '') ?? 'request';
    if (createsObject) {
      return track(sent.then((output) => confirmAnswer(operation, output), (error: unknown) => confirmStored(operation, error)));
    }
    if (name !== 'CreateMultipartUploadCommand') return track(sent);
    return track(
      sent.then((output) => {
        const id = (output as { UploadId?: unknown } | undefined)?.UploadId;
        if (typeof id !== 'string' || id === '') {
          // Not S3's answer (S3 always names the upload): the upload it may have created is found by key at cleanup.
          throw new PresignPipelineError(
            'MANIFEST_WRITE_FAILED',
            `s3ManifestWriter: CreateMultipartUpload of s3://${bucket}/${key} was answered without an UploadId`,
          );
        }
        uploadId = id;
        return output;
      }),
    );
  };
  Object.defineProperty(uploadClient, 'send', { value: send, enumerable: false });

  function track<T>(promise: Promise<T>, fatal = true): Promise<T> {
    inFlight.add(promise);
    const forget = (): void => {
      inFlight.delete(promise);
    };
    promise.then(forget, (error: unknown) => {
      forget();
      // The SDK has already retried: a request that still fails dooms the upload. The upload itself would only
      // notice once every uploader has stopped (at close, or when all have failed), so writes would go on into a
      // doomed upload; failing now stops them and unblocks the other uploaders (the stream is destroyed).
      if (fatal && !requests.aborted) fail(error);
    });
    return promise;
  }

  /** Size and ETag of the object at the writer's key, or undefined when there is none (or it cannot be read). */
  async function headManifest(): Promise<{ length: number | undefined; eTag: string | undefined } | undefined> {
    try {
      const head = await requests.run((abortSignal) => client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal }));
      return { length: head.ContentLength, eTag: head.ETag };
    } catch {
      return undefined;
    }
  }

  /**
   * S3 answers a PutObject or CompleteMultipartUpload that stored the object with its ETag. An answer without one
   * (an empty or foreign 200 from something between us and S3, possibly without the request reaching S3) is not
   * evidence, so the object is looked up: it counts only if it holds exactly the bytes written. Otherwise the write
   * fails loudly, and cleanup aborts the upload the request should have completed.
   */
  async function confirmAnswer(operation: string, output: unknown): Promise<unknown> {
    const eTag = (output as { ETag?: unknown } | undefined)?.ETag;
    if (typeof eTag === 'string' && eTag !== '') return output;
    const head = await headManifest();
    if (head !== undefined && head.length === bytes) {
      return { ...(output as object), Bucket: bucket, Key: key, ...(head.eTag !== undefined ? { ETag: head.eTag } : {}) };
    }
    throw new PresignPipelineError(
      'MANIFEST_WRITE_FAILED',
      `s3ManifestWriter: ${operation} of s3://${bucket}/${key} was answered without an ETag, and HeadObject finds ` +
        `${head === undefined ? 'no object' : `${String(head.length)} bytes, not ${bytes},`} there: the manifest was not stored`,
    );
  }

  /**
   * A PutObject or CompleteMultipartUpload that still fails after the SDK's retries may have taken effect all the
   * same: S3 stored the object and the answer was lost (a reset, a 500 or a stall after the commit; a retried Complete
   * then even gets NoSuchUpload). The key is this writer's alone (a fresh UUID), so an object there holding exactly
   * the bytes written is the manifest, and the request counts as done. Anything else keeps the original error; an
   * answer the SDK could not read (not an S3 error) becomes `MANIFEST_WRITE_FAILED` naming the operation.
   */
  async function confirmStored(operation: string, error: unknown): Promise<unknown> {
    if (requests.aborted) throw error;
    const head = await headManifest();
    if (head === undefined || head.length !== bytes) throw unreadableAnswer(operation, error);
    return { Bucket: bucket, Key: key, ...(head.eTag !== undefined ? { ETag: head.eTag } : {}) };
  }

  /**
   * An S3 or network error stays as it is; a response the SDK could not parse is named for what it is (its message
   * kept, not the error itself: it carries S3-like metadata, and callers that name errors after an S3 cause would
   * name this one "Error").
   */
  function unreadableAnswer(operation: string, error: unknown): unknown {
    if (!isUnparsableResponse(error)) return error;
    const detail = ((error as Error).message ?? '').split('\n', 1)[0];
    return new PresignPipelineError(
      'MANIFEST_WRITE_FAILED',
      `s3ManifestWriter: ${operation} of s3://${bucket}/${key} got a 2xx answer that is not S3's (${detail}), and no manifest exists there`,
    );
  }

  // Read through a function: TypeScript would otherwise keep a narrowing that an await has made stale.
  const currentFailure = (): { error: unknown } | undefined => failure;

  function fail(error: unknown): void {
    failure ??= { error };
    stream?.destroy();
    wakeWaiter?.(error);
  }

  /**
   * Removes every trace of the upload: aborts the multipart upload, finding it by key if its id never arrived, and
   * deletes the object if a request that creates it was sent (S3 may have carried it out although we cancelled it).
   */
  function cleanup(): Promise<void> {
    cleanupPromise ??= (async () => {
      requests.abort();
      stream?.destroy();
      void upload?.abort();
      await uploadSettled;
      await Promise.allSettled([...inFlight]);
      let cleanupError: unknown;
      if (multipartRequested) {
        // Every upload started for the key: the one whose id we hold, and any whose CreateMultipartUpload answer was
        // lost (the SDK then retried and started another).
        const ids = new Set<string>(uploadId === undefined ? [] : [uploadId]);
        try {
          for (const id of await openUploads()) ids.add(id);
        } catch (error) {
          cleanupError = error;
        }
        cleanupError ??= await abortUploads(ids);
      }
      let objectLeft = false;
      if (objectRequested) {
        // The key is this writer's alone (a fresh UUID), so the delete cannot touch anything else.
        try {
          await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
        } catch (error) {
          objectLeft = true;
          cleanupError ??= error;
        }
      }
      if (cleanupError !== undefined) {
        throw new PresignPipelineError(
          'MANIFEST_WRITE_FAILED',
          `s3ManifestWriter: could not ${objectLeft ? 'delete' : 'abort the multipart upload of'} s3://${bucket}/${key}; it may be left behind`,
          { cause: cleanupError },
        );
      }
    })();
    return cleanupPromise;
  }

  /** The ids of the multipart uploads in progress for the writer's key (ListMultipartUploads, usually one page). */
  async function openUploads(): Promise<string[]> {
    const ids: string[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const listed = await client.send(
        new ListMultipartUploadsCommand({
          Bucket: bucket,
          Prefix: key,
          ...(keyMarker !== undefined ? { KeyMarker: keyMarker } : {}),
          ...(uploadIdMarker !== undefined ? { UploadIdMarker: uploadIdMarker } : {}),
        }),
      );
      for (const found of listed.Uploads ?? []) {
        if (found.Key === key && found.UploadId) ids.push(found.UploadId);
      }
      if (!listed.IsTruncated || (listed.NextKeyMarker === undefined && listed.NextUploadIdMarker === undefined)) return ids;
      keyMarker = listed.NextKeyMarker;
      uploadIdMarker = listed.NextUploadIdMarker;
    }
  }

  /** Aborts each upload; returns the first error other than NoSuchUpload (the upload is gone: what we want). */
  async function abortUploads(ids: Iterable<string>): Promise<unknown> {
    let firstError: unknown;
    for (const id of ids) {
      try {
        await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: id }));
      } catch (error) {
        if (!isNoSuchUpload(error)) firstError ??= error;
      }
    }
    return firstError;
  }

  /**
   * After a multipart manifest is completed, aborts every other upload still open for its key: a CreateMultipartUpload
   * whose answer was lost took effect, and the SDK's retry started the upload that was completed. Costs one
   * ListMultipartUploads request per multipart manifest (none for a manifest stored with PutObject).
   */
  async function sweepStrayUploads(): Promise<void> {
    try {
      const stray = (await openUploads()).filter((id) => id !== uploadId);
      const error = await abortUploads(stray);
      if (error !== undefined) throw error;
    } catch (error) {
      throw new PresignPipelineError(
        'MANIFEST_WRITE_FAILED',
        `s3ManifestWriter: could not make sure no other multipart upload is left open for s3://${bucket}/${key}`,
        { cause: error },
      );
    }
  }

  function waitForRoom(target: PassThrough): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (error?: unknown): void => {
        target.off('drain', onDrain);
        wakeWaiter = undefined;
        if (error === undefined) resolve();
        else reject(error);
      };
      const onDrain = (): void => done();
      target.on('drain', onDrain);
      wakeWaiter = (error) => done(error);
    });
  }

  /** Hands bytes to the upload, waiting while the stream is full. */
  async function push(bytesOut: Buffer): Promise<void> {
    const target = stream;
    const failed = currentFailure();
    if (failed) throw failed.error;
    if (target === undefined || state === 'aborted') throw abortError();
    bytes += bytesOut.length;
    if (!target.write(bytesOut)) await waitForRoom(target);
  }

  /** Hands the current chunk's lines to the upload. */
  async function pushChunk(): Promise<void> {
    const full = chunk;
    chunk = undefined;
    if (full !== undefined && full.length > 0) await push(full.bytes.subarray(0, full.length));
  }

  const sink: LineSink = {
    buffer: () => (chunk ??= new LineBuffer(CHUNK_SIZE)),
    handOver: pushChunk,
    writeLarge: push,
  };

  return {
    open(manifestContext: ManifestContext): void {
      if (state !== 'new') throw new Error('s3ManifestWriter: open() may be called once per writer');
      const expiresIn = manifestContext?.expiresIn;
      if (typeof expiresIn !== 'number' || !Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > 604_800) {
        throw new RangeError(`s3ManifestWriter: expiresIn must be an integer in 1..604800, got ${describe(expiresIn)}`);
      }
      context = manifestContext;
      key = `${keyPrefix}${randomUUID()}.jsonl`;
      const body = new PassThrough({ highWaterMark: STREAM_BUFFER });
      // Stream errors surface through the upload; this listener only keeps them from being uncaught.
      body.on('error', () => undefined);
      stream = body;
      const params: PutObjectCommandInput & { Body: PassThrough } = { Bucket: bucket, Key: key, Body: body, ContentType: contentType };
      if (serverSideEncryption !== undefined) params.ServerSideEncryption = serverSideEncryption;
      if (sseKmsKeyId !== undefined) params.SSEKMSKeyId = sseKmsKeyId;
      upload = new PooledUpload({ client: uploadClient, params, partSize, queueSize });
      state = 'open';
      uploadSettled = upload.done().then(
        () => undefined,
        (error: unknown) => fail(error),
      );
    },

    async write(entries: readonly ManifestEntry[]): Promise<void> {
      if (failure) throw failure.error;
      if (state !== 'open' || stream === undefined) {
        throw new Error(`s3ManifestWriter: write() ${state === 'new' ? 'before open()' : `after ${state === 'aborted' ? 'abort()' : 'close()'}`}`);
      }
      if (!Array.isArray(entries)) {
        throw new TypeError(`s3ManifestWriter: write() takes an array of entries, got ${describe(entries)}`);
      }
      if (entries.length === 0) return;
      await writeLines('s3ManifestWriter', entries, sink);
      const failedMeanwhile = currentFailure();
      if (failedMeanwhile) throw failedMeanwhile.error;
    },

    async close(): Promise<ManifestInfo> {
      if (failure) {
        await cleanup().catch(() => undefined);
        throw failure.error;
      }
      if (state !== 'open' || stream === undefined || context === undefined) {
        throw new Error(`s3ManifestWriter: close() ${state === 'new' ? 'before open()' : `after ${state === 'aborted' ? 'abort()' : 'close()'}`}`);
      }
      const body = stream;
      state = 'closing';
      try {
        await pushChunk();
      } catch (error) {
        await cleanup().catch(() => undefined);
        throw currentFailure()?.error ?? error;
      }
      body.end();
      await uploadSettled;
      if (!currentFailure() && multipartRequested) await sweepStrayUploads().catch(fail);
      const failedMeanwhile = currentFailure();
      if (failedMeanwhile) {
        await cleanup().catch(() => undefined);
        throw failedMeanwhile.error;
      }
      let url: string;
      try {
        url = await presigner.presign({ bucket, key }, { expiresIn: context.expiresIn });
      } catch (error) {
        // A manifest nobody can be handed is removed rather than left behind.
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
        state = 'aborted';
        throw error;
      }
      if (state !== 'closing') {
        // Aborted while the manifest was being presigned: the run failed, so the manifest goes.
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
        throw abortError();
      }
      state = 'closed';
      return { key, url, bytes, location: `s3://${bucket}/${key}` };
    },

    bytesWritten: () => bytes,

    abort(reason?: unknown): Promise<void> {
      abortPromise ??= (async () => {
        if (state === 'closed') return; // The manifest was completed and handed over; it is not ours to delete.
        const wasStarted = state !== 'new';
        state = 'aborted';
        if (!wasStarted) return;
        wakeWaiter?.(abortError(reason));
        await cleanup();
      })();
      return abortPromise;
    },
  };
}

function commandName(command: unknown): string | undefined {
  if (command instanceof CreateMultipartUploadCommand) return 'CreateMultipartUploadCommand';
  if (command instanceof AbortMultipartUploadCommand) return 'AbortMultipartUploadCommand';
  // Another copy of @aws-sdk/client-s3 (lib-storage resolving its own) still names its classes the same.
  const name = (command as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof name === 'string' ? name : undefined;
}

/**
 * True for an error the SDK raised because a 2xx response could not be read (malformed XML, a body that is not
 * S3's), as opposed to an S3 error (which carries `$fault` and its HTTP status) or a network error (a `code`).
 */
function isUnparsableResponse(error: unknown): boolean {
  const e = error as { $fault?: unknown; code?: unknown; name?: unknown; $metadata?: { httpStatusCode?: unknown } } | null;
  if (e === null || typeof e !== 'object' || e.$fault !== undefined || typeof e.code === 'string') return false;
  const status = e.$metadata?.httpStatusCode ?? (e as { $response?: { statusCode?: unknown } }).$response?.statusCode;
  return typeof status === 'number' && status >= 200 && status < 300;
}

function isNoSuchUpload(error: unknown): boolean {
  const e = error as { name?: unknown; Code?: unknown; $metadata?: { httpStatusCode?: unknown } } | null;
  return e?.name === 'NoSuchUpload' || e?.Code === 'NoSuchUpload' || e?.$metadata?.httpStatusCode === 404;
}
