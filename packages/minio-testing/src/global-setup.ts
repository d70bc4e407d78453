/**
 * A vitest globalSetup that starts one S3 endpoint per test run and hands it to every
 * test file: add `globalSetup: ['@presign-pipeline/minio-testing/global-setup']` to the
 * project's `test` config, then call `useS3Endpoint()` (or `inject('s3Endpoint')`) in tests.
 * @module
 */
import { startS3Endpoint, toProvided, type ProvidedS3Endpoint, type StartS3EndpointOptions } from './endpoint.js';
import { PROVIDED_S3_ENDPOINT_KEY } from './provided-context.js';

/** The part of vitest's `TestProject` the setup uses (structural, so this module needs no vitest types). */
export interface ProvidingProject {
  /** Hands a value to test workers, where `inject(key)` reads it. */
  provide(key: 's3Endpoint', value: ProvidedS3Endpoint): void;
}

/**
 * Starts the endpoint and provides it as `s3Endpoint`; the returned function stops it
 * when the run ends.
 * @param project the vitest project being set up.
 * @param options how to choose the endpoint; the default reads the environment.
 */
export default async function setup(
  project: ProvidingProject,
  options: StartS3EndpointOptions = {},
): Promise<() => Promise<void>> {
  const endpoint = await startS3Endpoint(options);
  project.provide(PROVIDED_S3_ENDPOINT_KEY, toProvided(endpoint));
  return async () => {
    await endpoint.stop();
  };
}
