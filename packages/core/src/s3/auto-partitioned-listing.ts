/**
 * Auto-partitioned listing, for `s3ListSource({ partitions: { by: 'auto' } })`: lists a prefix through `concurrency`
 * cursors with no hint about its keys, and can say at any page boundary which keys it has not handed over yet.
 *
 * The key space is a set of disjoint ranges (after, last], each listed by one cursor in key order. The first
 * cursor lists from the start; when its first page shows more, the rest of its range is cut into `concurrency`
 * ranges at points a {@link KeySpaceModel} estimates from the keys seen. Whenever fewer than `concurrency` cursors
 * are left (a range ran out early), the range with the most keys left (estimated from the density of its last page)
 * is cut in two, past where its request in flight will end, as long as it holds enough pages to pay for the extra
 * request a cut costs. A cursor stops at the first key past its range, so every key is listed by exactly one cursor.
 *
 * For resuming, each range remembers the last key of the last page the pipeline *took*: the ranges from there on
 * are what a later run must list (see {@link encodeResumeToken}).
 * @internal
 */
import type { KeyPage, KeySource, KeySourceContext } from '../types.js';
import { ConcurrentListing, listingPages } from './concurrent-listing.js';
import { KeySpaceModel } from './key-space-model.js';
import { listPageCommand, readListAnswer } from './list-objects.js';
import type { ListPage } from './list-objects.js';
import { compareKeys, selectKeys } from './partitioned-listing.js';
import type { ListingSettings } from './partitioned-listing.js';
import { encodeResumeToken } from './resume-token.js';
import type { KeyRange } from './resume-token.js';

/** A range is cut only when it holds at least this many pages more than its request in flight. */
const MIN_PAGES_TO_SPLIT = 3;
/** A range is cut into parts of at least this many pages (estimated). */
const MIN_PAGES_PER_RANGE = 1.5;
/** Characters of range bounds the listing keeps at most, so its resume token stays well within 4 KB. */
const TOKEN_BUDGET_CHARS = 2400;

interface Cursor {
  readonly after: string | undefined;
  /** The greatest key it owns; shrinks when the range is cut. */
  last: string | undefined;
  /** The last key listed in its range so far. */
  listed: string | undefined;
  /** The last key of the last page the consumer took. */
  handed: string | undefined;
  continuationToken: string | undefined;
  /** Requests sent so far. */
  pages: number;
  listing: boolean;
  inFlight: boolean;
  /** Pages produced and not taken yet. */
  waiting: number;
  /** Value span per key on its last page (0 when unknown), and the span of that page. */
  spanPerKey: number;
  pageSpan: number;
}

function sharedLength(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/** A page with the ranges left once the consumer has taken it. */
export interface AutoPage extends KeyPage {
  /** The remaining ranges after this page, captured when it was taken. @internal */
  remaining?: KeyRange[];
}

/** @internal */
export class AutoPartitionedListing extends ConcurrentListing<AutoPage> {
  private readonly ready: { page: AutoPage; cursor: Cursor; key: string | undefined }[] = [];
  private readonly cursors: Cursor[] = [];
  private readonly model: KeySpaceModel;
  private firstPageSeen = false;
  private longestKey = 0;

  constructor(
    private readonly settings: ListingSettings & { readonly prefix: string },
    concurrency: number,
  ) {
    super(concurrency);
    this.model = new KeySpaceModel(settings.prefix);
  }

  /** Starts one cursor per range (a fresh listing is one range with no ends). */
  start(ranges: readonly KeyRange[]): void {
    // A fresh listing fans out on its first page; a resumed one already has its ranges.
    this.firstPageSeen = ranges.length !== 1 || ranges[0]?.last !== undefined;
    for (const range of ranges) this.open(range.after, range.last);
    this.consumer.wake();
  }

  get done(): boolean {
    return this.ready.length === 0 && this.cursors.every((cursor) => !cursor.listing);
  }

  /** The next page, with the ranges left once it is taken; frees its permit. */
  take(): AutoPage | undefined {
    const entry = this.ready.shift();
    if (entry === undefined) return undefined;
    entry.cursor.waiting--;
    if (entry.key !== undefined) entry.cursor.handed = entry.key;
    entry.page.remaining = this.remaining();
    this.permits.release();
    return entry.page;
  }

  /** The ranges whose keys were not all handed over yet, in key order. */
  remaining(): KeyRange[] {
    const live = this.cursors.filter((cursor) => cursor.listing || cursor.waiting > 0);
    if (live.length < this.cursors.length) this.cursors.splice(0, this.cursors.length, ...live);
    live.sort((a, b) => (a.after === undefined ? -1 : b.after === undefined ? 1 : compareKeys(a.after, b.after)));
    // A range whose keys were all handed over, up to its last, holds nothing more: a token never carries (k, k].
    return live
      .map((cursor) => ({ after: cursor.handed ?? cursor.after, last: cursor.last }))
      .filter(
        (range) => range.after === undefined || range.last === undefined || compareKeys(range.after, range.last) < 0,
      );
  }

  private open(after: string | undefined, last: string | undefined): void {
    const cursor: Cursor = {
      after,
      last,
      listed: undefined,
      handed: undefined,
      continuationToken: undefined,
      pages: 0,
      listing: true,
      inFlight: false,
      waiting: 0,
      spanPerKey: 0,
      pageSpan: 0,
    };
    this.cursors.push(cursor);
    // `listing` turns false only when the range is finished: a cursor stopped at a deadline still owns the rest.
    this.list(cursor).then(
      () => {
        this.rebalance();
        this.consumer.wake();
      },
      (error: unknown) => this.fail(error),
    );
  }

  /**
   * Lists a cursor's range page by page. Each page is requested and handed over in a call of its own: a suspended
   * async function keeps every value its frame ever held, so a loop doing that work here would hold the last
   * answer (a thousand parsed objects) through the next request, and V8 would move each answer to its old
   * generation at every minor collection.
   */
  private async list(cursor: Cursor): Promise<void> {
    while (await this.permits.acquire()) {
      if (!(await this.listPage(cursor))) return;
    }
  }

  /** Requests the cursor's next page and hands it over; false once its range is finished or the listing stopped. */
  private async listPage(cursor: Cursor): Promise<boolean> {
    const { client, bucket, pageSize, prefix } = this.settings;
    const { command, request } = listPageCommand({
      bucket,
      prefix,
      pageSize,
      page: ++cursor.pages,
      continuationToken: cursor.continuationToken,
      startAfter: cursor.after,
    });
    cursor.inFlight = true;
    const answer = await this.requests.run((abortSignal) => client.send(command, { abortSignal }));
    cursor.inFlight = false;
    if (this.stopped) return false;
    return this.receive(cursor, readListAnswer(answer, request));
  }

  /** Takes in one answer of a cursor's range; false when it ends the range. */
  private receive(cursor: Cursor, output: ListPage): boolean {
    const { keys, cursor: lastListed, beyond } = selectKeys(output.Contents, this.settings, cursor.last);
    const listedKeys = (output.Contents ?? [])
      .map((object) => object.Key)
      .filter((key): key is string => key !== undefined);
    this.learn(cursor, listedKeys);
    if (lastListed !== undefined) cursor.listed = lastListed;
    // A page that ends on the range's last key (a cut point can be a real key) ends the range, though S3 says
    // more keys follow: they are another range's.
    const reachedLast =
      lastListed !== undefined && cursor.last !== undefined && compareKeys(lastListed, cursor.last) >= 0;
    const ends = beyond || reachedLast || !output.IsTruncated;
    if (ends) cursor.listing = false;
    cursor.waiting++;
    this.ready.push({ page: { bucket: this.settings.bucket, keys }, cursor, key: lastListed });
    if (!ends) {
      cursor.continuationToken = output.NextContinuationToken;
      this.afterPage(cursor);
    }
    this.consumer.wake();
    return !ends;
  }

  /** Updates the model and the cursor's density from the keys a response listed. */
  private learn(cursor: Cursor, listed: readonly string[]): void {
    if (listed.length === 0) return;
    for (const key of listed) if (key.length > this.longestKey) this.longestKey = key.length;
    this.model.observe(listed);
    const first = this.model.value(listed[0], 'lower');
    const last = this.model.value(listed[listed.length - 1], 'lower');
    cursor.pageSpan = Math.max(last - first, 0);
    cursor.spanPerKey = listed.length > 1 ? cursor.pageSpan / (listed.length - 1) : 0;
  }

  private afterPage(cursor: Cursor): void {
    if (!this.firstPageSeen) {
      this.firstPageSeen = true;
      let parts = this.concurrency;
      while (parts > 2 && !this.tokenRoomFor(parts - 1)) parts--;
      if (parts >= 2 && this.tokenRoomFor(1)) this.split(cursor, parts);
      return;
    }
    this.rebalance();
  }

  /** While fewer than `concurrency` cursors list, cuts the range with the most pages left in two. */
  private rebalance(): void {
    if (this.stopped || !this.firstPageSeen) return;
    for (;;) {
      const listing = this.cursors.filter((cursor) => cursor.listing);
      if (listing.length >= this.concurrency) return;
      let best: Cursor | undefined;
      let bestPages = MIN_PAGES_TO_SPLIT;
      for (const cursor of listing) {
        const pages = this.pagesLeft(cursor);
        if (pages >= bestPages) {
          best = cursor;
          bestPages = pages;
        }
      }
      if (best === undefined || !this.tokenRoomFor(2)) return;
      const parts = Math.min(this.concurrency - listing.length + 1, Math.floor(bestPages / MIN_PAGES_PER_RANGE));
      if (!this.split(best, Math.max(parts, 2))) return;
    }
  }

  /**
   * Whether `extra` more ranges keep the resume token within its budget. The token front-codes its bounds (each
   * stored as what it does not share with the one before), so the sizes counted are those suffixes; a new range
   * adds two bounds, each at most the longest key seen past the prefix every key shares.
   */
  private tokenRoomFor(extra: number): boolean {
    let size = 0;
    let previous = '';
    for (const range of this.remaining()) {
      for (const bound of [range.after, range.last]) {
        if (bound === undefined) continue;
        size += bound.length - sharedLength(previous, bound) + 4;
        previous = bound;
      }
    }
    const perBound = this.longestKey - this.model.baseLength + 4;
    return size + 2 * extra * perBound <= TOKEN_BUDGET_CHARS;
  }

  /**
   * Estimated pages left in a cursor's range past its request in flight; 0 when unknown. A range reaching past
   * the keys the model describes (see {@link pastBaseOf}) holds an unknown number more: it counts as worth a cut.
   */
  private pagesLeft(cursor: Cursor): number {
    if (cursor.spanPerKey <= 0 || cursor.listed === undefined) return 0;
    const from = this.model.value(cursor.listed, 'lower') + (cursor.inFlight ? cursor.pageSpan : 0);
    const to = this.model.value(cursor.last, 'upper');
    const pages = Math.max(to - from, 0) / cursor.spanPerKey / this.settings.pageSize;
    return this.pastBaseOf(cursor) === undefined ? pages : Math.max(pages, MIN_PAGES_TO_SPLIT);
  }

  /**
   * The model's {@link KeySpaceModel.pastBase} point when it lies inside the rest of a cursor's range: the model
   * learned its base from the keys seen so far (after one page of a fresh listing, a prefix such as `00` that only
   * the first thousand keys share), so it places every cut below that point and would leave all the keys past it
   * (nearly all of them, on a fresh listing) to this one cursor. Cutting there too hands them to a cursor of their
   * own, whose first page shows the model what they look like.
   */
  private pastBaseOf(cursor: Cursor): string | undefined {
    const point = this.model.pastBase();
    if (point === undefined) return undefined;
    const floorKey = cursor.listed ?? cursor.after;
    if (floorKey !== undefined && compareKeys(point, floorKey) <= 0) return undefined;
    if (cursor.last !== undefined && compareKeys(point, cursor.last) >= 0) return undefined;
    return point;
  }

  /** Cuts the rest of a cursor's range into up to `parts` ranges and starts a cursor on each new one. */
  private split(cursor: Cursor, parts: number): boolean {
    const floorKey = cursor.listed ?? cursor.after;
    const pastBase = this.pastBaseOf(cursor);
    const points = this.modelPoints(cursor, floorKey, pastBase === undefined ? parts : parts - 1);
    if (pastBase !== undefined) points.push(pastBase);
    if (points.length === 0) return false;
    const end = cursor.last;
    cursor.last = points[0];
    for (let i = 0; i < points.length; i++) this.open(points[i], points[i + 1] ?? end);
    return true;
  }

  /**
   * Points that cut the rest of a cursor's range into up to `parts` ranges of about equal value, in key order, each
   * estimated (from the density of the cursor's last page) to hold at least {@link MIN_PAGES_PER_RANGE} pages: a range
   * cut finer costs a request for a page of few keys or none (and a run cut by its deadline may hand on only those).
   */
  private modelPoints(cursor: Cursor, floorKey: string | undefined, wanted: number): string[] {
    const from = this.model.value(floorKey, 'lower') + (cursor.inFlight ? cursor.pageSpan : 0);
    const to = this.model.value(cursor.last, 'upper');
    const points: string[] = [];
    if (!(to > from)) return points;
    const pages = cursor.spanPerKey > 0 ? (to - from) / cursor.spanPerKey / this.settings.pageSize : wanted;
    const parts = Math.min(wanted, Math.floor(pages / MIN_PAGES_PER_RANGE));
    for (let i = 1; i < parts; i++) {
      const point = this.model.keyAt(from + ((to - from) * i) / parts);
      if (point === undefined) continue;
      const previous = points[points.length - 1] ?? floorKey;
      if (previous !== undefined && compareKeys(point, previous) <= 0) continue;
      if (cursor.last !== undefined && compareKeys(point, cursor.last) >= 0) continue;
      points.push(point);
    }
    return points;
  }
}

/**
 * Yields the pages of an auto-partitioned listing of `ranges` as they arrive; each page carries the ranges left
 * once it is taken. Failures and aborts behave as in the other partitioned listings.
 * @internal
 */
export function autoPartitionedPages(
  settings: ListingSettings & { readonly prefix: string },
  ranges: readonly KeyRange[],
  concurrency: number,
  signal: AbortSignal | undefined,
  deadline?: AbortSignal,
): AsyncGenerator<AutoPage> {
  const listing = new AutoPartitionedListing(settings, concurrency);
  return listingPages(listing, () => listing.start(ranges), signal, true, deadline);
}

/**
 * The key source of an auto-partitioned listing of `ranges`: its pages, and the resume token for a cut after any
 * page the pipeline took (or, before any, the ranges it started from).
 * @internal
 */
export function autoListSource(
  settings: ListingSettings & { readonly prefix: string },
  ranges: readonly KeyRange[],
  concurrency: number,
): KeySource {
  const { bucket, prefix } = settings;
  return {
    bucket,
    pages: (context: KeySourceContext) =>
      autoPartitionedPages(settings, ranges, concurrency, context?.signal, context?.deadline),
    drainsAtDeadline: true,
    resumeToken(page?: KeyPage): string {
      const remaining = page === undefined ? ranges : (page as AutoPage).remaining;
      if (remaining === undefined) {
        throw new TypeError('s3ListSource: resumeToken(page) takes a page this source yielded');
      }
      return encodeResumeToken(bucket, prefix, remaining);
    },
  };
}
