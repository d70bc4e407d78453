// Loads the BUILT packages (packages/*/dist) and the SDK the same way (CommonJS), so classes match across them.
import { createRequire } from 'node:module';

const rootRequire = createRequire(new URL('../../package.json', import.meta.url));

/** `require` as seen from packages/core, which depends on the AWS SDK and (dev) on @smithy/signature-v4. */
export const coreRequire = createRequire(new URL('../../packages/core/package.json', import.meta.url));

/** The built @presign-pipeline/core (its CommonJS entry). */
export const core = () => rootRequire('@presign-pipeline/core');

/** The built @presign-pipeline/minio-testing (ESM only). */
export const minioTesting = () => import('@presign-pipeline/minio-testing');
