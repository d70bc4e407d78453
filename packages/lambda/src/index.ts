export { createPresignHandler, handler, DEFAULT_FUNCTION_NAME, DEFAULT_NAMESPACE } from './handler.js';
export type { PresignHandler, PresignHandlerOptions, PresignResponse, PresignSuccessBody } from './handler-types.js';
export { resolveConfig, MAX_EXPIRY_SECONDS, MIN_DEADLINE_MARGIN_MS } from './config.js';
export type {
  ConfigResult,
  HandlerEnv,
  ManifestEncryption,
  ManifestSse,
  PresignConfig,
  PresignEvent,
  RequestRejection,
  ResolveConfigOptions,
  ValueSource,
} from './config.js';
export { checkAccess, resolveAccessPolicy } from './access.js';
export type { AccessPolicy } from './access.js';
export type { PresignerChoice } from './clients.js';
export { DEFAULT_IDEMPOTENCY_MARGIN_SECONDS, DEFAULT_IDEMPOTENCY_TTL_SECONDS } from './idempotency.js';
export type {
  DedupOutcome,
  IdempotencyOptions,
  IdempotencySettings,
  IdempotencyStore,
  IdempotentJob,
  JobKey,
  StoredResult,
} from './idempotency.js';
export { createSqsHandler, SqsJobError } from './sqs.js';
export type { SqsHandler, SqsHandlerOptions } from './sqs.js';
export { ensureManifestLifecycle, MANIFEST_LIFECYCLE_RULE_ID } from './lifecycle.js';
export { BatchInputError, batchPartKey, createBatchHandler, createManifestIndexHandler } from './batch.js';
export type {
  BatchHandlerOptions,
  DistributedMapS3Item,
  ManifestIndexEvent,
  ManifestIndexHandler,
  ManifestIndexResult,
  PresignBatchEvent,
  PresignBatchHandler,
  PresignBatchInput,
  PresignBatchResult,
} from './batch.js';
export type { ManifestLifecycleOptions, ManifestLifecycleResult } from './lifecycle.js';

/** The package version. */
export const VERSION = '0.1.0';
