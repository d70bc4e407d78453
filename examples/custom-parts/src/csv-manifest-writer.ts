import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { ManifestEntry, ManifestInfo, ManifestWriter } from '@presign-pipeline/core';

/** Options of {@link csvManifestWriter}: a file to create, or a stream to write to (such as `process.stdout`). */
export type CsvManifestWriterOptions = (
  | {
      /** The CSV file to create. It appears only when the run succeeds (written aside, then renamed). */
      path: string;
      stream?: never;
    }
  | {
      /** A stream to write to; it is not ended or closed, so `process.stdout` works. */
      stream: Writable;
      path?: never;
    }
) & {
  /** Write a `key,url` header row first. Default true. */
  header?: boolean;
  /**
   * Prefix cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or carriage return)
   * with `'`. Changes how such keys read, so it is off by default; turn it on when people open the file in a
   * spreadsheet.
   */
  spreadsheetSafe?: boolean;
};

// #region quote
/**
 * One CSV field as RFC 4180 wants it: quoted when it holds a comma, a double quote, a line break, or leading or
 * trailing spaces (which some readers trim), with inner quotes doubled.
 */
export function csvField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV row, ended by CRLF as RFC 4180 specifies. */
export function csvRow(fields: readonly string[], spreadsheetSafe = false): string {
  return `${fields.map((f) => csvField(spreadsheetSafe && FORMULA_START.test(f) ? `'${f}` : f)).join(',')}\r\n`;
}
// #endregion quote

// #region writer
/**
 * A {@link ManifestWriter} that writes the manifest as CSV (`key,url` rows) to a file or a stream, with
 * backpressure: `write` waits while the destination is slow, so memory stays flat.
 *
 * To a file, rows go to `<path>.<uuid>.partial`, renamed to `path` by `close`; `abort` deletes it, so a failed run
 * leaves no file behind. To a stream, rows already written stay written: check the run's outcome before using them.
 */
export function csvManifestWriter(options: CsvManifestWriterOptions): ManifestWriter {
  const { header = true, spreadsheetSafe = false } = options;
  if (options.path === undefined && options.stream === undefined) {
    throw new TypeError('csvManifestWriter: give a path or a stream');
  }
  if (options.path !== undefined && (typeof options.path !== 'string' || options.path === '')) {
    throw new TypeError('csvManifestWriter: path must be a non-empty string');
  }
  const partial = options.path === undefined ? undefined : `${options.path}.${randomUUID()}.partial`;
  let out: Writable | undefined = options.stream;
  let bytes = 0;
  let state: 'new' | 'open' | 'closed' | 'aborted' = 'new';
  let failure: Error | undefined;

  async function put(text: string): Promise<void> {
    if (failure !== undefined) throw failure;
    const chunk = Buffer.from(text, 'utf8');
    bytes += chunk.length;
    if (!(out as Writable).write(chunk)) await once(out as Writable, 'drain');
  }

  return {
    async open(): Promise<void> {
      if (state !== 'new') throw new Error(`csvManifestWriter: open() after ${state}`);
      state = 'open';
      if (partial !== undefined) {
        const file = createWriteStream(partial, { flags: 'wx' });
        // Always listening: a late disk error fails the next call instead of crashing the process.
        file.on('error', (error) => {
          failure ??= error;
        });
        out = file;
        await once(file, 'open');
      }
      if (header) await put(csvRow(['key', 'url']));
    },

    async write(entries: readonly ManifestEntry[]): Promise<void> {
      if (state !== 'open') throw new Error(`csvManifestWriter: write() when ${state}`);
      let text = '';
      for (const entry of entries) text += csvRow([entry.key, entry.url], spreadsheetSafe);
      if (text !== '') await put(text);
    },

    async close(): Promise<ManifestInfo> {
      if (state !== 'open') throw new Error(`csvManifestWriter: close() when ${state}`);
      state = 'closed';
      if (partial === undefined) return { bytes, location: 'stream' };
      const file = out as Writable;
      file.end();
      await finished(file);
      await rename(partial, options.path as string);
      return { bytes, location: options.path as string };
    },

    async abort(): Promise<void> {
      if (state === 'closed' || state === 'aborted') return;
      state = 'aborted';
      if (partial !== undefined && out !== undefined) {
        out.destroy();
        await finished(out).catch(() => undefined);
        await rm(partial, { force: true });
      }
    },
  };
}
// #endregion writer
