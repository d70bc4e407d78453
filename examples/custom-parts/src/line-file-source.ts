import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { KeyPage, KeySource, KeySourceContext } from '@presign-pipeline/core';

/** Options of {@link lineFileSource} and {@link lineStreamSource}. */
export interface LineSourceOptions {
  /** The bucket every key of the file lives in. */
  bucket: string;
  /** Keys per page, 1..1000. Default 1000, the size of a ListObjectsV2 page, so runs behave alike. */
  pageSize?: number;
}

// #region source
/**
 * A key source over a stream of newline-delimited keys, one key per line (LF or CRLF; empty lines are skipped).
 * `open` is called once per run, so a run can be repeated. The stream is read with readline as the pipeline
 * pulls pages: at most about one page plus readline's buffer is in memory, whatever the file's size. When the run
 * ends early (an abort, a failure), the stream is destroyed.
 *
 * Keys are taken verbatim, spaces included. A key holding a line break cannot be listed this way.
 */
export function lineStreamSource(open: () => Readable, options: LineSourceOptions): KeySource {
  const { bucket, pageSize = 1000 } = options;
  if (typeof open !== 'function') throw new TypeError('lineStreamSource: open must be a function returning a Readable');
  if (typeof bucket !== 'string' || bucket === '')
    throw new TypeError('lineStreamSource: bucket must be a non-empty string');
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
    throw new RangeError(`lineStreamSource: pageSize must be an integer in 1..1000, got ${String(pageSize)}`);
  }

  async function* pages({ signal }: KeySourceContext): AsyncGenerator<KeyPage> {
    const input = open();
    const lines = createInterface({ input, crlfDelay: Infinity });
    // Stops at once when the run is aborted, even while readline waits for the next chunk (destroying the
    // input alone would not end readline's iteration).
    const stop = (): void => {
      lines.close();
      input.destroy();
    };
    signal.addEventListener('abort', stop, { once: true });
    let keys: string[] = [];
    try {
      for await (const line of lines) {
        if (line === '') continue;
        keys.push(line);
        if (keys.length === pageSize) {
          yield { bucket, keys, cursor: line };
          keys = [];
        }
      }
      // An aborted run ends the stream early: what was read of a partial page is dropped, not yielded.
      if (keys.length > 0 && !signal.aborted) yield { bucket, keys, cursor: keys[keys.length - 1] as string };
    } finally {
      signal.removeEventListener('abort', stop);
      lines.close();
      input.destroy();
    }
  }

  return { bucket, pages };
}

/** A key source over a newline-delimited file of keys (see {@link lineStreamSource}). */
export function lineFileSource(path: string, options: LineSourceOptions): KeySource {
  if (typeof path !== 'string' || path === '') throw new TypeError('lineFileSource: path must be a non-empty string');
  return lineStreamSource(() => createReadStream(path, { encoding: 'utf8' }), options);
}
// #endregion source
