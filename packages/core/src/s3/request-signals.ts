/**
 * Cancels a group of concurrent requests together, each through an AbortSignal of its own.
 *
 * The AWS SDK adds an `abort` listener to the signal of every request it sends (its retry loop, and its HTTP
 * handler, each add one) and removes them when the request settles. Requests in flight on one shared signal
 * therefore pile their listeners onto it: past Node's limit of 10 it prints `MaxListenersExceededWarning`
 * (a listing at concurrency 16 holds 32). One signal per request keeps every signal at the SDK's one or two
 * listeners, whatever the concurrency; the group holds a request's controller only while that request runs
 * (for a streamed answer, until its body is read: see {@link hold}).
 * @internal
 */
export class RequestSignals {
  private readonly running = new Set<AbortController>();
  private abortedWith: { reason: unknown } | undefined;

  /** True once {@link abort} was called. */
  get aborted(): boolean {
    return this.abortedWith !== undefined;
  }

  /** The reason given to {@link abort}. */
  get reason(): unknown {
    return this.abortedWith?.reason;
  }

  /** Aborts every request running and every later one. Idempotent. */
  abort(reason?: unknown): void {
    if (this.abortedWith !== undefined) return;
    this.abortedWith = { reason };
    for (const controller of this.running) controller.abort(reason);
    this.running.clear();
  }

  /** Runs `request` with a signal of its own, aborted with the group (already aborted if the group is). */
  async run<T>(request: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const held = this.hold();
    try {
      return await request(held.signal);
    } finally {
      held.release();
    }
  }

  /**
   * A signal of its own for a request whose answer is read after `send` resolves (a streamed body, which the SDK
   * still cancels through the signal): aborted with the group until `release` is called, which the reader must do
   * however it ends.
   */
  hold(): HeldSignal {
    const controller = new AbortController();
    if (this.abortedWith !== undefined) controller.abort(this.abortedWith.reason);
    else this.running.add(controller);
    return {
      signal: controller.signal,
      release: () => {
        this.running.delete(controller);
      },
    };
  }
}

/** A request's own signal from {@link RequestSignals.hold}. @internal */
export interface HeldSignal {
  readonly signal: AbortSignal;
  /** Stops aborting the signal with the group; idempotent. */
  release(): void;
}
