// A fast in-memory ListObjectsV2 for the auto-listing unit tests: keys in UTF-8 byte order, StartAfter exclusive,
// opaque continuation tokens. Requests are answered in rounds, as a server with a fixed latency answers them: every
// request sent before a round's timer fires is answered in that round, and a request sent while a round's answers
// are handled waits for the next. So `rounds` counts round trips (the listing's time in units of one request's
// latency), whatever the machine's speed. Counts requests.
import type { ListObjectsV2CommandInput } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';

const utf8Order = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

export interface FakeListing {
  readonly client: S3Client;
  /** ListObjectsV2 requests answered or in flight. */
  requests: number;
  inFlight: number;
  maxInFlight: number;
  /** Rounds of answers so far: the listing's duration in round trips. */
  rounds: number;
  /** The inputs of every request. */
  readonly inputs: ListObjectsV2CommandInput[];
}

/**
 * `keys` are sorted here; `sizes` gives a size for a key (default 10); `onRound` is called before each round of
 * answers (a test moves a fake clock there: one round trip of time, whatever the requests in flight).
 */
export function fakeListing(
  keys: readonly string[],
  sizes: ReadonlyMap<string, number> = new Map(),
  onRound?: () => void,
): FakeListing {
  // Byte order; for ASCII keys JavaScript's own order is the same and much faster on a million keys.
  const ascii = keys.every((key) => /^[\x00-\x7f]*$/.test(key));
  const order = ascii ? (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0) : utf8Order;
  const sorted = ascii ? [...keys].sort() : [...keys].sort(order);
  const firstAfter = (after: string): number => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (order(sorted[mid] as string, after) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const state: FakeListing = {
    client: undefined as unknown as S3Client,
    requests: 0,
    inFlight: 0,
    maxInFlight: 0,
    rounds: 0,
    inputs: [],
  };
  // The requests waiting for the next round, and whether its timer is set.
  let waiting: { resolve: () => void; signal: AbortSignal | undefined }[] = [];
  let roundSet = false;
  const answerRound = (): void => {
    roundSet = false;
    const now = waiting.filter((entry) => !entry.signal?.aborted);
    waiting = [];
    if (now.length > 0) {
      state.rounds++;
      onRound?.();
    }
    for (const entry of now) entry.resolve();
  };
  const send = async (command: { input: ListObjectsV2CommandInput }, options?: { abortSignal?: AbortSignal }) => {
    const input = command.input;
    state.inputs.push(input);
    state.requests++;
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    try {
      await new Promise<void>((resolve, reject) => {
        const signal = options?.abortSignal;
        const entry = {
          signal,
          resolve: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        const onAbort = (): void => {
          waiting = waiting.filter((other) => other !== entry);
          const error = new Error('aborted');
          error.name = 'AbortError';
          reject(error);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        waiting.push(entry);
        if (!roundSet) {
          roundSet = true;
          setTimeout(answerRound, 1);
        }
      });
      const prefix = input.Prefix ?? '';
      const after = input.ContinuationToken ?? input.StartAfter;
      let i = after === undefined ? 0 : firstAfter(after);
      const max = input.MaxKeys ?? 1000;
      const contents: { Key: string; Size: number }[] = [];
      for (; i < sorted.length && contents.length < max; i++) {
        const key = sorted[i] as string;
        if (!key.startsWith(prefix)) {
          if (order(key, prefix) > 0) break;
          continue;
        }
        contents.push({ Key: key, Size: sizes.get(key) ?? 10 });
      }
      const truncated = i < sorted.length && (sorted[i] as string).startsWith(prefix);
      const last = contents[contents.length - 1]?.Key;
      return {
        Contents: contents,
        IsTruncated: truncated,
        ...(truncated && last !== undefined ? { NextContinuationToken: last } : {}),
        $metadata: {},
      };
    } finally {
      state.inFlight--;
    }
  };
  (state as { client: unknown }).client = { send };
  return state;
}
