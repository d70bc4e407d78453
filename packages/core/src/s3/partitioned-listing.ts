/**
 * Concurrent listing of independent slices of a prefix, for `s3ListSource({ partitions })`.
 * @internal
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { KeyFilter } from '../sources/filters.js';
import type { KeyPage } from '../types.js';
import { listPageCommand, readListAnswer } from './list-objects.js';
import { ConcurrentListing, listingPages } from './concurrent-listing.js';
import { Wakeup } from './listing-permits.js';

/**
 * Compares two keys in the order S3 lists them: by their UTF-8 bytes, which is code point order. JavaScript's `<`
 * compares UTF-16 code units instead, and the two disagree when a character above U+FFFF (a surrogate pair) meets one
 * in U+E000..U+FFFF. Returns a negative number, zero or a positive number.
 * @internal
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Moves surrogates (which stand for code points above U+FFFF) past U+E000..U+FFFF, giving code point order. */
function codePointRank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}

/** One independent slice of a listing. @internal */
export interface ListPartition {
  /** The ListObjectsV2 `Prefix` it lists. */
  readonly prefix: string;
  /** `StartAfter` of its first request: it owns only keys greater than this one. */
  readonly startAfter?: string;
  /** The greatest key it owns, in S3's order; the listing stops at the first key past it. Absent: no upper end. */
  readonly last?: string;
}

/**
 * Cuts a prefix into key ranges at `boundaries` (strictly increasing in S3's order): n boundaries give n + 1
 * partitions, (−∞, b0], (b0, b1], …, (bn−1, +∞), all under `prefix`. Each key has exactly one range, a boundary
 * key included (it closes the range below it), because `StartAfter` is exclusive and the previous range stops only
 * after its boundary.
 * @internal
 */
export function rangePartitions(prefix: string, boundaries: readonly string[]): ListPartition[] {
  const partitions: ListPartition[] = [];
  for (let i = 0; i <= boundaries.length; i++) {
    const startAfter = i > 0 ? boundaries[i - 1] : undefined;
    const last = i < boundaries.length ? boundaries[i] : undefined;
    partitions.push({
      prefix,
      ...(startAfter === undefined ? {} : { startAfter }),
      ...(last === undefined ? {} : { last }),
    });
  }
  return partitions;
}

/** What every partition of one listing shares. @internal */
export interface ListingSettings {
  readonly client: S3Client;
  readonly bucket: string;
  readonly pageSize: number;
  readonly filter: KeyFilter | undefined;
  readonly includeDirectoryMarkers: boolean;
}

/** The keys of one response that a page keeps. @internal */
export interface SelectedKeys {
  /** Keys kept, after the directory-marker rule and the filter. */
  readonly keys: string[];
  /** The last key listed within the partition (before filtering). */
  readonly cursor: string | undefined;
  /** True when the response reached past the partition's `last` key: the partition is complete. */
  readonly beyond: boolean;
}

/** Applies the directory-marker rule, the filter and the partition's upper end to one response. @internal */
export function selectKeys(
  contents: readonly { readonly Key?: string | undefined; readonly Size?: number | undefined }[] | undefined,
  settings: Pick<ListingSettings, 'filter' | 'includeDirectoryMarkers'>,
  last?: string,
): SelectedKeys {
  const { filter, includeDirectoryMarkers } = settings;
  const keys: string[] = [];
  let cursor: string | undefined;
  let beyond = false;
  for (const object of contents ?? []) {
    const key = object.Key;
    if (key === undefined) continue;
    if (last !== undefined && compareKeys(key, last) > 0) {
      beyond = true;
      break;
    }
    cursor = key;
    if (!includeDirectoryMarkers && key.endsWith('/') && (object.Size ?? 0) === 0) continue;
    if (filter && !filter(key)) continue;
    keys.push(key);
  }
  return { keys, cursor, beyond };
}

/** Common prefixes discovered but not yet listed before the delimiter listing pauses (bounded memory). */
const MAX_PENDING_PARTITIONS = 1000;

/** How to split the prefix. @internal */
export type PartitionPlan =
  | { readonly by: 'range'; readonly partitions: readonly ListPartition[] }
  | { readonly by: 'delimiter'; readonly prefix: string; readonly delimiter: string };

/**
 * Runs the partitions of one listing. A semaphore of `concurrency` permits bounds the pages in flight or waiting
 * to be taken: a partition takes a permit before each request and the page keeps it until the consumer takes the
 * page. So at most `concurrency` requests run at once and at most `concurrency` pages wait in memory.
 */
class PartitionedListing extends ConcurrentListing<KeyPage> {
  private readonly ready: KeyPage[] = [];
  private readonly pending: ListPartition[] = [];
  private active = 0;
  private rootRunning = false;
  private readonly root = new Wakeup();

  constructor(
    private readonly settings: ListingSettings,
    concurrency: number,
  ) {
    super(concurrency);
  }

  start(plan: PartitionPlan): void {
    if (plan.by === 'range') {
      this.pending.push(...plan.partitions);
    } else {
      this.rootRunning = true;
      this.list({ prefix: plan.prefix }, plan.delimiter).then(
        () => {
          this.rootRunning = false;
          this.consumer.wake();
        },
        (error: unknown) => this.fail(error),
      );
    }
    this.pump();
  }

  /** True when every partition has been listed and every page taken. */
  get done(): boolean {
    return !this.rootRunning && this.active === 0 && this.pending.length === 0 && this.ready.length === 0;
  }

  /** The next page that arrived, or undefined; taking it frees its permit for the next request. */
  take(): KeyPage | undefined {
    const page = this.ready.shift();
    if (page !== undefined) this.permits.release();
    return page;
  }

  /** The delimiter listing may be parked waiting for room in `pending`. */
  protected override onStop(): void {
    this.root.wake();
  }

  private pump(): void {
    while (!this.stopped && this.active < this.concurrency && this.pending.length > 0) {
      const partition = this.pending.shift() as ListPartition;
      this.active++;
      this.list(partition).then(
        () => {
          this.active--;
          this.pump();
          this.consumer.wake();
        },
        (error: unknown) => this.fail(error),
      );
    }
    if (this.pending.length < MAX_PENDING_PARTITIONS) this.root.wake();
  }

  /**
   * Lists one partition to its end; with `delimiter`, it is the listing that discovers the other partitions. Each
   * page is requested and handed over in a call of its own, so this suspended frame holds no answer through the
   * next request (see the auto-partitioned listing).
   */
  private async list(partition: ListPartition, delimiter?: string): Promise<void> {
    const label =
      delimiter === undefined ? JSON.stringify(partition.prefix) : `${JSON.stringify(partition.prefix)} (by delimiter)`;
    let continuationToken: string | undefined;
    let page = 0;
    for (;;) {
      while (delimiter !== undefined && this.pending.length >= MAX_PENDING_PARTITIONS && !this.stopped) {
        await this.root.wait();
      }
      if (!(await this.permits.acquire())) return;
      page++;
      const next = await this.listPage(partition, { page, continuationToken, delimiter, label });
      if (next === undefined) return;
      continuationToken = next;
    }
  }

  /** Requests one page of a partition and hands it over; the next page's token, or undefined when it was the last. */
  private async listPage(
    partition: ListPartition,
    at: { page: number; continuationToken: string | undefined; delimiter: string | undefined; label: string },
  ): Promise<string | undefined> {
    const { client, bucket, pageSize } = this.settings;
    const { command, request } = listPageCommand({
      bucket,
      prefix: partition.prefix,
      pageSize,
      page: at.page,
      continuationToken: at.continuationToken,
      startAfter: partition.startAfter,
      delimiter: at.delimiter,
      partition: at.label,
    });
    const answer = await this.requests.run((abortSignal) => client.send(command, { abortSignal }));
    if (this.stopped) return undefined;
    const output = readListAnswer(answer, request);

    const { keys, beyond } = selectKeys(output.Contents, this.settings, partition.last);
    if (at.delimiter !== undefined) {
      for (const common of output.CommonPrefixes ?? []) {
        if (common.Prefix !== undefined) this.pending.push({ prefix: common.Prefix });
      }
      this.pump();
    }
    // Partitioned pages carry no cursor: no single key says how far a concurrent listing got.
    this.ready.push({ bucket, keys });
    this.consumer.wake();
    return beyond || !output.IsTruncated ? undefined : output.NextContinuationToken;
  }
}

/**
 * Yields the pages of all partitions as they arrive, each page from one partition with its keys in listing order.
 * The first failure (a request error, or an abort of `signal`) is thrown at once and cancels every request in
 * flight; so does the consumer stopping early.
 * @internal
 */
export function partitionedPages(
  settings: ListingSettings,
  plan: PartitionPlan,
  concurrency: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<KeyPage> {
  const listing = new PartitionedListing(settings, concurrency);
  return listingPages(listing, () => listing.start(plan), signal, false);
}
