// Loads the BUILT packages (packages/*/dist) and the SDK the same way (CommonJS), so classes match across them.
import { createRequire } from 'node:module';

const rootRequire = createRequire(new URL('../../package.json', import.meta.url));

/** `require` as seen from packages/core, which depends on the AWS SDK and (dev) on @smithy/signature-v4. */
export const coreRequire = createRequire(new URL('../../packages/core/package.json', import.meta.url));

/** The built @presign-pipeline/core (its CommonJS entry). */
export const core = () => rootRequire('@presign-pipeline/core');

/** The built @presign-pipeline/minio-testing (ESM only). */
export const minioTesting = () => import('@presign-pipeline/minio-testing');

/**
 * Lambda-like temporary credentials for the benchmarks: Lambda always signs with a session token, which makes each
 * URL about 1.7 KB. Local endpoints accept any. A fresh object each call: the SDK writes into the one it is given.
 */
export function sessionCredentials() {
  return {
    accessKeyId: 'ASIAEXAMPLEBENCHKEY1',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    sessionToken: `IQoJb3JpZ2luX2VjE${'Abc123/+='.repeat(80)}`,
  };
}

/**
 * An S3 client for a local endpoint, as every benchmark builds one: path-style requests and checksums only where
 * S3 requires them (as the handler's clients send), in `region` (us-east-1 unless given).
 */
export function endpointClient({ endpoint, region = 'us-east-1', credentials }) {
  const { S3Client } = coreRequire('@aws-sdk/client-s3');
  return new S3Client({
    endpoint,
    region,
    forcePathStyle: true,
    credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
