/**
 * Reads several data files at once but hands their batches over in file order, so a single (file, row) position
 * describes how far a run got. Each file being read may run at most a few batches ahead of the consumer: memory
 * stays bounded by `concurrency × AHEAD` batches. @internal
 */

import type { RowBatch } from './data-file.js';

/** Batches a file may have read ahead of the consumer. */
const AHEAD = 4;

/** A batch and where it came from; `first`/`final` say whether it opens or closes its file. */
export interface FileBatch {
  readonly file: number;
  readonly batch: RowBatch;
  readonly first: boolean;
  readonly final: boolean;
}

interface Waiter {
  promise: Promise<void>;
  resolve: () => void;
}

function waiter(): Waiter {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Pumps one file's batches into a small buffer, pausing while it is full. */
class FilePump {
  readonly batches: RowBatch[] = [];
  done = false;
  handed = 0;
  private closed = false;
  private space: Waiter | undefined;

  constructor(
    batches: AsyncGenerator<RowBatch>,
    private readonly changed: () => void,
    private readonly failed: (error: unknown) => void,
  ) {
    void this.run(batches);
  }

  private async run(batches: AsyncGenerator<RowBatch>): Promise<void> {
    try {
      for await (const batch of batches) {
        if (this.closed) break;
        this.batches.push(batch);
        this.changed();
        while (this.batches.length >= AHEAD && !this.closed) {
          this.space = waiter();
          await this.space.promise;
        }
        if (this.closed) break;
      }
    } catch (error) {
      if (!this.closed) this.failed(error);
    } finally {
      this.done = true;
      this.changed();
    }
  }

  take(): RowBatch | undefined {
    const batch = this.batches.shift();
    if (batch !== undefined) this.handed++;
    this.space?.resolve();
    return batch;
  }

  close(): void {
    this.closed = true;
    this.space?.resolve();
  }
}

/**
 * Yields the batches of files `from`, `from + 1`, … `count - 1` in order, reading up to `concurrency` files at once.
 * The first failure of any file fails the iteration at the consumer's next pull. Returning early closes every pump
 * (the caller aborts the signal their reads use).
 */
export async function* orderedFileBatches(
  from: number,
  count: number,
  concurrency: number,
  open: (file: number) => AsyncGenerator<RowBatch>,
): AsyncGenerator<FileBatch> {
  const pumps = new Map<number, FilePump>();
  let change = waiter();
  let failure: { error: unknown } | undefined;
  const changed = (): void => change.resolve();
  const failed = (error: unknown): void => {
    failure ??= { error };
    changed();
  };
  let next = from;
  const startMore = (current: number): void => {
    while (next < count && next < current + concurrency) {
      pumps.set(next, new FilePump(open(next), changed, failed));
      next++;
    }
  };
  try {
    for (let file = from; file < count; file++) {
      startMore(file);
      const pump = pumps.get(file) as FilePump;
      for (;;) {
        if (failure !== undefined) throw failure.error;
        const first = pump.handed === 0;
        const batch = pump.take();
        if (batch !== undefined) {
          yield { file, batch, first, final: pump.done && pump.batches.length === 0 };
          continue;
        }
        if (pump.done) break;
        await change.promise;
        change = waiter();
      }
      pumps.delete(file);
    }
  } finally {
    for (const pump of pumps.values()) pump.close();
  }
}
