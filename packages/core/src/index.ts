export { presignPipeline } from './pipeline.js';
export { PresignPipelineError, isPresignPipelineError } from './errors.js';
export type { PresignPipelineErrorCode, PresignPipelineErrorOptions } from './errors.js';
export { redactSecrets } from './redact.js';
export type {
  ObjectRef,
  KeySource,
  KeySourceContext,
  KeyPage,
  Presigner,
  PresignOptions,
  ManifestEntry,
  ManifestInfo,
  ManifestContext,
  ManifestWriter,
  Reporter,
  PipelineEventEmitter,
  PipelineEventListener,
  PresignPipelineEvents,
  PipelineStartedEvent,
  PageListedEvent,
  ItemErrorEvent,
  ExpiryCappedEvent,
  EntriesWrittenEvent,
  ManifestCompletedEvent,
  PipelineCompletedEvent,
  PipelineFailedEvent,
  PresignPipelineOptions,
  PipelineResult,
} from './types.js';
export { arrayKeySource } from './sources/array-key-source.js';
export type { ArrayKeySourceOptions } from './sources/array-key-source.js';
export { suffixFilter } from './sources/filters.js';
export type { KeyFilter } from './sources/filters.js';
export { memoryManifestWriter } from './manifest/memory-manifest-writer.js';
export type { MemoryManifestWriter } from './manifest/memory-manifest-writer.js';
export { fileManifestWriter } from './manifest/file-manifest-writer.js';
export type { FileManifestWriterOptions } from './manifest/file-manifest-writer.js';
export { jsonLogReporter } from './reporters/json-log-reporter.js';
export type { JsonLogReporterOptions } from './reporters/json-log-reporter.js';
export { checkS3ListResumeToken, s3ListSource } from './s3/s3-list-source.js';
export type {
  S3ListSourceOptions,
  S3ListPartitions,
  S3ListDelimiterPartitions,
  S3ListRangePartitions,
  S3ListAutoPartitions,
} from './s3/s3-list-source.js';
export { sdkPresigner } from './s3/sdk-presigner.js';
export type { SdkPresignerOptions } from './s3/sdk-presigner.js';
export { fastPresigner } from './s3/fast-presigner.js';
export type { FastPresigner, FastPresignerOptions } from './s3/fast-presigner.js';
export { s3ManifestWriter } from './s3/s3-manifest-writer.js';
export type { S3ManifestWriterOptions } from './s3/s3-manifest-writer.js';
export { s3InventorySource } from './inventory/s3-inventory-source.js';
export type { S3InventorySourceOptions } from './inventory/s3-inventory-source.js';
export type { InventoryManifestLocation, InventoryFileFormat } from './inventory/manifest.js';
export { isInventoryToken } from './inventory/resume-token.js';
