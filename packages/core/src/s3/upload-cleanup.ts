import type { S3Client } from '@aws-sdk/client-s3';
import { AbortMultipartUploadCommand, DeleteObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { PresignPipelineError } from '../errors.js';

/** Where a manifest upload goes. @internal */
export interface UploadLocation {
  readonly client: S3Client;
  readonly bucket: string;
  readonly key: string;
  /** Bounds the cleanup's requests (set once the writer's stop signal fired); absent, they run to their end. */
  readonly signal?: AbortSignal | undefined;
}

/** What an upload asked S3 for, so cleanup knows what to undo. @internal */
export interface UploadRequestRecord {
  readonly multipartRequested: boolean;
  readonly objectRequested: boolean;
  readonly uploadId: string | undefined;
}

/** The ids of the multipart uploads in progress for the key (ListMultipartUploads, usually one page). @internal */
export async function openUploads({ client, bucket, key, signal }: UploadLocation): Promise<string[]> {
  const ids: string[] = [];
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    const listed = await client.send(
      new ListMultipartUploadsCommand({
        Bucket: bucket,
        Prefix: key,
        ...(keyMarker !== undefined ? { KeyMarker: keyMarker } : {}),
        ...(uploadIdMarker !== undefined ? { UploadIdMarker: uploadIdMarker } : {}),
      }),
      { abortSignal: signal },
    );
    for (const found of listed.Uploads ?? []) {
      if (found.Key === key && found.UploadId) ids.push(found.UploadId);
    }
    if (!listed.IsTruncated || (listed.NextKeyMarker === undefined && listed.NextUploadIdMarker === undefined))
      return ids;
    keyMarker = listed.NextKeyMarker;
    uploadIdMarker = listed.NextUploadIdMarker;
  }
}

/** Aborts each upload; returns the first error other than NoSuchUpload (the upload is gone: what we want). @internal */
export async function abortUploads(
  { client, bucket, key, signal }: UploadLocation,
  ids: Iterable<string>,
): Promise<unknown> {
  let firstError: unknown;
  for (const id of ids) {
    try {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: id }), {
        abortSignal: signal,
      });
    } catch (error) {
      if (!isNoSuchUpload(error)) firstError ??= error;
    }
  }
  return firstError;
}

/**
 * After a multipart manifest is completed, aborts every other upload still open for its key: a CreateMultipartUpload
 * whose answer was lost took effect, and the SDK's retry started the upload that was completed (`completedId`).
 * Costs one ListMultipartUploads request per multipart manifest (none for a manifest stored with PutObject).
 * @internal
 */
export async function sweepStrayUploads(location: UploadLocation, completedId: string | undefined): Promise<void> {
  try {
    const stray = (await openUploads(location)).filter((id) => id !== completedId);
    const error = await abortUploads(location, stray);
    if (error !== undefined) throw error;
  } catch (error) {
    throw new PresignPipelineError(
      'MANIFEST_WRITE_FAILED',
      `s3ManifestWriter: could not make sure no other multipart upload is left open for s3://${location.bucket}/${location.key}`,
      { cause: error },
    );
  }
}

/**
 * Removes every trace of an upload whose requests have all settled: aborts the multipart upload, finding it by key if
 * its id never arrived, and deletes the object if a request that creates it was sent (S3 may have carried it out
 * although we cancelled it).
 * @throws PresignPipelineError `MANIFEST_WRITE_FAILED` when something may be left behind.
 * @internal
 */
export async function removeUploadTraces(location: UploadLocation, record: UploadRequestRecord): Promise<void> {
  let cleanupError: unknown;
  if (record.multipartRequested) {
    // Every upload started for the key: the one whose id we hold, and any whose CreateMultipartUpload answer was
    // lost (the SDK then retried and started another).
    const ids = new Set<string>(record.uploadId === undefined ? [] : [record.uploadId]);
    try {
      for (const id of await openUploads(location)) ids.add(id);
    } catch (error) {
      cleanupError = error;
    }
    cleanupError ??= await abortUploads(location, ids);
  }
  let objectLeft = false;
  if (record.objectRequested) {
    // The key is this writer's alone (a fresh UUID), so the delete cannot touch anything else.
    try {
      await location.client.send(new DeleteObjectCommand({ Bucket: location.bucket, Key: location.key }), {
        abortSignal: location.signal,
      });
    } catch (error) {
      objectLeft = true;
      cleanupError ??= error;
    }
  }
  if (cleanupError !== undefined) {
    throw new PresignPipelineError(
      'MANIFEST_WRITE_FAILED',
      `s3ManifestWriter: could not ${objectLeft ? 'delete' : 'abort the multipart upload of'} s3://${location.bucket}/${location.key}; it may be left behind`,
      { cause: cleanupError },
    );
  }
}

function isNoSuchUpload(error: unknown): boolean {
  const e = error as { name?: unknown; Code?: unknown; $metadata?: { httpStatusCode?: unknown } } | null;
  return e?.name === 'NoSuchUpload' || e?.Code === 'NoSuchUpload' || e?.$metadata?.httpStatusCode === 404;
}
