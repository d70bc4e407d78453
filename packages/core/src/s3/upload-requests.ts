import type { S3Client } from '@aws-sdk/client-s3';
import { AbortMultipartUploadCommand, CreateMultipartUploadCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { abortError, PresignPipelineError } from '../errors.js';
import { RequestSignals } from './request-signals.js';

/** The manifest object the requests are about, and who hears of a request that dooms the upload. @internal */
export interface UploadTarget {
  readonly client: S3Client;
  readonly bucket: string;
  /** The manifest's key (read when needed: it is drawn at `open`). */
  key(): string;
  /** Bytes handed to the upload so far: what a stored manifest must hold. */
  bytes(): number;
  /** Called once per request that still fails after the SDK's retries (not after {@link UploadRequests.cancel}). */
  onFatal(error: unknown): void;
  /** Bounds AbortMultipartUpload, the one request {@link UploadRequests.cancel} lets through (undefined: unbounded). */
  cleanupSignal?(): AbortSignal | undefined;
}

type Send = (command: unknown, options?: unknown) => Promise<unknown>;

/**
 * Every request a manifest upload makes goes through {@link client}, a view of the S3 client that sees them all: it
 * learns the UploadId, records whether a multipart upload or the object itself was requested (what cleanup must
 * undo), confirms a doubtful PutObject or CompleteMultipartUpload with HeadObject, and cancels requests on
 * {@link cancel}; AbortMultipartUpload is exempt so cleanup can still run.
 * @internal
 */
export class UploadRequests {
  /** The client view the upload sends through. */
  readonly client: S3Client;
  /** Set once CreateMultipartUpload has been sent. */
  multipartRequested = false;
  /** Set once a request that creates the manifest object (PutObject, CompleteMultipartUpload) has been sent. */
  objectRequested = false;
  /** The multipart upload's id, once S3 named it. */
  uploadId: string | undefined;
  readonly #target: UploadTarget;
  readonly #signals = new RequestSignals();
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(target: UploadTarget) {
    this.#target = target;
    this.client = Object.create(target.client) as S3Client;
    const send = (command: { input?: unknown }, sendOptions?: { abortSignal?: AbortSignal }): Promise<unknown> =>
      this.#send(command, sendOptions);
    Object.defineProperty(this.client, 'send', { value: send, enumerable: false });
  }

  /** True once {@link cancel} was called. */
  get cancelled(): boolean {
    return this.#signals.aborted;
  }

  /** Cancels every request in flight and refuses new ones (except AbortMultipartUpload). */
  cancel(): void {
    this.#signals.abort();
  }

  /** Resolves once every request in flight has settled. */
  settled(): Promise<unknown> {
    return Promise.allSettled([...this.#inFlight]);
  }

  #send(command: { input?: unknown }, sendOptions?: { abortSignal?: AbortSignal }): Promise<unknown> {
    const { client } = this.#target;
    const name = commandName(command);
    if (name === 'AbortMultipartUploadCommand') {
      const abortSignal = this.#target.cleanupSignal?.();
      const options = abortSignal === undefined ? sendOptions : { ...sendOptions, abortSignal };
      return this.#track((client.send as Send).call(client, command, options), false);
    }
    if (this.#signals.aborted) return Promise.reject(abortError(this.#signals.reason));
    if (name === 'CreateMultipartUploadCommand') this.multipartRequested = true;
    const createsObject = name === 'PutObjectCommand' || name === 'CompleteMultipartUploadCommand';
    if (createsObject) this.objectRequested = true;
    const sent = this.#signals.run((abortSignal) =>
      (client.send as Send).call(client, command, { ...sendOptions, abortSignal }),
    );
    const operation = name?.replace(/Command$/, '') ?? 'request';
    if (createsObject) {
      return this.#track(
        sent.then(
          (output) => this.#confirmAnswer(operation, output),
          (error: unknown) => this.#confirmStored(operation, error),
        ),
      );
    }
    // An UploadPart or CreateMultipartUpload answered with a 2xx the SDK cannot read fails as a manifest write.
    const named = sent.catch((error: unknown) => {
      throw this.#unreadableAnswer(operation, error, false);
    });
    if (name === 'UploadPartCommand') return this.#track(named.then((output) => this.#checkPart(command, output)));
    if (name !== 'CreateMultipartUploadCommand') return this.#track(named);
    return this.#track(named.then((output) => this.#learnUploadId(output)));
  }

  #learnUploadId(output: unknown): unknown {
    const id = (output as { UploadId?: unknown } | undefined)?.UploadId;
    if (typeof id !== 'string' || id === '') {
      // Not S3's answer (S3 always names the upload): the upload it may have created is found by key at cleanup.
      throw new PresignPipelineError(
        'MANIFEST_WRITE_FAILED',
        `s3ManifestWriter: CreateMultipartUpload of s3://${this.#target.bucket}/${this.#target.key()} was answered without an UploadId`,
      );
    }
    this.uploadId = id;
    return output;
  }

  /**
   * S3 answers every stored part with its ETag, which CompleteMultipartUpload must name. A 200 without one (an empty
   * or foreign body from something between us and S3) stored nothing we can complete: the upload fails here, rather
   * than at a CompleteMultipartUpload listing a part without an ETag.
   */
  #checkPart(command: { input?: unknown }, output: unknown): unknown {
    const eTag = (output as { ETag?: unknown } | undefined)?.ETag;
    if (typeof eTag === 'string' && eTag !== '') return output;
    const part = (command.input as { PartNumber?: unknown } | undefined)?.PartNumber;
    throw new PresignPipelineError(
      'MANIFEST_WRITE_FAILED',
      `s3ManifestWriter: UploadPart ${String(part)} of s3://${this.#target.bucket}/${this.#target.key()} was answered without an ETag: not S3's answer, the part cannot be completed`,
    );
  }

  #track<T>(promise: Promise<T>, fatal = true): Promise<T> {
    this.#inFlight.add(promise);
    const forget = (): void => {
      this.#inFlight.delete(promise);
    };
    promise.then(forget, (error: unknown) => {
      forget();
      // The SDK has already retried: a request that still fails dooms the upload. The upload itself would only
      // notice once every uploader has stopped (at close, or when all have failed), so writes would go on into a
      // doomed upload; failing now stops them and unblocks the other uploaders (the stream is destroyed).
      if (fatal && !this.#signals.aborted) this.#target.onFatal(error);
    });
    return promise;
  }

  /** Size and ETag of the object at the writer's key, or undefined when there is none (or it cannot be read). */
  async #headManifest(): Promise<{ length: number | undefined; eTag: string | undefined } | undefined> {
    try {
      const { client, bucket } = this.#target;
      const command = new HeadObjectCommand({ Bucket: bucket, Key: this.#target.key() });
      const head = await this.#signals.run((abortSignal) => client.send(command, { abortSignal }));
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
  async #confirmAnswer(operation: string, output: unknown): Promise<unknown> {
    const eTag = (output as { ETag?: unknown } | undefined)?.ETag;
    if (typeof eTag === 'string' && eTag !== '') return output;
    const head = await this.#headManifest();
    const { bucket } = this.#target;
    const key = this.#target.key();
    const bytes = this.#target.bytes();
    if (head !== undefined && head.length === bytes) {
      return {
        ...(output as object),
        Bucket: bucket,
        Key: key,
        ...(head.eTag !== undefined ? { ETag: head.eTag } : {}),
      };
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
  async #confirmStored(operation: string, error: unknown): Promise<unknown> {
    if (this.#signals.aborted) throw error;
    const head = await this.#headManifest();
    if (head === undefined || head.length !== this.#target.bytes())
      throw this.#unreadableAnswer(operation, error, true);
    return {
      Bucket: this.#target.bucket,
      Key: this.#target.key(),
      ...(head.eTag !== undefined ? { ETag: head.eTag } : {}),
    };
  }

  /**
   * An S3 or network error stays as it is; a response the SDK could not parse becomes `MANIFEST_WRITE_FAILED` naming
   * the operation, with the SDK's error as its cause (`storing`: the request would have stored the manifest, and
   * HeadObject found none).
   */
  #unreadableAnswer(operation: string, error: unknown, storing: boolean): unknown {
    if (!isUnparsableResponse(error)) return error;
    const detail = ((error as Error).message ?? '').split('\n', 1)[0];
    const where = `s3://${this.#target.bucket}/${this.#target.key()}`;
    return new PresignPipelineError(
      'MANIFEST_WRITE_FAILED',
      `s3ManifestWriter: ${operation} of ${where} got a 2xx answer that is not S3's (${detail})` +
        (storing ? ', and no manifest exists there' : ''),
      { cause: error },
    );
  }
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
  const e = error as {
    $fault?: unknown;
    code?: unknown;
    name?: unknown;
    $metadata?: { httpStatusCode?: unknown };
  } | null;
  if (e === null || typeof e !== 'object' || e.$fault !== undefined || typeof e.code === 'string') return false;
  const status = e.$metadata?.httpStatusCode ?? (e as { $response?: { statusCode?: unknown } }).$response?.statusCode;
  return typeof status === 'number' && status >= 200 && status < 300;
}
