/**
 * An S3 endpoint for integration suites: an existing server (`S3_ENDPOINT_URL`), MinIO
 * through Testcontainers when a container runtime answers, or a local `moto_server`
 * process; plus a fault-injection proxy to put in front of it, and an S3 simulator for load tests of listing
 * code (generated key sets of any size, S3's latency and throttling).
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
export { startS3Simulator } from './simulator/s3-simulator.js';
export type { S3Simulator, S3SimulatorCounters, S3SimulatorOptions } from './simulator/s3-simulator.js';
export type { SimulatedKeyLayout, SimulatedKeySet } from './simulator/key-layouts.js';
export type {
  S3SimulatorStoreMode,
  SimulatedObject,
  SimulatedPart,
  SimulatedUpload,
} from './simulator/object-store.js';
export { S3_READS_PER_SECOND_PER_PREFIX, S3_WRITES_PER_SECOND_PER_PREFIX } from './simulator/rate-limiter.js';
export type { S3SimulatorRateLimits } from './simulator/rate-limiter.js';
