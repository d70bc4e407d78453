import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/** One object to upload: its key and, optionally, its body (else {@link defaultSeedBody} of the key). */
export interface SeedEntry {
  /** Object key. */
  readonly key: string;
  /** Object body. */
  readonly body?: string | Uint8Array;
  /** Content type; S3's default when omitted. */
  readonly contentType?: string;
}

/** What `seed` accepts: entries or plain keys, from an array, a generator or an async generator. */
export type SeedEntries = Iterable<SeedEntry | string> | AsyncIterable<SeedEntry | string>;

/** Options for `seed`. */
export interface SeedOptions {
  /** Uploads in flight at once. Default 32: moto stores about 180 objects/s whatever the concurrency above that. */
  readonly concurrency?: number;
}

/** The default number of uploads `seed` keeps in flight. */
export const DEFAULT_SEED_CONCURRENCY = 32;

/**
 * The body `seed` stores for a plain key. Deterministic, so a test can compare what it
 * downloads (e.g. through a presigned URL) with what it expects without keeping a copy.
 * @param key the object key.
 */
export function defaultSeedBody(key: string): string {
  return `presign-pipeline test object\nkey: ${key}\n`;
}

/**
 * Creates a bucket. Idempotent: a bucket that already exists (owned by these credentials)
 * counts as created, so suites sharing one endpoint can all call it.
 * @param client a client for the endpoint.
 * @param name the bucket name.
 */
export async function createBucket(client: S3Client, name: string): Promise<void> {
  if (typeof name !== 'string' || name.length === 0) {
    throw new TypeError(`createBucket: bucket name must be a non-empty string, got ${typeName(name)}`);
  }
  try {
    await client.send(new CreateBucketCommand({ Bucket: name }));
  } catch (error) {
    const code = (error as { name?: unknown }).name;
    if (code === 'BucketAlreadyOwnedByYou' || code === 'BucketAlreadyExists') return;
    throw error;
  }
}

/**
 * Uploads objects with a bounded number in flight, pulling entries lazily (a generator of
 * many keys is never materialised). Stops pulling at the first failure, waits for uploads
 * already in flight, and rejects with that failure.
 * @param client a client for the endpoint.
 * @param bucket the bucket to fill (it must exist).
 * @param entries the objects, or plain keys.
 * @param options concurrency.
 * @returns how many objects were stored.
 */
export async function seedObjects(
  client: S3Client,
  bucket: string,
  entries: SeedEntries,
  options: SeedOptions = {},
): Promise<number> {
  const concurrency = options.concurrency ?? DEFAULT_SEED_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`seed: concurrency must be an integer >= 1, got ${typeName(concurrency)}`);
  }
  if (typeof bucket !== 'string' || bucket.length === 0) {
    throw new TypeError(`seed: bucket must be a non-empty string, got ${typeName(bucket)}`);
  }
  const iterator = toAsyncIterator(entries);
  let index = 0;
  let exhausted = false;
  let failure: { error: unknown } | undefined;
  let stored = 0;
  // Async iterators need not allow overlapping next() calls, so pulls go one at a time.
  let pulling: Promise<unknown> = Promise.resolve();

  const pull = (): Promise<{ entry: SeedEntry; index: number } | undefined> => {
    const next = pulling.then(async () => {
      if (exhausted || failure) return undefined;
      const result = await iterator.next();
      if (result.done) {
        exhausted = true;
        return undefined;
      }
      const at = index++;
      return { entry: toEntry(result.value, at), index: at };
    });
    pulling = next.catch(() => undefined);
    return next;
  };

  const worker = async (): Promise<void> => {
    try {
      for (let item = await pull(); item; item = await pull()) {
        const { entry } = item;
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: entry.key,
            Body: entry.body ?? defaultSeedBody(entry.key),
            ...(entry.contentType === undefined ? {} : { ContentType: entry.contentType }),
          }),
        );
        stored++;
      }
    } catch (error) {
      failure ??= { error };
    }
  };

  await Promise.all(Array.from({ length: concurrency }, worker));
  if (failure) {
    if (!exhausted) await iterator.return?.().catch(() => undefined);
    throw failure.error;
  }
  return stored;
}

function toEntry(value: unknown, at: number): SeedEntry {
  if (typeof value === 'string') {
    if (value.length === 0) throw new TypeError(`seed: entry ${at} is an empty key`);
    return { key: value };
  }
  if (typeof value === 'object' && value !== null && typeof (value as SeedEntry).key === 'string') {
    const entry = value as SeedEntry;
    if (entry.key.length === 0) throw new TypeError(`seed: entry ${at} has an empty key`);
    if (entry.body !== undefined && typeof entry.body !== 'string' && !(entry.body instanceof Uint8Array)) {
      throw new TypeError(
        `seed: entry ${at} (${entry.key}) has a body of type ${typeName(entry.body)}; use a string or Uint8Array`,
      );
    }
    return entry;
  }
  throw new TypeError(`seed: entry ${at} must be a key string or { key, body }, got ${typeName(value)}`);
}

function toAsyncIterator<T>(source: Iterable<T> | AsyncIterable<T>): AsyncIterator<T> {
  if (source !== null && typeof source === 'object' && Symbol.asyncIterator in source) {
    return (source as AsyncIterable<T>)[Symbol.asyncIterator]();
  }
  if (source !== null && source !== undefined && typeof (source as Iterable<T>)[Symbol.iterator] === 'function') {
    const sync = (source as Iterable<T>)[Symbol.iterator]();
    return {
      next: async () => sync.next(),
      return: async () => sync.return?.() ?? { done: true, value: undefined },
    };
  }
  throw new TypeError(`seed: entries must be an iterable or async iterable, got ${typeName(source)}`);
}

/** Names a value's type for error messages without printing the value (it could be large). */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return `number ${value}`;
  return typeof value;
}
