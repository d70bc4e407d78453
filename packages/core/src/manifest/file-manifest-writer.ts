import { randomUUID } from 'node:crypto';
import { open as openFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { PresignPipelineError } from '../errors.js';
import type { ManifestEntry, ManifestInfo, ManifestWriter } from '../types.js';
import { checkInteger, checkNonEmptyString, checkObject } from '../validate.js';
import { LineBuffer, writeLines, type LineSink } from './jsonl.js';

const OWNER = 'fileManifestWriter';
const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;
const MIN_BUFFER = 64 * 1024;

/** Options of {@link fileManifestWriter}. */
export interface FileManifestWriterOptions {
  /**
   * Bytes gathered before they are written to the file, an integer ≥ 1 (buffers are at least 64 KiB). Default 1 MiB:
   * few large writes, and memory that stays flat (two such buffers) whatever the manifest's size.
   */
  highWaterMark?: number;
}

/**
 * Writes the JSONL manifest to a local file, streaming with backpressure so memory stays flat whatever its size:
 * lines are encoded straight into two reused buffers, one filling while the other is written, and `write` waits when
 * both are busy. They go to a temporary file next to `path` (`<path>.<uuid>.partial`) that `close` renames into
 * place, so `path` never holds a half-written manifest; `abort` deletes the temporary file and leaves an existing
 * `path` untouched.
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
  const bufferSize = Math.max(highWaterMark, MIN_BUFFER);

  const partialPath = `${path}.${randomUUID()}.partial`;
  let state: 'idle' | 'open' | 'closing' | 'closed' | 'aborted' = 'idle';
  let handle: FileHandle | undefined;
  let opening: Promise<void> | undefined;
  let failure: unknown;
  let aborting: Promise<void> | undefined;
  let closing: Promise<ManifestInfo> | undefined;
  let bytes = 0;

  // Double buffering: `active` fills while the other one's write (`inFlight`) runs.
  let active: LineBuffer | undefined;
  let spare: LineBuffer | undefined;
  let inFlight: Promise<void> | undefined;

  function assertWritable(action: string): void {
    if (state === 'closed' || state === 'aborted' || state === 'closing') {
      throw new PresignPipelineError('MANIFEST_WRITE_FAILED', `${OWNER}: cannot ${action} a manifest that is ${state}`);
    }
    if (failure !== undefined) throw failure;
  }

  function open(): Promise<void> {
    if (opening !== undefined) return opening;
    assertWritable('open');
    state = 'open';
    opening = openFile(partialPath, 'wx').then((h) => {
      handle = h;
      if (state === 'aborted') void h.close().catch(() => undefined);
    });
    return opening;
  }

  async function writeAll(buffer: Buffer, length: number): Promise<void> {
    let done = 0;
    while (done < length) {
      const { bytesWritten } = await (handle as FileHandle).write(buffer, done, length - done, null);
      done += bytesWritten;
    }
    bytes += length;
  }

  /** Starts writing the active buffer and switches to the spare one, waiting for it to be free first. */
  async function rotate(): Promise<void> {
    if (inFlight !== undefined) await inFlight;
    if (failure !== undefined) throw failure;
    if (active === undefined || active.length === 0) return;
    const full = active;
    active = spare ?? new LineBuffer(bufferSize);
    active.length = 0;
    spare = full;
    inFlight = writeAll(full.bytes, full.length).then(
      () => {
        inFlight = undefined;
      },
      (error: unknown) => {
        inFlight = undefined;
        failure ??= error;
      },
    );
  }

  const sink: LineSink = {
    buffer: () => (active ??= new LineBuffer(bufferSize)),
    async handOver() {
      await rotate();
      assertWritable('write to'); // an abort while the previous buffer was being written
    },
    async writeLarge(line) {
      if (inFlight !== undefined) await inFlight;
      await writeAll(line, line.length);
    },
  };

  return {
    open,
    async write(entries: readonly ManifestEntry[]): Promise<void> {
      assertWritable('write to');
      if (handle === undefined) await open();
      await writeLines(OWNER, entries, sink);
      if (failure !== undefined) throw failure;
    },
    close(): Promise<ManifestInfo> {
      closing ??= (async () => {
        assertWritable('close');
        if (handle === undefined) await open();
        state = 'closing';
        await rotate();
        if (inFlight !== undefined) await inFlight;
        if (failure !== undefined) throw failure;
        await (handle as FileHandle).close();
        handle = undefined;
        await rename(partialPath, path);
        state = 'closed';
        active = undefined;
        spare = undefined;
        return { bytes, location: path };
      })();
      return closing;
    },
    bytesWritten: () => bytes,

    abort(): Promise<void> {
      if (state === 'closed') return Promise.resolve();
      aborting ??= (async () => {
        // An abort that lands during close waits for it rather than race its rename; a close that made it is kept.
        if (closing !== undefined) {
          const closed = await closing.then(
            () => true,
            () => false,
          );
          if (closed) return;
        }
        const wasOpened = opening !== undefined;
        state = 'aborted';
        if (opening !== undefined) await opening.catch(() => undefined);
        if (inFlight !== undefined) await inFlight;
        const h = handle;
        handle = undefined;
        active = undefined;
        spare = undefined;
        if (h !== undefined) await h.close().catch(() => undefined);
        if (wasOpened) await rm(partialPath, { force: true });
      })();
      return aborting;
    },
  };
}
