// The handler's public types, apart from handler.ts so that its steps can use them without importing the handler.
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import type { Reporter } from '@presign-pipeline/core';
import type { Context } from 'aws-lambda';
import type { PresignerChoice } from './clients.js';
import type { HandlerEnv, ManifestEncryption } from './config.js';
import type { IdempotencyOptions, IdempotencyStore } from './idempotency.js';

/** What the handler returns: an API-Gateway-style status and a JSON body. */
export interface PresignResponse {
  /** 200 on success, 400 for a malformed request, 403 outside the allow-list, 409 while a duplicate runs. */
  statusCode: number;
  /**
   * The JSON body: `{count, errors, manifest_key, manifest_url, complete[, next_start_after]}` on 200, `{error, field}`
   * otherwise.
   */
  body: string;
}

/** The body of a 200 response, keys in this order. */
export interface PresignSuccessBody {
  /** Keys presigned. */
  count: number;
  /** Keys that failed to presign. */
  errors: number;
  /** The manifest's key in the listed bucket. */
  manifest_key: string;
  /** A presigned GET URL of the manifest. */
  manifest_url: string;
  /** False when the run stopped at the invocation's deadline: invoke again with `start_after: next_start_after`. */
  complete: boolean;
  /** Present when `complete` is false after a sequential listing: the event's `start_after` for the next invocation. */
  next_start_after?: string;
  /**
   * Present instead of `next_start_after` when `complete` is false after an inventory run (a token `inv1.…`) or a
   * concurrent listing (`list_concurrency` > 1, or a `resume_token` given; a token `v1.…`): the event's
   * `resume_token` for the next invocation.
   */
  resume_token?: string;
}

/** A Lambda handler for presign jobs. The context is optional so the handler can be called from plain code and tests. */
export type PresignHandler = (event: unknown, context?: Context) => Promise<PresignResponse>;

/** Options of {@link createPresignHandler}. Every option has the reference handler's default. */
export interface PresignHandlerOptions {
  /** CloudWatch namespace of the EMF document. Default `eth/sign_pdfs_optimized`. */
  namespace?: string;
  /** Value of the `Function` dimension. Default `sign_pdfs_optimized`. */
  functionName?: string;
  /** The endpoint URLs are signed for, when consumers reach S3 by another host than the function (overrides `S3_PUBLIC_ENDPOINT_URL`). */
  publicEndpoint?: string;
  /** A ready S3 client for listing and uploading; `S3_ENDPOINT_URL` is then ignored. */
  s3Client?: S3Client;
  /** Configuration merged into the S3 clients the handler builds (region, credentials, retries, request timeouts…). */
  clientConfig?: S3ClientConfig;
  /** Which presigner signs URLs: `'fast'` (default), `'sdk'` or a factory given the signing client. */
  presigner?: PresignerChoice;
  /** Deduplicate jobs through DynamoDB (see {@link IdempotencyOptions}); default: on when `IDEMPOTENCY_TABLE` is set. `false` turns it off. */
  idempotency?: IdempotencyOptions | false;
  /**
   * Where jobs are deduplicated when idempotency is on: `dynamoDbIdempotencyStore()` from
   * `@presign-pipeline/lambda/idempotency`. Without it, an invocation with idempotency on fails with
   * `IDEMPOTENCY_UNAVAILABLE` before anything is listed.
   */
  idempotencyStore?: IdempotencyStore;
  /** Where log lines and EMF documents go, one JSON object per call, without newline. Default: stdout. */
  write?: (line: string) => void;
  /** The environment, read on every invocation. Default `process.env`. */
  env?: HandlerEnv;
  /** Buckets events may name (overrides `ALLOWED_BUCKETS`). Default: any bucket the role can read. */
  allowedBuckets?: readonly string[];
  /** Prefixes an event's prefix must start with (overrides `ALLOWED_PREFIXES`). Default: any prefix. */
  allowedPrefixes?: readonly string[];
  /** Keys kept are those ending with this, case-insensitively. Default `.pdf`. */
  suffix?: string;
  /** Where manifests are written in the listed bucket. Default `manifests/`. */
  manifestPrefix?: string;
  /** More reporters subscribed to every run (progress displays, your own metrics). */
  reporters?: readonly Reporter[];
  /**
   * What to do when the signing credentials expire before `expiry_seconds` would (overrides `ON_EXPIRY_CAPPED`):
   * `'warn'` (default) caps the URLs' lifetime and logs `expiry_capped`; `'refuse'` fails the invocation with
   * `CREDENTIALS_EXPIRE_TOO_SOON` before anything is listed.
   */
  onExpiryCapped?: 'warn' | 'refuse';
  /**
   * Milliseconds kept free at the end of the invocation (overrides `DEADLINE_MARGIN_MS`; default 30000): listing
   * stops when the time left falls under it. It never takes more than half of the time the invocation started with.
   */
  deadlineMarginMs?: number;
  /**
   * Server-side encryption of the manifest objects (overrides `MANIFEST_SSE` and `MANIFEST_KMS_KEY_ID`). The
   * manifest holds bearer URLs, so a policy may require it encrypted with a given key. Default: the bucket's default
   * encryption. `kmsKeyId` is only valid with the `aws:kms` modes.
   */
  manifestEncryption?: ManifestEncryption;
  /**
   * Aborts the runs of this handler (a local tester's Cancel): listing and presigning stop, the manifest upload is
   * aborted so nothing is left behind, and the invocation fails with an `AbortError`. Default: none.
   */
  signal?: AbortSignal;
}
