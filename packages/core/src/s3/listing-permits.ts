/**
 * A counting semaphore for a partitioned listing: a request takes a permit with {@link acquire}, the page it yields
 * keeps it until the consumer takes the page ({@link release}). Waiters are served in order; {@link close} wakes
 * them all with false, and every later acquire answers false at once.
 * @internal
 */
export class ListingPermits {
  readonly #waiters: (() => void)[] = [];
  #free: number;
  #closed = false;

  constructor(count: number) {
    this.#free = count;
  }

  /** Permits free now. */
  get free(): number {
    return this.#free;
  }

  /** Takes a permit, waiting for one if none is free; false once closed. */
  async acquire(): Promise<boolean> {
    if (this.#closed) return false;
    if (this.#free > 0) {
      this.#free--;
      return true;
    }
    await new Promise<void>((resolve) => this.#waiters.push(resolve));
    return !this.#closed;
  }

  /** Hands the permit to the first waiter, or frees it. */
  release(): void {
    const next = this.#waiters.shift();
    if (next !== undefined) next();
    else this.#free++;
  }

  /** Wakes every waiter (their acquire answers false) and refuses every later acquire. Idempotent. */
  close(): void {
    this.#closed = true;
    for (const wake of this.#waiters.splice(0)) wake();
  }
}

/**
 * One waiter woken at most once: {@link wait} parks it (a later wait replaces an earlier one), {@link wake} resumes
 * it, if any.
 * @internal
 */
export class Wakeup {
  #waiter: (() => void) | undefined;

  wait(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#waiter = resolve;
    });
  }

  wake(): void {
    const wake = this.#waiter;
    this.#waiter = undefined;
    wake?.();
  }
}
