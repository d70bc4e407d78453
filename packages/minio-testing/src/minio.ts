import type { S3Credentials } from './client.js';

/** A running MinIO container. */
export interface MinioServer {
  /** Base URL of the S3 API on the host. */
  readonly endpoint: string;
  /** Root credentials of the server. */
  readonly credentials: S3Credentials;
  /** Stops and removes the container. */
  stop(): Promise<void>;
}

/** Root user of the MinIO containers this package starts (test values). */
export const MINIO_TEST_CREDENTIALS: S3Credentials = { accessKeyId: 'minioadmin', secretAccessKey: 'minioadmin' };

/**
 * Starts MinIO through `@testcontainers/minio`, loaded only here so that no other path
 * loads Testcontainers.
 * @param image the image to run, e.g. the pin from this package's Dockerfile.
 */
export async function startMinioContainer(
  image: string,
  credentials: S3Credentials = MINIO_TEST_CREDENTIALS,
): Promise<MinioServer> {
  const { MinioContainer } = await import('@testcontainers/minio');
  const container = await new MinioContainer(image)
    .withUsername(credentials.accessKeyId)
    .withPassword(credentials.secretAccessKey)
    .start();
  return {
    endpoint: container.getConnectionUrl(),
    credentials,
    stop: async () => {
      await container.stop();
    },
  };
}
