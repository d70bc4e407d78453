/**
 * What the range, delimiter and auto-partitioned listings share: the page semaphore, the consumer's waiter, the
 * cancellation of every request in flight, and the loop that hands their pages to the pipeline.
 * @internal
 */
import { abortError } from '../errors.js';
import type { KeyPage } from '../types.js';
import { ListingPermits, Wakeup } from './listing-permits.js';
import { RequestSignals } from './request-signals.js';

/**
 * A listing whose requests run concurrently and whose pages wait, each holding a permit, until the consumer takes
 * them. Subclasses list (taking a permit before each request) and say when they are done and which page is next.
 * @internal
 */
export abstract class ConcurrentListing<Page extends KeyPage> {
  protected readonly requests = new RequestSignals();
  protected readonly permits: ListingPermits;
  protected readonly consumer = new Wakeup();
  protected stopped = false;
  failure: { readonly error: unknown } | undefined;

  constructor(protected readonly concurrency: number) {
    this.permits = new ListingPermits(concurrency);
  }

  /** True when everything has been listed and every page taken. */
  abstract get done(): boolean;

  /** The next page that arrived, or undefined; taking it frees its permit for the next request. */
  abstract take(): Page | undefined;

  /** Resolves when a page arrives, a part of the listing ends, or the listing fails. */
  changed(): Promise<void> {
    return this.consumer.wait();
  }

  /** Records the first failure and stops the listing. */
  fail(error: unknown): void {
    if (this.stopped) return;
    this.failure = { error };
    this.stop(error);
  }

  /** True once the listing was stopped (failed, aborted, or halted at a deadline). */
  get halted(): boolean {
    return this.stopped;
  }

  /** Cancels every request in flight and releases everything waiting. Idempotent. */
  stop(reason: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    this.requests.abort(reason);
    this.permits.close();
    this.onStop();
    this.consumer.wake();
  }

  /** Wakes whatever else a subclass parks while the listing runs. */
  protected onStop(): void {}
}

/**
 * Yields the pages of a listing as they arrive, after `start` begins it; with `markLast`, the page taken when the
 * listing is done carries `last: true`. The first failure (a request error, or an abort of `signal`) is thrown at
 * once and cancels every request in flight; so does the consumer stopping early. When `deadline` aborts, the
 * listing stops (its requests in flight are cancelled), yields the pages it already holds, and ends.
 * @internal
 */
export async function* listingPages<Page extends KeyPage>(
  listing: ConcurrentListing<Page>,
  start: () => void,
  signal: AbortSignal | undefined,
  markLast: boolean,
  deadline?: AbortSignal,
): AsyncGenerator<Page> {
  if (signal?.aborted) throw abortError(signal.reason);
  const onAbort = (): void => listing.fail(abortError(signal?.reason));
  const onDeadline = (): void => listing.stop(deadline?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  deadline?.addEventListener('abort', onDeadline, { once: true });
  try {
    if (deadline?.aborted) onDeadline();
    start();
    for (;;) {
      if (listing.failure !== undefined) throw listing.failure.error;
      const page = listing.take();
      if (page !== undefined) {
        yield markLast && listing.done ? { ...page, last: true } : page;
        continue;
      }
      if (listing.done || listing.halted) return;
      await listing.changed();
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    deadline?.removeEventListener('abort', onDeadline);
    listing.stop(abortError(new Error('the listing was stopped')));
  }
}
