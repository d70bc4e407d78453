/**
 * Option checks shared by the S3 parts. S3 clients are recognised by shape, not `instanceof`, so a client from
 * another copy of `@aws-sdk/client-s3` (a bundled Lambda layer, a second version) is accepted.
 * @internal
 */

import { optionTypeError, PresignPipelineError } from '../errors.js';
import { describeWithoutContent } from '../validate.js';

/** The longest S3 object key, in UTF-8 bytes. @internal */
export const MAX_KEY_BYTES = 1024;
/** A UTF-16 code unit is at most 3 UTF-8 bytes, so a key of at most this many units cannot be too long. */
const SURELY_SHORT_KEY = Math.floor(MAX_KEY_BYTES / 3);

/**
 * Throws a `PresignPipelineError` (`INVALID_KEY`) for a key longer than S3 allows: no object can have it, so a URL for
 * it could only answer 404 (or KeyTooLongError). Costs one comparison for keys of up to 341 characters. @internal
 */
export function assertKeyLength(key: string): void {
  if (key.length <= SURELY_SHORT_KEY) return;
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > MAX_KEY_BYTES) {
    throw new PresignPipelineError(
      'INVALID_KEY',
      `key is ${bytes} bytes long in UTF-8; S3 keys are at most ${MAX_KEY_BYTES} bytes`,
      {
        key,
      },
    );
  }
}

/** A path segment that is exactly `.` or `..`: `a/./b`, `a/../b`, `./x`, `x/..`, `.`, `..`. */
const DOT_SEGMENT = /(?:^|\/)\.\.?(?:\/|$)/;

/**
 * Refuses a key with a `.` or `..` path segment, with `UNSAFE_KEY_PATH`. Its presigned URL is right byte for byte, but
 * WHATWG URL clients (browsers, `fetch`, Node's `URL`) remove dot segments before sending, and treat `%2E` as a dot,
 * so no encoding of the key survives them; S3 itself does not normalise the path. @internal
 */
export function assertSafeKeyPath(key: string): void {
  if (DOT_SEGMENT.test(key)) {
    throw new PresignPipelineError(
      'UNSAFE_KEY_PATH',
      'key has a "." or ".." path segment, which browsers and fetch() remove from a URL before sending it (also when written %2E), so its URL would fetch another object',
      { key },
    );
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** Throws unless `client` can `send` commands. @internal */
export function assertSendingClient(factory: string, client: unknown): void {
  if (!isObject(client) || typeof client.send !== 'function') {
    throw optionTypeError(
      `${factory}: client must be an S3Client (an object with send()), got ${describeWithoutContent(client)}`,
    );
  }
}

/** Throws unless `client` looks like an AWS SDK v3 S3 client: `send`, a resolved `config` and a middleware stack. @internal */
export function assertS3Client(factory: string, client: unknown): void {
  assertSendingClient(factory, client);
  const c = client as Record<string, unknown>;
  const stack = c.middlewareStack;
  if (!isObject(c.config) || !isObject(stack) || typeof stack.clone !== 'function' || typeof stack.add !== 'function') {
    throw optionTypeError(
      `${factory}: client must be an S3Client from @aws-sdk/client-s3 (with config and middlewareStack), got an object without them`,
    );
  }
  const serviceId = (c.config as Record<string, unknown>).serviceId;
  if (typeof serviceId === 'string' && serviceId !== 'S3') {
    throw optionTypeError(`${factory}: client must be an S3Client, got a client for ${serviceId}`);
  }
}
