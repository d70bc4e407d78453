import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { CompletedPart, PutObjectCommandInput, S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { abortError } from '../errors.js';

/** Options of {@link PooledUpload}. */
export interface PooledUploadOptions {
  /** Sends the requests (the writer's tracking view of the client). */
  client: S3Client;
  /** The object: Bucket, Key, ContentType, encryption; `Body` is the stream to upload. */
  params: PutObjectCommandInput & { Body: Readable };
  /** Bytes per part. */
  partSize: number;
  /** Parts uploaded at once. */
  queueSize: number;
  /** Called with each chunk read from the body once it is copied into part buffers: the caller may reuse it. */
  onChunkCopied?: (chunk: Buffer) => void;
}

/**
 * A streamed multipart upload with a fixed pool of part buffers: at most queueSize + 1 buffers of partSize bytes are
 * ever allocated (the parts in flight plus the one being filled), and each is reused once its UploadPart settles.
 * lib-storage's `Upload` instead copies every part with `Buffer.concat`, and those copies wait for V8's next full
 * collection: tens of megabytes more at the peak. The stream is read only while a buffer is free, so a fast
 * producer waits (backpressure). A body that fits in one part goes up with a single PutObject. On failure, the
 * multipart upload is aborted and `done()` rejects with the first error.
 */
export class PooledUpload {
  private readonly free: Buffer[] = [];
  private allocated = 0;
  private readonly parts: CompletedPart[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private uploadId: Promise<string> | undefined;
  private failure: { error: unknown } | undefined;
  private wakeFree: (() => void) | undefined;
  private readonly settled: Promise<void>;

  constructor(private readonly options: PooledUploadOptions) {
    this.settled = this.run().catch(async (error: unknown) => {
      await this.abortMultipart();
      throw error;
    });
    // Callers read the outcome through done(); this keeps a failure before they ask from being unhandled.
    this.settled.catch(() => undefined);
  }

  /** Resolves when the object is stored; rejects with the first failure. */
  done(): Promise<void> {
    return this.settled;
  }

  /** Stops reading and uploading; `done()` then rejects. The caller's cleanup removes what was created. */
  async abort(): Promise<void> {
    this.fail(abortError());
  }

  /** The most part buffers ever allocated at once (for tests). */
  get buffersAllocated(): number {
    return this.allocated;
  }

  private fail(error: unknown): void {
    this.failure ??= { error };
    this.options.params.Body.destroy();
    this.wakeFree?.();
  }

  private async run(): Promise<void> {
    let buffer = await this.takeBuffer();
    let filled = 0;
    let partNumber = 0;
    try {
      for await (const chunk of this.options.params.Body as AsyncIterable<Buffer>) {
        let at = 0;
        while (at < chunk.length) {
          const n = Math.min(chunk.length - at, buffer.length - filled);
          chunk.copy(buffer, filled, at, at + n);
          filled += n;
          at += n;
          if (filled === buffer.length) {
            partNumber += 1;
            await this.slotForPart();
            this.sendPart(partNumber, buffer, filled);
            buffer = await this.takeBuffer();
            filled = 0;
          }
        }
        this.options.onChunkCopied?.(chunk);
      }
    } catch (error) {
      this.fail(error);
    }
    this.throwIfFailed();
    if (partNumber === 0) return this.putWhole(buffer.subarray(0, filled));
    if (filled > 0) this.sendPart(partNumber + 1, buffer, filled);
    await this.drainInFlight();
    this.throwIfFailed();
    await this.complete();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }

  /** Waits until fewer than queueSize parts are in flight. */
  private async slotForPart(): Promise<void> {
    while (this.inFlight.size >= this.options.queueSize) {
      this.throwIfFailed();
      await Promise.race([...this.inFlight]);
    }
    this.throwIfFailed();
  }

  /** A free buffer: a returned one, a new one while the pool is not full, else waits for one to come back. */
  private async takeBuffer(): Promise<Buffer> {
    for (;;) {
      this.throwIfFailed();
      const reused = this.free.pop();
      if (reused) return reused;
      if (this.allocated < this.options.queueSize + 1) {
        this.allocated += 1;
        return Buffer.allocUnsafe(this.options.partSize);
      }
      await new Promise<void>((resolve) => {
        this.wakeFree = resolve;
      });
      this.wakeFree = undefined;
    }
  }

  private async putWhole(body: Buffer): Promise<void> {
    const { Body: _stream, ...rest } = this.options.params;
    await this.options.client.send(new PutObjectCommand({ ...rest, Body: body, ContentLength: body.length }));
  }

  private createUpload(): Promise<string> {
    const { Bucket, Key, ContentType, ServerSideEncryption, SSEKMSKeyId } = this.options.params;
    this.uploadId ??= this.options.client
      .send(new CreateMultipartUploadCommand({ Bucket, Key, ContentType, ServerSideEncryption, SSEKMSKeyId }))
      .then((output) => {
        if (!output.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
        return output.UploadId;
      });
    return this.uploadId;
  }

  /** Uploads one part from a pooled buffer, which goes back to the pool when the request settles. */
  private sendPart(partNumber: number, buffer: Buffer, length: number): void {
    const { Bucket, Key } = this.options.params;
    const sent = (async () => {
      try {
        const UploadId = await this.createUpload();
        const body = buffer.subarray(0, length);
        const output = await this.options.client.send(
          new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: partNumber, Body: body, ContentLength: length }),
        );
        this.parts.push({ PartNumber: partNumber, ETag: output.ETag });
      } catch (error) {
        this.fail(error);
      } finally {
        this.free.push(buffer);
        this.wakeFree?.();
      }
    })();
    this.inFlight.add(sent);
    void sent.then(() => this.inFlight.delete(sent));
  }

  private async drainInFlight(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private async complete(): Promise<void> {
    const { Bucket, Key } = this.options.params;
    const UploadId = await this.createUpload();
    const Parts = [...this.parts].sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    try {
      await this.options.client.send(
        new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts } }),
      );
    } catch (error) {
      this.fail(error);
      throw error;
    }
  }

  /** After a failure: once no part is in flight, aborts the multipart upload if one was created (best effort). */
  private async abortMultipart(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
    const id = await this.uploadId?.catch(() => undefined);
    if (id === undefined) return;
    const { Bucket, Key } = this.options.params;
    await this.options.client
      .send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId: id }))
      .catch(() => undefined);
  }
}
