import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { s3ListSource } from '../../src/s3/s3-list-source.js';
import type { KeyPage } from '../../src/types.js';

// A listing suspended on its next request must not hold the previous answer: with many requests in flight, every
// answer held through a round trip outlives young-generation collections and fills the old generation. These tests
// hold a request open, collect garbage, and check that the answers handed over before it were freed.

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

interface HeldListing {
  readonly client: S3Client;
  /** One weak reference per answer given, and whether the answer was freed. */
  readonly answers: WeakRef<object>[];
  /** Resolves once `count` requests are waiting for an answer. */
  waitingFor(count: number): Promise<void>;
  /** Answers the requests held so far, and every later one at once. */
  releaseAll(): void;
}

/**
 * A client listing `total` keys (`k00000`…) in pages of `pageSize`, answering the first `answered` requests at once
 * and holding every later one until {@link HeldListing.releaseAll}.
 */
function heldListing(total: number, pageSize: number, answered: number): HeldListing {
  const keys = Array.from({ length: total }, (_, i) => `k${String(i).padStart(5, '0')}`);
  const answers: WeakRef<object>[] = [];
  const held: (() => void)[] = [];
  let sent = 0;
  let holding = true;
  let onWaiting: (() => void) | undefined;
  const answer = (input: { StartAfter?: string; ContinuationToken?: string; Prefix?: string }): object => {
    const after = input.ContinuationToken ?? input.StartAfter;
    const from = after === undefined ? 0 : keys.findIndex((key) => key > after);
    const start = from === -1 ? keys.length : from;
    const page = keys.slice(start, start + pageSize);
    const truncated = start + pageSize < keys.length;
    const output = {
      Name: 'b',
      Prefix: input.Prefix ?? '',
      IsTruncated: truncated,
      ...(truncated ? { NextContinuationToken: page[page.length - 1] } : {}),
      // Objects of their own, as a parser makes them: what an answer held by a suspended frame would keep alive.
      Contents: page.map((key) => ({ Key: key, Size: 10, Padding: new Array(64).fill(key) })),
    };
    answers.push(new WeakRef(output));
    return output;
  };
  const client = {
    send: (command: { input: { StartAfter?: string; ContinuationToken?: string; Prefix?: string } }) => {
      sent++;
      if (sent <= answered || !holding) return Promise.resolve(answer(command.input));
      return new Promise((resolve) => {
        held.push(() => resolve(answer(command.input)));
        onWaiting?.();
      });
    },
  } as unknown as S3Client;
  return {
    client,
    answers,
    waitingFor: (count) =>
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (held.length >= count) resolve();
        };
        onWaiting = check;
        check();
      }),
    releaseAll: () => {
      holding = false;
      for (const release of held.splice(0)) release();
    },
  };
}

/** Takes pages until `count` were taken, dropping each; returns the iterator to finish the listing with. */
async function takePages(iterator: AsyncIterator<KeyPage>, count: number): Promise<number> {
  let keys = 0;
  for (let i = 0; i < count; i++) {
    const next = await iterator.next();
    if (next.done) break;
    keys += next.value.keys.length;
  }
  return keys;
}

/**
 * Takes `taken` pages, asks for the next one (which sends the requests the listing needs), waits until `waiting`
 * requests are held, collects garbage, and says which answers given so far were freed. Returns the pending ask too.
 */
async function freedWhileWaiting(
  listing: HeldListing,
  iterator: AsyncIterator<KeyPage>,
  taken: number,
  waiting: number,
): Promise<{ freed: boolean[]; pending: Promise<unknown> }> {
  await takePages(iterator, taken);
  const pending = iterator.next();
  await listing.waitingFor(waiting);
  // Let every callback of the answers already given run, then collect.
  await new Promise((resolve) => setTimeout(resolve, 20));
  collectGarbage();
  return { freed: listing.answers.map((answer) => answer.deref() === undefined), pending };
}

async function drain(listing: HeldListing, iterator: AsyncIterator<KeyPage>, pending: Promise<unknown>): Promise<void> {
  listing.releaseAll();
  await pending;
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) {}
}

describe('a listing waiting on its next request holds no earlier answer', () => {
  it('sequential listing', async () => {
    // Prepare: page 1 is answered, page 2 is held.
    const listing = heldListing(300, 100, 1);
    const source = s3ListSource({ client: listing.client, bucket: 'b', pageSize: 100 });
    const iterator = source.pages({ signal: new AbortController().signal })[Symbol.asyncIterator]();

    // Act
    const { freed, pending } = await freedWhileWaiting(listing, iterator, 1, 1);

    // Assess
    expect(freed).toEqual([true]);
    await drain(listing, iterator, pending);
  });

  it('auto-partitioned listing, at every cursor', async () => {
    // Prepare: the first page fans the range out; the next requests are answered, then every later one is held.
    const listing = heldListing(4000, 100, 5);
    const source = s3ListSource({
      client: listing.client,
      bucket: 'b',
      pageSize: 100,
      partitions: { by: 'auto', concurrency: 4 },
    });
    const iterator = source.pages({ signal: new AbortController().signal })[Symbol.asyncIterator]();

    // Act
    const { freed, pending } = await freedWhileWaiting(listing, iterator, 5, 2);

    // Assess
    expect(freed).toHaveLength(5);
    expect(freed.every(Boolean)).toBe(true);
    await drain(listing, iterator, pending);
  });

  it('range-partitioned listing', async () => {
    // Prepare: two partitions, each answered once, then held.
    const listing = heldListing(1000, 100, 2);
    const source = s3ListSource({
      client: listing.client,
      bucket: 'b',
      pageSize: 100,
      partitions: { by: 'range', boundaries: ['k00500'], concurrency: 2 },
    });
    const iterator = source.pages({ signal: new AbortController().signal })[Symbol.asyncIterator]();

    // Act
    const { freed, pending } = await freedWhileWaiting(listing, iterator, 2, 2);

    // Assess
    expect(freed).toEqual([true, true]);
    await drain(listing, iterator, pending);
  });
});
