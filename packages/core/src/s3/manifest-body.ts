import { PassThrough } from 'node:stream';
import { LineBuffer, type LineSink } from '../manifest/jsonl.js';

const MIB = 1024 * 1024;
/** Chunks the stream between `write` and the upload may buffer before `write` waits for it to drain. */
const STREAM_CHUNKS = 1;
/**
 * Lines are encoded straight into chunks of this size, each handed to the upload once full and reused once the
 * upload has copied it into a part ({@link ManifestBody.release}). A fresh 1 MiB chunk per MiB of manifest was
 * external memory V8 freed only at its next collection: tens of megabytes of spent chunks at the peak.
 */
const CHUNK_SIZE = MIB;

/**
 * The manifest's bytes on their way to the upload: lines are encoded into a chunk, a full chunk goes into
 * {@link stream} (the upload's body), and a writer waits while the stream is full, until it drains or {@link wake}
 * is called with the error that ends the wait.
 * @internal
 */
export class ManifestBody {
  /** The upload reads the manifest from here. */
  readonly stream: PassThrough;
  /** Where `writeLines` encodes a batch. */
  readonly sink: LineSink;
  readonly #assertWritable: () => void;
  /** The chunk lines are being encoded into; handed to the stream when full, or at {@link pushChunk}. */
  #chunk: LineBuffer | undefined;
  /** Chunks handed to the stream and not yet released, by their memory; and released ones, ready for reuse. */
  readonly #handedOver = new Map<ArrayBufferLike, LineBuffer>();
  readonly #free: LineBuffer[] = [];
  #allocated = 0;
  #bytes = 0;
  /** Wakes a `push` waiting for room. */
  #wakeWaiter: ((error: unknown) => void) | undefined;

  /** @param assertWritable throws when bytes may no longer be handed over (the upload failed or was aborted). */
  constructor(assertWritable: () => void) {
    this.#assertWritable = assertWritable;
    // Object mode: the upload reads each chunk as it was written (a byte stream may join buffered chunks into a
    // fresh copy), so it can hand the same chunk back.
    this.stream = new PassThrough({ objectMode: true, highWaterMark: STREAM_CHUNKS });
    // Stream errors surface through the upload; this listener only keeps them from being uncaught.
    this.stream.on('error', () => undefined);
    this.sink = {
      buffer: () => {
        this.#chunk ??= this.#free.pop() ?? this.#newChunk();
        return this.#chunk;
      },
      handOver: () => this.pushChunk(),
      writeLarge: (line) => this.push(line),
    };
  }

  /** Bytes handed to the stream so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Chunks allocated so far (for tests: bounded, however long the manifest). */
  get chunksAllocated(): number {
    return this.#allocated;
  }

  /**
   * Takes back bytes the upload read from {@link stream} and has copied: a chunk of ours goes back to be reused.
   * Anything else (a line too large for a chunk) is left alone.
   */
  release(bytes: Uint8Array): void {
    const chunk = this.#handedOver.get(bytes.buffer);
    if (chunk === undefined) return;
    this.#handedOver.delete(bytes.buffer);
    chunk.length = 0;
    this.#free.push(chunk);
  }

  #newChunk(): LineBuffer {
    this.#allocated++;
    return new LineBuffer(CHUNK_SIZE);
  }

  /** Hands bytes to the stream, waiting while it is full. */
  async push(bytesOut: Buffer): Promise<void> {
    this.#assertWritable();
    this.#bytes += bytesOut.length;
    if (!this.stream.write(bytesOut)) await this.#waitForRoom();
  }

  /** Hands the current chunk's lines to the stream. */
  async pushChunk(): Promise<void> {
    const full = this.#chunk;
    this.#chunk = undefined;
    if (full === undefined) return;
    if (full.length === 0) {
      this.#free.push(full);
      return;
    }
    this.#handedOver.set(full.bytes.buffer, full);
    await this.push(full.bytes.subarray(0, full.length));
  }

  /** Ends a wait for room with `error`, if a push is waiting. */
  wake(error: unknown): void {
    this.#wakeWaiter?.(error);
  }

  #waitForRoom(): Promise<void> {
    const target = this.stream;
    return new Promise<void>((resolve, reject) => {
      const done = (error?: unknown): void => {
        target.off('drain', onDrain);
        this.#wakeWaiter = undefined;
        if (error === undefined) resolve();
        else reject(error);
      };
      const onDrain = (): void => done();
      target.on('drain', onDrain);
      this.#wakeWaiter = (error) => done(error);
    });
  }
}
