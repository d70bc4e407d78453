import { LineBuffer } from './jsonl.js';

/**
 * Two reused line buffers: the active one fills while the other one's bytes are written, so encoding and writing
 * overlap and memory stays at two buffers. The first failed write is kept and thrown by every later {@link rotate}.
 * @internal
 */
export class DoubleBuffer {
  readonly #size: number;
  readonly #write: (bytes: Buffer, length: number) => Promise<void>;
  #active: LineBuffer | undefined;
  #spare: LineBuffer | undefined;
  #inFlight: Promise<void> | undefined;
  #failure: unknown;

  /** @param write writes the first `length` bytes of a full buffer; the buffer is reused once it settles. */
  constructor(size: number, write: (bytes: Buffer, length: number) => Promise<void>) {
    this.#size = size;
    this.#write = write;
  }

  /** The first error a buffer's write failed with, or undefined. */
  get failure(): unknown {
    return this.#failure;
  }

  /** The write in progress, if any; it never rejects (its error becomes {@link failure}). */
  get inFlight(): Promise<void> | undefined {
    return this.#inFlight;
  }

  /** The buffer lines are encoded into now, made on first use. */
  buffer(): LineBuffer {
    this.#active ??= new LineBuffer(this.#size);
    return this.#active;
  }

  /** Starts writing the active buffer and switches to the spare one, waiting for it to be free first. */
  async rotate(): Promise<void> {
    if (this.#inFlight !== undefined) await this.#inFlight;
    if (this.#failure !== undefined) throw this.#failure;
    const full = this.#active;
    if (full === undefined || full.length === 0) return;
    const next = this.#spare ?? new LineBuffer(this.#size);
    next.length = 0;
    this.#active = next;
    this.#spare = full;
    this.#inFlight = this.#write(full.bytes, full.length).then(
      () => {
        this.#inFlight = undefined;
      },
      (error: unknown) => {
        this.#inFlight = undefined;
        this.#failure ??= error;
      },
    );
  }

  /** Lets both buffers go (after close or abort). */
  release(): void {
    this.#active = undefined;
    this.#spare = undefined;
  }
}
