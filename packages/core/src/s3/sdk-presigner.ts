import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ObjectRef, PresignOptions, Presigner } from '../types.js';
import { createPresignClient } from './presign-client.js';
import { encodeS3Key } from './sigv4.js';
import { assertKeyLength, assertS3Client, assertSafeKeyPath } from './validate.js';
import { describeWithoutContent } from '../validate.js';
import { optionRangeError, optionTypeError } from '../errors.js';

/** Options of {@link sdkPresigner}. */
export interface SdkPresignerOptions {
  /** The S3 client whose region, endpoint, path style and credentials sign the URLs. */
  client: S3Client;
  /** Signs as of this time instead of now (reproducible URLs in tests). */
  signingDate?: Date;
}

/** The longest lifetime SigV4 allows a presigned URL, in seconds (7 days). */
const MAX_EXPIRES_IN = 604_800;

/**
 * Presigns GET URLs with the AWS SDK's own presigner (`getSignedUrl` from `@aws-sdk/s3-request-presigner`).
 *
 * The URLs carry no checksum parameter and no `x-id`, whatever the client's checksum settings: their query holds
 * exactly `X-Amz-Algorithm`, `X-Amz-Content-Sha256`, `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`,
 * `X-Amz-Security-Token` (only with session credentials), `X-Amz-Signature` and `X-Amz-SignedHeaders`. That is what
 * strict S3-compatible stores and browser Range requests accept. To get it, the presigner builds one private client
 * from the given one (same region, endpoint, path style and credential provider; checksums only when required).
 *
 * Never logs a URL. `credentialsExpiration()` reports when the client's credentials expire, so the pipeline can
 * tell when URLs would die before their `expiresIn`. A key no S3 object can have (over 1,024 UTF-8 bytes, or holding
 * an unpaired UTF-16 surrogate) rejects with a `PresignPipelineError` of code `INVALID_KEY`, an item error in a run. A
 * key with a `.` or `..` path segment (`a/../b.pdf`) rejects with `UNSAFE_KEY_PATH`: browsers and `fetch` would remove
 * the segment before sending, and ask for another object.
 *
 * @example
 * ```ts
 * const presigner = sdkPresigner({ client: new S3Client({ region: 'eu-west-1' }) });
 * const url = await presigner.presign({ bucket: 'reports', key: '2026/04/a.pdf' }, { expiresIn: 900 });
 * ```
 */
export function sdkPresigner(options: SdkPresignerOptions): Presigner {
  if (typeof options !== 'object' || options === null) {
    throw optionTypeError(`sdkPresigner: options must be an object, got ${describeWithoutContent(options)}`);
  }
  const { client, signingDate } = options;
  assertS3Client('sdkPresigner', client);
  if (signingDate !== undefined && (!(signingDate instanceof Date) || Number.isNaN(signingDate.getTime()))) {
    throw optionTypeError(`sdkPresigner: signingDate must be a valid Date, got ${describeWithoutContent(signingDate)}`);
  }
  const presignClient = createPresignClient(client);
  // Copied so a caller mutating their Date later cannot change the URLs.
  const fixedDate = signingDate === undefined ? undefined : new Date(signingDate.getTime());

  return {
    async presign(object: ObjectRef, presignOptions: PresignOptions): Promise<string> {
      checkPresignArguments(object, presignOptions);
      const command = new GetObjectCommand({ Bucket: object.bucket, Key: object.key });
      return getSignedUrl(presignClient, command, {
        expiresIn: presignOptions.expiresIn,
        ...(fixedDate === undefined ? {} : { signingDate: fixedDate }),
      });
    },
    credentialsExpiration: () => credentialsExpiration(client),
  };
}

/** Reads when the client's current credentials expire (undefined for long-term credentials). @internal */
export async function credentialsExpiration(client: S3Client): Promise<Date | undefined> {
  const provider = client.config.credentials as unknown;
  if (typeof provider !== 'function') return undefined;
  const identity = (await (provider as () => Promise<unknown>)()) as { expiration?: unknown } | undefined;
  const expiration = identity?.expiration;
  return expiration instanceof Date && !Number.isNaN(expiration.getTime()) ? expiration : undefined;
}

/** Checks one presign call's arguments; shared by the presigners. @internal */
export function checkPresignArguments(object: ObjectRef, options: PresignOptions): void {
  if (typeof object !== 'object' || object === null) {
    throw optionTypeError(`presign: object must be { bucket, key }, got ${describeWithoutContent(object)}`);
  }
  if (typeof object.bucket !== 'string' || object.bucket.length === 0) {
    throw optionTypeError(`presign: bucket must be a non-empty string, got ${describeWithoutContent(object.bucket)}`);
  }
  if (typeof object.key !== 'string' || object.key.length === 0) {
    throw optionTypeError(`presign: key must be a non-empty string, got ${describeWithoutContent(object.key)}`);
  }
  // Keys no S3 object can have get the same INVALID_KEY error from both presigners (the SDK would sign a key over
  // 1,024 bytes into a dead URL, and fail on an unpaired surrogate with a bare "URI malformed").
  assertKeyLength(object.key);
  encodeS3Key(object.key);
  assertSafeKeyPath(object.key);
  const expiresIn = options?.expiresIn;
  if (typeof expiresIn !== 'number' || !Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_EXPIRES_IN) {
    throw optionRangeError(
      `presign: expiresIn must be an integer in 1..${MAX_EXPIRES_IN}, got ${describeWithoutContent(expiresIn)}`,
    );
  }
}
