import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { fastPresigner, sdkPresigner, type Presigner } from '@presign-pipeline/core';
import type { HandlerEnv } from './config.js';
import { optionTypeError } from '@presign-pipeline/core/internal';

/** Which presigner signs the URLs: the built-in fast SigV4 one, the AWS SDK's, or one you build from the signing client. */
export type PresignerChoice = 'fast' | 'sdk' | ((signingClient: S3Client) => Presigner);

/** The clients one endpoint configuration needs, built once and reused by every warm invocation. */
export interface ClientSet {
  /** Lists and uploads (talks to `S3_ENDPOINT_URL`, or AWS). */
  readonly client: S3Client;
  /** Only signs, for the endpoint consumers use; the same object as `client` without a public endpoint. */
  readonly signingClient: S3Client;
  /** Signs object and manifest URLs with `signingClient`. */
  readonly presigner: Presigner;
}

/** Options of {@link createClientCache}. */
export interface ClientCacheOptions {
  /** A client to use as is for listing and uploading; `S3_ENDPOINT_URL` is then ignored. */
  readonly s3Client?: S3Client;
  /** Extra configuration for the clients the cache builds (region, credentials, retries, timeouts…). */
  readonly clientConfig?: S3ClientConfig;
  /** The presigner to use. Default `'fast'` (byte-identical URLs to `'sdk'`, proven by the core's property test, at a fraction of the CPU). */
  readonly presigner?: PresignerChoice;
}

const MAX_CACHED = 8;
const CONNECTION_TIMEOUT_MS = 5_000;
const SOCKET_IDLE_TIMEOUT_MS = 60_000;

function resolvePresigner(choice: PresignerChoice, signingClient: S3Client): Presigner {
  if (typeof choice === 'function') return choice(signingClient);
  if (choice === 'fast') return fastPresigner({ client: signingClient });
  if (choice === 'sdk') return sdkPresigner({ client: signingClient });
  throw optionTypeError(
    `createPresignHandler: presigner must be 'fast', 'sdk' or a function (got ${JSON.stringify(choice)})`,
  );
}

/**
 * Builds and caches S3 clients per (endpoint, public endpoint), so a warm Lambda reuses its sockets and credentials
 * across invocations while still reading `S3_ENDPOINT_URL` per invocation.
 */
export function createClientCache(
  options: ClientCacheOptions = {},
): (env: HandlerEnv, endpoint?: string, publicEndpoint?: string) => ClientSet {
  const cache = new Map<string, ClientSet>();
  const choice = options.presigner ?? 'fast';

  return (env, endpoint, publicEndpoint) => {
    const cacheKey =
      options.s3Client !== undefined ? `client|${publicEndpoint ?? ''}` : `${endpoint ?? ''}|${publicEndpoint ?? ''}`;
    const cached = cache.get(cacheKey);
    if (cached !== undefined) return cached;

    const region = options.clientConfig?.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
    const base: S3ClientConfig = {
      // Keeps checksum parameters out of presigned GET URLs (they break ranged and non-AWS GETs).
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // A connection that never opens or a response that stalls fails (and is retried) instead of hanging the run.
      requestHandler: { connectionTimeout: CONNECTION_TIMEOUT_MS, socketTimeout: SOCKET_IDLE_TIMEOUT_MS },
      ...options.clientConfig,
      region,
    };
    const client =
      options.s3Client ??
      new S3Client({ ...base, ...(endpoint !== undefined ? { endpoint, forcePathStyle: true } : {}) });
    let signingClient = client;
    if (publicEndpoint !== undefined) {
      signingClient =
        options.s3Client !== undefined
          ? new S3Client({
              region: options.s3Client.config.region,
              credentials: options.s3Client.config.credentials,
              requestChecksumCalculation: 'WHEN_REQUIRED',
              responseChecksumValidation: 'WHEN_REQUIRED',
              endpoint: publicEndpoint,
              forcePathStyle: true,
            })
          : new S3Client({ ...base, endpoint: publicEndpoint, forcePathStyle: true });
    }
    const set: ClientSet = { client, signingClient, presigner: resolvePresigner(choice, signingClient) };
    if (cache.size >= MAX_CACHED) {
      const oldest = cache.keys().next();
      if (oldest.done !== true) {
        const evicted = cache.get(oldest.value);
        cache.delete(oldest.value);
        if (evicted !== undefined) {
          if (evicted.signingClient !== evicted.client) evicted.signingClient.destroy();
          if (options.s3Client === undefined) evicted.client.destroy();
        }
      }
    }
    cache.set(cacheKey, set);
    return set;
  };
}
