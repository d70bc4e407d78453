// A fast in-memory ListObjectsV2 for the auto-listing unit tests: keys in UTF-8 byte order, StartAfter exclusive,
// opaque continuation tokens, every response after a timer turn so concurrent requests interleave. Counts requests.
import type { ListObjectsV2CommandInput } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';

const utf8Order = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

export interface FakeListing {
  readonly client: S3Client;
  /** ListObjectsV2 requests answered or in flight. */
  requests: number;
  inFlight: number;
  maxInFlight: number;
  /** Requests in flight (itself included) when each request was sent, summed: divided by `requests`, the mean. */
  inFlightAtSend: number;
  /** The inputs of every request. */
  readonly inputs: ListObjectsV2CommandInput[];
}

/** `keys` are sorted here; `sizes` gives a size for a key (default 10). */
export function fakeListing(keys: readonly string[], sizes: ReadonlyMap<string, number> = new Map()): FakeListing {
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
    inFlightAtSend: 0,
    inputs: [],
  };
  const send = async (command: { input: ListObjectsV2CommandInput }, options?: { abortSignal?: AbortSignal }) => {
    const input = command.input;
    state.inputs.push(input);
    state.requests++;
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    state.inFlightAtSend += state.inFlight;
    try {
      await new Promise<void>((resolve, reject) => {
        const signal = options?.abortSignal;
        const onAbort = (): void => {
          clearTimeout(timer);
          const error = new Error('aborted');
          error.name = 'AbortError';
          reject(error);
        };
        const timer = setTimeout(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }, 1);
        signal?.addEventListener('abort', onAbort, { once: true });
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
