import { randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { PresignPipelineError } from '../errors.js';
import type { ManifestEntry, ManifestInfo, ManifestWriter } from '../types.js';
import { checkInteger, checkNonEmptyString, checkObject } from '../validate.js';
import { jsonlText } from './jsonl.js';

const OWNER = 'fileManifestWriter';
const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;

/** Options of {@link fileManifestWriter}. */
export interface FileManifestWriterOptions {
  /**
   * Bytes the file stream buffers before `write` waits for the disk (backpressure). An integer ≥ 1; default 1 MiB,
   * large enough that a batch rarely waits, small enough to keep memory flat.
   */
  highWaterMark?: number;
}

/**
 * Writes the JSONL manifest to a local file, streaming with backpressure so memory stays flat whatever its size.
 * Lines go to a temporary file next to `path` (`<path>.<uuid>.partial`) that `close` renames into place, so `path`
 * never holds a half-written manifest; `abort` deletes the temporary file and leaves an existing `path` untouched.
 *
 * @example
 * ```ts
 * const manifest = fileManifestWriter('/tmp/manifest.jsonl');
 * const result = await presignPipeline({ source, presigner, manifest });
 * result.manifest.location; // '/tmp/manifest.jsonl'
 * ```
 */
export function fileManifestWriter(path: string, options: FileManifestWriterOptions = {}): ManifestWriter {
  checkNonEmptyString(OWNER, 'path', path);
  const opts = checkObject(OWNER, 'options', options);
  const highWaterMark =
    opts.highWaterMark === undefined ? DEFAULT_HIGH_WATER_MARK : checkInteger(OWNER, 'highWaterMark', opts.highWaterMark, 1);

  const partialPath = `${path}.${randomUUID()}.partial`;
  let stream: WriteStream | undefined;
  let opening: Promise<void> | undefined;
  let streamError: Error | undefined;
  let state: 'idle' | 'open' | 'closing' | 'closed' | 'aborted' = 'idle';
  let bytes = 0;
  let aborting: Promise<void> | undefined;

  function assertWritable(action: string): void {
    if (state === 'closed' || state === 'aborted' || state === 'closing') {
      throw new PresignPipelineError('MANIFEST_WRITE_FAILED', `${OWNER}: cannot ${action} a manifest that is ${state}`);
    }
    if (streamError !== undefined) throw streamError;
  }

  function open(): Promise<void> {
    if (opening !== undefined) return opening;
    assertWritable('open');
    state = 'open';
    const s = createWriteStream(partialPath, { flags: 'wx', highWaterMark });
    stream = s;
    // Always listening, so a late I/O error is recorded for the next call instead of crashing the process.
    s.on('error', (error: Error) => {
      streamError ??= error;
    });
    opening = once(s, 'open').then(() => undefined);
    return opening;
  }

  return {
    open,
    async write(entries: readonly ManifestEntry[]): Promise<void> {
      assertWritable('write to');
      if (stream === undefined) await open();
      const s = stream as WriteStream;
      if (entries.length === 0) return;
      const chunk = Buffer.from(jsonlText(entries), 'utf8');
      bytes += chunk.length;
      if (!s.write(chunk)) await once(s, 'drain');
      if (streamError !== undefined) throw streamError;
    },
    async close(): Promise<ManifestInfo> {
      assertWritable('close');
      if (stream === undefined) await open();
      state = 'closing';
      const s = stream as WriteStream;
      s.end();
      await finished(s);
      if (streamError !== undefined) throw streamError;
      await rename(partialPath, path);
      state = 'closed';
      return { bytes, location: path };
    },
    abort(): Promise<void> {
      if (state === 'closed') return Promise.resolve();
      aborting ??= (async () => {
        state = 'aborted';
        const s = stream;
        if (s !== undefined) {
          if (!s.destroyed) s.destroy();
          await finished(s).catch(() => undefined);
          await rm(partialPath, { force: true });
        }
      })();
      return aborting;
    },
  };
}
