import { type InjectedFailures, countCall, offlineS3Client } from './s3-clients.js';

/** An S3 request the memory client answered. */
export interface MemoryS3Call {
  /** The command name without `Command` (`ListObjectsV2`, `PutObject`, …). */
  readonly name: string;
  /** The command's input. */
  readonly input: Record<string, unknown>;
}

/** Options of {@link memoryS3Client}. */
export interface MemoryS3Options {
  /** Keys of the one bucket it serves (any bucket name is accepted). */
  readonly keys: readonly string[];
  /** Called for each ListObjectsV2 request, before it is answered (a test moves a fake clock here). */
  readonly onList?: (input: Record<string, unknown>) => void;
  /** Makes the n-th (1-based) call of an operation fail with an S3-style error of this name. */
  readonly failures?: InjectedFailures;
}

function bodyText(body: unknown): string {
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return Buffer.from(body).toString('utf8');
  throw new Error(`memoryS3Client: unsupported PutObject body ${Object.prototype.toString.call(body)}`);
}

/**
 * A real S3Client whose requests never leave the process: a middleware answers ListObjectsV2 (Prefix, MaxKeys,
 * StartAfter, ContinuationToken, sorted like S3), PutObject (stored in `objects`), GetObject and DeleteObject from
 * memory, and fails anything else. For unit tests of code paths that need S3 to answer, not just to be absent.
 */
/** An object the memory client holds. */
export interface MemoryObject {
  readonly body: string;
  readonly metadata: Record<string, string>;
  readonly lastModified: Date;
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export function memoryS3Client(options: MemoryS3Options) {
  const stored = new Map<string, MemoryObject>();
  for (const key of options.keys) stored.set(key, { body: '', metadata: {}, lastModified: new Date(0) });
  /** Bodies of the objects written through the client (PutObject), by key. */
  const objects = new Map<string, string>();
  const calls: MemoryS3Call[] = [];
  const counts: Record<string, number> = {};
  const client = offlineS3Client();
  client.middlewareStack.add(
    (_next, context) => async (args) => {
      const name = String(context.commandName).replace(/Command$/, '');
      const input = args.input as Record<string, unknown>;
      calls.push({ name, input });
      countCall(counts, name, options.failures);
      const $metadata = { httpStatusCode: 200 };
      if (name === 'ListObjectsV2') {
        options.onList?.(input);
        const prefix = String(input.Prefix ?? '');
        const maxKeys = Number(input.MaxKeys ?? 1000);
        const after =
          typeof input.ContinuationToken === 'string'
            ? input.ContinuationToken
            : typeof input.StartAfter === 'string'
              ? input.StartAfter
              : '';
        const listed = [...stored.keys()]
          .sort(byteOrder)
          .filter((key) => key.startsWith(prefix) && byteOrder(key, after) > 0);
        const page = listed.slice(0, maxKeys);
        const truncated = listed.length > maxKeys;
        return {
          output: {
            $metadata,
            Contents: page.map((Key) => ({
              Key,
              Size: Buffer.byteLength(stored.get(Key)?.body ?? ''),
              LastModified: stored.get(Key)?.lastModified,
            })),
            KeyCount: page.length,
            IsTruncated: truncated,
            ...(truncated ? { NextContinuationToken: page[page.length - 1] } : {}),
          },
          response: {},
        };
      }
      if (name === 'PutObject') {
        const body = bodyText(input.Body);
        objects.set(String(input.Key), body);
        stored.set(String(input.Key), {
          body,
          metadata: { ...(input.Metadata as Record<string, string> | undefined) },
          lastModified: new Date(),
        });
        return { output: { $metadata, ETag: '"memory"' }, response: {} };
      }
      if (name === 'GetObject' || name === 'HeadObject') {
        const object = stored.get(String(input.Key));
        if (object === undefined) {
          const code = name === 'HeadObject' ? 'NotFound' : 'NoSuchKey';
          throw Object.assign(new Error(code), { name: code, $fault: 'client', $metadata: { httpStatusCode: 404 } });
        }
        const head = {
          $metadata,
          Metadata: object.metadata,
          LastModified: object.lastModified,
          ContentLength: Buffer.byteLength(object.body),
        };
        return {
          output: name === 'HeadObject' ? head : { ...head, Body: { transformToString: async () => object.body } },
          response: {},
        };
      }
      if (name === 'DeleteObject') {
        objects.delete(String(input.Key));
        stored.delete(String(input.Key));
        return { output: { $metadata }, response: {} };
      }
      throw new Error(`memoryS3Client: ${name} is not served`);
    },
    { step: 'initialize', name: 'memoryS3' },
  );
  return {
    client,
    objects,
    stored,
    calls,
    count: (name: string): number => counts[name] ?? 0,
    /** The keys of a stored JSONL manifest, in line order. */
    manifestKeys(key: string): string[] {
      const text = objects.get(key);
      if (text === undefined) throw new Error(`no object ${key}`);
      return text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => (JSON.parse(line) as { key: string }).key);
    },
  };
}
