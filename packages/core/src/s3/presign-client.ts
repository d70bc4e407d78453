import { S3Client } from '@aws-sdk/client-s3';
import type { S3ClientConfig } from '@aws-sdk/client-s3';

/** The name of the middleware that drops `x-id` from requests made by a presign client. @internal */
export const DROP_X_ID_MIDDLEWARE = 'presignPipelineDropXId';

/**
 * Builds the private S3 client that presigns GET URLs on behalf of `client`.
 *
 * Why a second client: since @aws-sdk/client-s3 3.729 a client with the default `responseChecksumValidation:
 * 'WHEN_SUPPORTED'` adds `x-amz-checksum-mode=ENABLED` to every presigned GET, and the SDK adds `x-id=GetObject` to
 * the query. Several S3-compatible stores reject one or both, and the checksum mode breaks Range requests. This
 * client shares what decides the URL (region, endpoint, path style, endpoint variants, credential provider and the
 * HTTP handler) but validates checksums only when required, and a build-step middleware drops `x-id`. It is built
 * once per presigner; it sends no request of its own (except S3 Express sessions) and must never be destroyed,
 * since its request handler is the user's.
 *
 * The resulting URLs carry exactly `X-Amz-Algorithm`, `X-Amz-Content-Sha256`, `X-Amz-Credential`, `X-Amz-Date`,
 * `X-Amz-Expires`, `X-Amz-Security-Token` (with session credentials), `X-Amz-Signature` and `X-Amz-SignedHeaders`,
 * sorted, and `host` is the only signed header.
 * @internal
 */
export function createPresignClient(client: S3Client): S3Client {
  const config = client.config;
  const shared: S3ClientConfig = {
    region: config.region,
    credentials: config.credentials,
    forcePathStyle: config.forcePathStyle,
    useAccelerateEndpoint: config.useAccelerateEndpoint,
    useFipsEndpoint: config.useFipsEndpoint,
    useDualstackEndpoint: config.useDualstackEndpoint,
    useArnRegion: config.useArnRegion,
    useGlobalEndpoint: config.useGlobalEndpoint,
    disableMultiregionAccessPoints: config.disableMultiregionAccessPoints,
    disableS3ExpressSessionAuth: config.disableS3ExpressSessionAuth,
    bucketEndpoint: config.bucketEndpoint,
    sigv4aSigningRegionSet: config.sigv4aSigningRegionSet,
    endpointProvider: config.endpointProvider,
    requestHandler: config.requestHandler,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
  // Only an endpoint the user gave is copied; otherwise the rule set derives it from the region, as for the user.
  if (config.isCustomEndpoint && config.endpoint) shared.endpoint = config.endpoint;
  const presignClient = new S3Client(shared);
  presignClient.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { query?: Record<string, unknown> } | undefined;
      if (request && typeof request.query === 'object' && request.query !== null) delete request.query['x-id'];
      return next(args);
    },
    { step: 'build', name: DROP_X_ID_MIDDLEWARE, override: true },
  );
  return presignClient;
}
