import { randomUUID } from 'node:crypto';
import { type FileHandle, open as openFile, rename, rm } from 'node:fs/promises';
import { PresignPipelineError } from '../errors.js';
import type { ManifestEntry, ManifestInfo, ManifestWriter } from '../types.js';
import { checkInteger, checkNonEmptyString, checkObject } from '../validate.js';
import { DoubleBuffer } from './double-buffer.js';
import { type LineSink, writeLines } from './jsonl.js';

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
    opts.highWaterMark === undefined
      ? DEFAULT_HIGH_WATER_MARK
      : checkInteger(OWNER, 'highWaterMark', opts.highWaterMark, 1);
  const bufferSize = Math.max(highWaterMark, MIN_BUFFER);

  const file = new FileManifest(path, bufferSize);
  return {
    open: () => file.open(),
    write: (entries: readonly ManifestEntry[]) => file.write(entries),
    close: () => file.close(),
    bytesWritten: () => file.bytesWritten,
    abort: () => file.abort(),
  };
}

type FileState = 'idle' | 'open' | 'closing' | 'closed' | 'aborted';

/**
 * One manifest file being written: a temporary file next to `path`, renamed into place by `close`, deleted by
 * `abort`. Lines go through a {@link DoubleBuffer}; a line larger than a buffer is written on its own.
 * @internal
 */
export class FileManifest {
  readonly #path: string;
  readonly #partialPath: string;
  readonly #buffers: DoubleBuffer;
  readonly #sink: LineSink;
  #state: FileState = 'idle';
  #handle: FileHandle | undefined;
  #opening: Promise<void> | undefined;
  #closing: Promise<ManifestInfo> | undefined;
  #aborting: Promise<void> | undefined;
  #bytes = 0;

  constructor(path: string, bufferSize: number) {
    this.#path = path;
    this.#partialPath = `${path}.${randomUUID()}.partial`;
    this.#buffers = new DoubleBuffer(bufferSize, (bytes, length) => this.#writeAll(bytes, length));
    this.#sink = {
      buffer: () => this.#buffers.buffer(),
      handOver: async () => {
        await this.#buffers.rotate();
        this.#assertWritable('write to'); // an abort while the previous buffer was being written
      },
      writeLarge: async (line) => {
        if (this.#buffers.inFlight !== undefined) await this.#buffers.inFlight;
        await this.#writeAll(line, line.length);
      },
    };
  }

  /** Bytes written to the file so far. */
  get bytesWritten(): number {
    return this.#bytes;
  }

  open(): Promise<void> {
    if (this.#opening !== undefined) return this.#opening;
    this.#assertWritable('open');
    this.#state = 'open';
    this.#opening = openFile(this.#partialPath, 'wx').then((h) => {
      this.#handle = h;
      if (this.#state === 'aborted') void h.close().catch(() => undefined);
    });
    return this.#opening;
  }

  async write(entries: readonly ManifestEntry[]): Promise<void> {
    this.#assertWritable('write to');
    if (this.#handle === undefined) await this.open();
    await writeLines(OWNER, entries, this.#sink);
    if (this.#buffers.failure !== undefined) throw this.#buffers.failure;
  }

  close(): Promise<ManifestInfo> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  abort(): Promise<void> {
    if (this.#state === 'closed') return Promise.resolve();
    this.#aborting ??= this.#abort();
    return this.#aborting;
  }

  #assertWritable(action: string): void {
    const state = this.#state;
    if (state === 'closed' || state === 'aborted' || state === 'closing') {
      throw new PresignPipelineError('MANIFEST_WRITE_FAILED', `${OWNER}: cannot ${action} a manifest that is ${state}`);
    }
    if (this.#buffers.failure !== undefined) throw this.#buffers.failure;
  }

  async #writeAll(buffer: Buffer, length: number): Promise<void> {
    let done = 0;
    while (done < length) {
      const { bytesWritten } = await (this.#handle as FileHandle).write(buffer, done, length - done, null);
      done += bytesWritten;
    }
    this.#bytes += length;
  }

  async #close(): Promise<ManifestInfo> {
    this.#assertWritable('close');
    if (this.#handle === undefined) await this.open();
    this.#state = 'closing';
    await this.#buffers.rotate();
    if (this.#buffers.inFlight !== undefined) await this.#buffers.inFlight;
    if (this.#buffers.failure !== undefined) throw this.#buffers.failure;
    await (this.#handle as FileHandle).close();
    this.#handle = undefined;
    await rename(this.#partialPath, this.#path);
    this.#state = 'closed';
    this.#buffers.release();
    return { bytes: this.#bytes, location: this.#path };
  }

  async #abort(): Promise<void> {
    // An abort that lands during close waits for it rather than race its rename; a close that made it is kept.
    if (this.#closing !== undefined) {
      const closed = await this.#closing.then(
        () => true,
        () => false,
      );
      if (closed) return;
    }
    const wasOpened = this.#opening !== undefined;
    this.#state = 'aborted';
    if (this.#opening !== undefined) await this.#opening.catch(() => undefined);
    if (this.#buffers.inFlight !== undefined) await this.#buffers.inFlight;
    const h = this.#handle;
    this.#handle = undefined;
    this.#buffers.release();
    if (h !== undefined) await h.close().catch(() => undefined);
    if (wasOpened) await rm(this.#partialPath, { force: true });
  }
}
