import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { S3SimulatorRequestError } from './xml.js';

/** What the simulator learned from a request body: always its size and line count; the bytes only when kept. */
export interface BodySummary {
  /** Bytes of the payload (after aws-chunked decoding). */
  readonly size: number;
  /** Newline bytes in it: manifest lines, for JSON Lines. */
  readonly lines: number;
  /** Hex MD5 of the payload, when computed. */
  readonly md5?: string;
  /** The payload, when kept. */
  readonly bytes?: Buffer;
}

/** Reads a body chunk by chunk, keeping it only when asked: a counted upload of any size costs no memory. */
export async function readBody(request: IncomingMessage, keep: boolean): Promise<BodySummary> {
  const chunked = isAwsChunked(request);
  const decoder = chunked ? awsChunkedDecoder() : undefined;
  const hash = keep ? createHash('md5') : undefined;
  const kept: Buffer[] = [];
  let size = 0;
  let lines = 0;
  const take = (data: Buffer): void => {
    size += data.length;
    for (let at = data.indexOf(10); at !== -1; at = data.indexOf(10, at + 1)) lines += 1;
    hash?.update(data);
    if (keep) kept.push(data);
  };
  for await (const chunk of request as AsyncIterable<Buffer>) {
    if (decoder) for (const data of decoder(chunk)) take(data);
    else take(chunk);
  }
  return {
    size,
    lines,
    ...(hash ? { md5: hash.digest('hex') } : {}),
    ...(keep ? { bytes: Buffer.concat(kept, size) } : {}),
  };
}

/** SDKs that compute a flexible checksum stream the body in `aws-chunked` framing, checksum in a trailer. */
function isAwsChunked(request: IncomingMessage): boolean {
  const encoding = request.headers['content-encoding'] ?? '';
  const sha = request.headers['x-amz-content-sha256'];
  return encoding.includes('aws-chunked') || (typeof sha === 'string' && sha.startsWith('STREAMING-'));
}

/**
 * A decoder of `aws-chunked` framing (`<hex size>[;ext]\r\n<data>\r\n` … `0\r\n<trailers>\r\n\r\n`): fed raw
 * chunks, yields the payload slices; the trailers after the last frame are ignored (signatures are not verified).
 */
export function awsChunkedDecoder(): (chunk: Buffer) => Generator<Buffer> {
  let header = '';
  let remaining = 0;
  let skipCrlf = 0;
  let finished = false;
  return function* decode(chunk: Buffer): Generator<Buffer> {
    let at = 0;
    while (at < chunk.length && !finished) {
      if (skipCrlf > 0) {
        const n = Math.min(skipCrlf, chunk.length - at);
        skipCrlf -= n;
        at += n;
      } else if (remaining > 0) {
        const n = Math.min(remaining, chunk.length - at);
        yield chunk.subarray(at, at + n);
        remaining -= n;
        at += n;
        if (remaining === 0) skipCrlf = 2;
      } else {
        const newline = chunk.indexOf(10, at);
        const end = newline === -1 ? chunk.length : newline + 1;
        header += chunk.toString('latin1', at, end);
        at = end;
        if (newline === -1) continue;
        const size = Number.parseInt(header.split(';')[0]!.trim(), 16);
        header = '';
        if (!Number.isInteger(size) || size < 0) {
          throw new S3SimulatorRequestError(400, 'IncompleteBody', 'malformed aws-chunked frame header');
        }
        if (size === 0) finished = true;
        remaining = size;
      }
    }
  };
}
