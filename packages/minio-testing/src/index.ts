/**
 * An S3 endpoint for integration suites: an existing server (`S3_ENDPOINT_URL`), MinIO
 * through Testcontainers when a container runtime answers, or a local `moto_server`
 * process; plus a fault-injection proxy to put in front of it.
 * @module
 */
export { createBucket, defaultSeedBody, DEFAULT_SEED_CONCURRENCY, seedObjects } from './bucket.js';
export type { SeedEntries, SeedEntry, SeedOptions } from './bucket.js';
export { createS3Client } from './client.js';
export type { S3Credentials, S3EndpointInfo } from './client.js';
export {
  connectS3Endpoint,
  DEFAULT_ENDPOINT_ORDER,
  startS3Endpoint,
  TEST_CREDENTIALS,
  toProvided,
} from './endpoint.js';
export type { ProvidedS3Endpoint, S3Endpoint, StartS3EndpointOptions } from './endpoint.js';
export { S3EndpointUnavailableError } from './errors.js';
export type { S3EndpointAttempt, S3EndpointKind } from './errors.js';
export { MINIO_TEST_CREDENTIALS, startMinioContainer } from './minio.js';
export type { MinioServer } from './minio.js';
export { DEFAULT_MOTO_START_TIMEOUT_MS, startMotoServer } from './moto.js';
export type { MotoServer, MotoServerOptions } from './moto.js';
export { DEFAULT_RUNTIME_TIMEOUT_MS, detectContainerRuntime, pinnedMinioImage } from './runtime.js';
export type { ContainerRuntimeStatus } from './runtime.js';
export { PROVIDED_S3_ENDPOINT_KEY } from './provided-context.js';
export { classifyS3Request, S3_OPERATIONS, startFaultProxy } from './fault-proxy.js';
export type {
  FaultKind,
  FaultProxy,
  FaultProxyHits,
  FaultProxyOptions,
  FaultRule,
  FaultRuleHits,
  S3Operation,
  S3RequestInfo,
} from './fault-proxy.js';
