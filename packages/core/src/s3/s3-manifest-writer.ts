import { randomUUID } from 'node:crypto';
import type { PassThrough } from 'node:stream';
import type { PutObjectCommandInput, S3Client, ServerSideEncryption } from '@aws-sdk/client-s3';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { abortError, optionRangeError, optionTypeError, PresignPipelineError } from '../errors.js';
import { writeLines } from '../manifest/jsonl.js';
import type { ManifestContext, ManifestEntry, ManifestInfo, ManifestWriter, Presigner } from '../types.js';
import { ManifestBody } from './manifest-body.js';
import { PooledUpload } from './pooled-upload.js';
import { sdkPresigner } from './sdk-presigner.js';
import { removeUploadTraces, sweepStrayUploads, type UploadLocation } from './upload-cleanup.js';
import { UploadRequests } from './upload-requests.js';
import { assertS3Client } from './validate.js';
import { describeWithoutContent } from '../validate.js';

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
   * partSize × (queueSize + 1), the parts in flight plus the one being filled (40 MiB by default), plus a few 1 MiB
   * chunks lines are encoded into. Both are reused, part after part and chunk after chunk (no copies waiting for the
   * garbage collector), so a process's peak stays flat however large the manifest. Four 8 MiB parts in flight keep up with
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
  /**
   * A hard stop for the upload (for example a timer set shortly before a Lambda invocation ends). When it aborts
   * before the manifest is stored, every request in flight (PutObject, CreateMultipartUpload, UploadPart,
   * CompleteMultipartUpload, HeadObject) is cancelled, the upload is removed (AbortMultipartUpload, bounded by
   * `cleanupTimeoutMs`), and the pending or next `write` or `close` rejects with a `PresignPipelineError` of code
   * `MANIFEST_WRITE_FAILED` whose cause is the signal's reason. A manifest already stored and presigned is kept.
   * Unlike the run's own signal, it does not wait for the SDK's retries or socket timeouts. Default: none.
   */
  signal?: AbortSignal;
  /**
   * Milliseconds the cleanup may take once `signal` has aborted: the requests that remove the upload
   * (ListMultipartUploads, AbortMultipartUpload, DeleteObject) are cancelled after that, leaving the upload to the
   * bucket's lifecycle rule. An integer ≥ 1. Default 1000.
   */
  cleanupTimeoutMs?: number;
}

const MIB = 1024 * 1024;
/** S3's smallest part (every part but the last). */
const MIN_PART_SIZE = 5 * MIB;
/** S3's largest part. */
const MAX_PART_SIZE = 5 * 1024 * MIB;
const DEFAULT_PART_SIZE = 8 * MIB;
const DEFAULT_QUEUE_SIZE = 4;
const DEFAULT_CLEANUP_TIMEOUT_MS = 1000;
const PART_SIZE_RANGE = `in ${MIN_PART_SIZE}..${MAX_PART_SIZE} bytes (5 MiB..5 GiB)`;

type State = 'new' | 'open' | 'closing' | 'closed' | 'aborted';

/** The options of {@link s3ManifestWriter}, checked and with defaults filled in. */
interface CheckedOptions {
  readonly client: S3Client;
  readonly bucket: string;
  readonly keyPrefix: string;
  readonly partSize: number;
  readonly queueSize: number;
  readonly contentType: string;
  readonly serverSideEncryption: ServerSideEncryption | undefined;
  readonly sseKmsKeyId: string | undefined;
  readonly presigner: Presigner;
  readonly signal: AbortSignal | undefined;
  readonly cleanupTimeoutMs: number;
}

const OWNER = 's3ManifestWriter';

/** Throws the TypeError of an option of the wrong type, describing the value without echoing it. */
function wrongType(name: string, expected: string, value: unknown): never {
  throw optionTypeError(`${OWNER}: ${name} must be ${expected}, got ${describeWithoutContent(value)}`);
}

/** A string option; `nonEmpty` refuses the empty string. */
function checkString(name: string, value: unknown, nonEmpty: boolean): string {
  if (typeof value !== 'string' || (nonEmpty && value.length === 0)) {
    wrongType(name, nonEmpty ? 'a non-empty string' : 'a string', value);
  }
  return value;
}

/** An optional non-empty string option (the encryption settings). */
function checkOptionalString<T>(name: string, value: T | undefined): T | undefined {
  if (value !== undefined) checkString(name, value, true);
  return value;
}

/** An integer option: a TypeError when it is not a number, a RangeError outside `min..max` (described by `range`). */
function checkWholeNumber(name: string, value: unknown, min: number, max: number, range: string): number {
  if (typeof value !== 'number') wrongType(name, 'a number', value);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw optionRangeError(`${OWNER}: ${name} must be an integer ${range}, got ${value}`);
  }
  return value;
}

/** The `presigner` option: undefined, or an object with `presign()`. */
function checkPresigner(value: unknown): Presigner | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || typeof (value as Presigner).presign !== 'function') {
    wrongType('presigner', 'an object with presign()', value);
  }
  return value as Presigner;
}

/** The `signal` option: undefined, or an AbortSignal. */
function checkSignal(value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  const signal = value as AbortSignal | null;
  if (
    typeof signal !== 'object' ||
    signal === null ||
    typeof signal.aborted !== 'boolean' ||
    typeof signal.addEventListener !== 'function'
  ) {
    wrongType('signal', 'an AbortSignal', value);
  }
  return signal;
}

/** Checks every option in the order they are documented, each error naming its option, and fills in the defaults. */
function checkOptions(options: S3ManifestWriterOptions): CheckedOptions {
  if (typeof options !== 'object' || options === null) wrongType('options', 'an object', options);
  const {
    client,
    bucket,
    keyPrefix = 'manifests/',
    partSize = DEFAULT_PART_SIZE,
    queueSize = DEFAULT_QUEUE_SIZE,
  } = options;
  const { contentType = 'application/x-ndjson', serverSideEncryption, sseKmsKeyId } = options;
  assertS3Client(OWNER, client);
  return {
    client,
    bucket: checkString('bucket', bucket, true),
    keyPrefix: checkString('keyPrefix', keyPrefix, false),
    partSize: checkWholeNumber('partSize', partSize, MIN_PART_SIZE, MAX_PART_SIZE, PART_SIZE_RANGE),
    queueSize: checkWholeNumber('queueSize', queueSize, 1, Number.POSITIVE_INFINITY, '≥ 1'),
    contentType: checkString('contentType', contentType, true),
    serverSideEncryption: checkOptionalString('serverSideEncryption', serverSideEncryption),
    sseKmsKeyId: checkOptionalString('sseKmsKeyId', sseKmsKeyId),
    presigner: checkPresigner(options.presigner) ?? sdkPresigner({ client }),
    signal: checkSignal(options.signal),
    cleanupTimeoutMs: checkWholeNumber(
      'cleanupTimeoutMs',
      options.cleanupTimeoutMs ?? DEFAULT_CLEANUP_TIMEOUT_MS,
      1,
      Number.MAX_SAFE_INTEGER,
      '≥ 1',
    ),
  };
}

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
 * - With `signal`, the upload never outlives it: when it aborts, requests in flight are cancelled at once (not
 *   after the SDK's retries), the upload is removed within `cleanupTimeoutMs`, and the run fails with
 *   `MANIFEST_WRITE_FAILED`.
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
  const manifest = new S3Manifest(checkOptions(options));
  return {
    open: (manifestContext: ManifestContext) => manifest.open(manifestContext),
    write: (entries: readonly ManifestEntry[]) => manifest.write(entries),
    close: () => manifest.close(),
    bytesWritten: () => manifest.bytesWritten,
    abort: (reason?: unknown) => manifest.abort(reason),
  };
}

/**
 * One manifest upload from open to close or abort. The parts: {@link ManifestBody} (lines into chunks into the
 * upload's stream), {@link PooledUpload} (the multipart upload), {@link UploadRequests} (every request the upload
 * makes, confirmed and cancellable) and upload-cleanup.ts (abort, delete, sweep).
 * @internal
 */
export class S3Manifest {
  readonly #options: CheckedOptions;
  readonly #requests: UploadRequests;
  #state: State = 'new';
  #context: ManifestContext | undefined;
  #key = '';
  #body: ManifestBody | undefined;
  #upload: PooledUpload | undefined;
  #uploadSettled: Promise<void> = Promise.resolve();
  /** The upload's own failure (an S3 error), once it happened. */
  #failure: { error: unknown } | undefined;
  #abortPromise: Promise<void> | undefined;
  #cleanupPromise: Promise<void> | undefined;
  /** Aborts the cleanup's requests `cleanupTimeoutMs` after the stop signal fired. */
  readonly #cleanupBound = new AbortController();
  #cleanupTimer: ReturnType<typeof setTimeout> | undefined;
  #detachStop: (() => void) | undefined;

  constructor(options: CheckedOptions) {
    this.#options = options;
    this.#requests = new UploadRequests({
      client: options.client,
      bucket: options.bucket,
      key: () => this.#key,
      bytes: () => this.bytesWritten,
      onFatal: (error) => this.#fail(error),
      cleanupSignal: () => (this.#options.signal === undefined ? undefined : this.#cleanupBound.signal),
    });
  }

  /** Bytes of the manifest handed to the upload so far. */
  get bytesWritten(): number {
    return this.#body?.bytes ?? 0;
  }

  open(manifestContext: ManifestContext): void {
    if (this.#state !== 'new') throw new Error('s3ManifestWriter: open() may be called once per writer');
    const expiresIn = manifestContext?.expiresIn;
    if (typeof expiresIn !== 'number' || !Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > 604_800) {
      throw optionRangeError(
        `s3ManifestWriter: expiresIn must be an integer in 1..604800, got ${describeWithoutContent(expiresIn)}`,
      );
    }
    const { bucket, keyPrefix, contentType, serverSideEncryption, sseKmsKeyId, partSize, queueSize } = this.#options;
    this.#context = manifestContext;
    this.#key = `${keyPrefix}${randomUUID()}.jsonl`;
    const body = new ManifestBody(() => this.#assertWritable());
    this.#body = body;
    const params: PutObjectCommandInput & { Body: PassThrough } = {
      Bucket: bucket,
      Key: this.#key,
      Body: body.stream,
      ContentType: contentType,
    };
    if (serverSideEncryption !== undefined) params.ServerSideEncryption = serverSideEncryption;
    if (sseKmsKeyId !== undefined) params.SSEKMSKeyId = sseKmsKeyId;
    const upload = new PooledUpload({
      client: this.#requests.client,
      params,
      partSize,
      queueSize,
      onChunkCopied: (chunk) => body.release(chunk),
    });
    this.#upload = upload;
    this.#state = 'open';
    this.#uploadSettled = upload.done().then(
      () => undefined,
      (error: unknown) => this.#fail(error),
    );
    this.#watchStop();
  }

  /** Stops the upload when the `signal` option aborts (at once if it already has). */
  #watchStop(): void {
    const { signal } = this.#options;
    if (signal === undefined) return;
    if (signal.aborted) {
      this.#stop(signal.reason);
      return;
    }
    const onAbort = (): void => this.#stop(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    this.#detachStop = () => signal.removeEventListener('abort', onAbort);
  }

  /** The hard stop: fails the upload, cancels its requests and bounds the cleanup that follows. */
  #stop(reason: unknown): void {
    this.#detachStop?.();
    this.#detachStop = undefined;
    if (this.#state === 'closed' || this.#cleanupTimer !== undefined) return;
    this.#cleanupTimer = setTimeout(() => this.#cleanupBound.abort(reason), this.#options.cleanupTimeoutMs);
    this.#cleanupTimer.unref?.();
    this.#fail(
      new PresignPipelineError(
        'MANIFEST_WRITE_FAILED',
        `s3ManifestWriter: stopped by its signal before s3://${this.#options.bucket}/${this.#key} was stored; the upload is removed`,
        { cause: reason },
      ),
    );
    this.#requests.cancel();
    void this.#upload?.abort();
    void this.#cleanup().catch(() => undefined);
  }

  async write(entries: readonly ManifestEntry[]): Promise<void> {
    if (this.#failure) throw this.#failure.error;
    const body = this.#body;
    if (this.#state !== 'open' || body === undefined) throw this.#misuse('write()');
    if (!Array.isArray(entries)) {
      throw optionTypeError(
        `s3ManifestWriter: write() takes an array of entries, got ${describeWithoutContent(entries)}`,
      );
    }
    if (entries.length === 0) return;
    await writeLines('s3ManifestWriter', entries, body.sink);
    const failedMeanwhile = this.#currentFailure();
    if (failedMeanwhile) throw failedMeanwhile.error;
  }

  async close(): Promise<ManifestInfo> {
    if (this.#failure) {
      await this.#cleanup().catch(() => undefined);
      throw this.#failure.error;
    }
    const body = this.#body;
    const context = this.#context;
    if (this.#state !== 'open' || body === undefined || context === undefined) throw this.#misuse('close()');
    this.#state = 'closing';
    await this.#finishUpload(body);
    return this.#presignManifest(context);
  }

  abort(reason?: unknown): Promise<void> {
    this.#abortPromise ??= (async () => {
      if (this.#state === 'closed') return; // The manifest was completed and handed over; it is not ours to delete.
      const wasStarted = this.#state !== 'new';
      this.#state = 'aborted';
      if (!wasStarted) return;
      this.#body?.wake(abortError(reason));
      await this.#cleanup();
    })();
    return this.#abortPromise;
  }

  /** Hands the last chunk over, ends the stream and waits for the upload; on failure cleans up and throws. */
  async #finishUpload(body: ManifestBody): Promise<void> {
    try {
      await body.pushChunk();
    } catch (error) {
      await this.#cleanup().catch(() => undefined);
      throw this.#currentFailure()?.error ?? error;
    }
    body.stream.end();
    await this.#uploadSettled;
    if (!this.#currentFailure() && this.#requests.multipartRequested) {
      await sweepStrayUploads(this.#location(), this.#requests.uploadId).catch((error: unknown) => this.#fail(error));
    }
    const failedMeanwhile = this.#currentFailure();
    if (failedMeanwhile) {
      await this.#cleanup().catch(() => undefined);
      throw failedMeanwhile.error;
    }
  }

  /** Presigns the stored manifest; a manifest nobody can be handed (presign failed, or aborted meanwhile) is deleted. */
  async #presignManifest(context: ManifestContext): Promise<ManifestInfo> {
    const { client, bucket, presigner } = this.#options;
    const key = this.#key;
    const removeManifest = (): Promise<unknown> =>
      client
        .send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: this.#location().signal })
        .catch(() => undefined);
    let url: string;
    try {
      url = await presigner.presign({ bucket, key }, { expiresIn: context.expiresIn });
    } catch (error) {
      // A manifest nobody can be handed is removed rather than left behind.
      await removeManifest();
      this.#state = 'aborted';
      this.#release();
      throw error;
    }
    const stopped = this.#currentFailure();
    if (this.#state !== 'closing' || stopped) {
      // Aborted or stopped while the manifest was being presigned: the run failed, so the manifest goes.
      await removeManifest();
      this.#release();
      throw stopped?.error ?? abortError();
    }
    this.#state = 'closed';
    this.#release();
    return { key, url, bytes: this.bytesWritten, location: `s3://${bucket}/${key}` };
  }

  #misuse(call: string): Error {
    const state = this.#state;
    return new Error(
      `s3ManifestWriter: ${call} ${state === 'new' ? 'before open()' : `after ${state === 'aborted' ? 'abort()' : 'close()'}`}`,
    );
  }

  #assertWritable(): void {
    const failed = this.#currentFailure();
    if (failed) throw failed.error;
    if (this.#state === 'aborted') throw abortError();
  }

  // Read through a method: TypeScript would otherwise keep a narrowing that an await has made stale.
  #currentFailure(): { error: unknown } | undefined {
    return this.#failure;
  }

  #fail(error: unknown): void {
    this.#failure ??= { error };
    this.#body?.stream.destroy();
    this.#body?.wake(error);
  }

  #location(): UploadLocation {
    const { client, bucket, signal } = this.#options;
    return { client, bucket, key: this.#key, signal: signal === undefined ? undefined : this.#cleanupBound.signal };
  }

  /** Lets the stop signal and the cleanup's timer go once the writer is done. */
  #release(): void {
    this.#detachStop?.();
    this.#detachStop = undefined;
    if (this.#cleanupTimer !== undefined) clearTimeout(this.#cleanupTimer);
  }

  /** Cancels what is in flight, waits for it to settle, then removes every trace of the upload (once). */
  #cleanup(): Promise<void> {
    this.#cleanupPromise ??= (async () => {
      this.#requests.cancel();
      this.#body?.stream.destroy();
      void this.#upload?.abort();
      await this.#uploadSettled;
      await this.#requests.settled();
      try {
        await removeUploadTraces(this.#location(), this.#requests);
      } finally {
        this.#release();
      }
    })();
    return this.#cleanupPromise;
  }
}
