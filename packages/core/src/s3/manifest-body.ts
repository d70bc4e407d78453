import { PassThrough } from 'node:stream';
import { LineBuffer, type LineSink } from '../manifest/jsonl.js';

const MIB = 1024 * 1024;
/** Bytes the stream between `write` and the upload may buffer before `write` waits for it to drain. */
const STREAM_BUFFER = MIB;
/**
 * Lines are encoded straight into chunks of this size, each handed to the upload once full. A fresh chunk each time:
 * the stream holds on to the ones the upload has not yet copied into a part.
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
  #bytes = 0;
  /** Wakes a `push` waiting for room. */
  #wakeWaiter: ((error: unknown) => void) | undefined;

  /** @param assertWritable throws when bytes may no longer be handed over (the upload failed or was aborted). */
  constructor(assertWritable: () => void) {
    this.#assertWritable = assertWritable;
    this.stream = new PassThrough({ highWaterMark: STREAM_BUFFER });
    // Stream errors surface through the upload; this listener only keeps them from being uncaught.
    this.stream.on('error', () => undefined);
    this.sink = {
      buffer: () => {
        this.#chunk ??= new LineBuffer(CHUNK_SIZE);
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
    if (full !== undefined && full.length > 0) await this.push(full.bytes.subarray(0, full.length));
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
