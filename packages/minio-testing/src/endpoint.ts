import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { createBucket, seedObjects, type SeedEntries, type SeedOptions } from './bucket.js';
import { createS3Client, type S3Credentials, type S3EndpointInfo } from './client.js';
import { S3EndpointUnavailableError, type S3EndpointAttempt, type S3EndpointKind } from './errors.js';
import { startMinioContainer } from './minio.js';
import { findExecutable, startMotoServer } from './moto.js';
import { DEFAULT_RUNTIME_TIMEOUT_MS, detectContainerRuntime, messageOf, pinnedMinioImage } from './runtime.js';

/** A started (or connected) S3 endpoint: where it is, a client for it, and helpers to fill it. */
export interface S3Endpoint extends S3EndpointInfo, AsyncDisposable {
  /** Which way the endpoint was obtained. */
  readonly kind: S3EndpointKind;
  /** A client for the endpoint: path-style, checksums only when required. Destroyed by `stop()`. */
  readonly client: S3Client;
  /** Creates a bucket; a bucket that already exists counts as created. */
  createBucket(name: string): Promise<void>;
  /**
   * Uploads objects (entries, or plain keys whose body is `defaultSeedBody(key)`), about 32 in flight.
   * @returns how many objects were stored.
   */
  seed(bucket: string, entries: SeedEntries, options?: SeedOptions): Promise<number>;
  /** The moto_server process id when this handle started one, so a test can check it is gone after `stop()`. */
  readonly pid?: number;
  /** Stops what was started (container or process) and destroys the client. Safe to call twice. */
  stop(): Promise<void>;
}

/** Options of {@link startS3Endpoint}. */
export interface StartS3EndpointOptions {
  /**
   * The ways to try, in order. Default: the comma-separated `S3_ENDPOINT_PREFER` from the
   * environment (e.g. `moto` to skip the container check on CI), else `['external', 'minio', 'moto']`.
   */
  readonly prefer?: readonly S3EndpointKind[];
  /** How long to wait for a container runtime to answer, default 5 s. */
  readonly runtimeTimeoutMs?: number;
  /** MinIO image; default the pin in this package's Dockerfile. */
  readonly image?: string;
  /** Where the one-line notice of the choice goes; default stderr, `false` for none. */
  readonly log?: ((line: string) => void) | false;
  /** How long moto_server may take to answer, default 20 s. */
  readonly motoStartTimeoutMs?: number;
  /** Environment to read `S3_ENDPOINT_URL` and credentials from; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Settings merged into the client the handle carries. */
  readonly clientOverrides?: Partial<S3ClientConfig>;
}

/** The order {@link startS3Endpoint} tries by default. */
export const DEFAULT_ENDPOINT_ORDER: readonly S3EndpointKind[] = ['external', 'minio', 'moto'];

/** Credentials used with an external endpoint when the environment has none, and with moto_server. */
export const TEST_CREDENTIALS: S3Credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

const DEFAULT_REGION = 'us-east-1';
const KINDS: readonly S3EndpointKind[] = ['external', 'minio', 'moto'];

interface Started {
  readonly info: S3EndpointInfo;
  readonly detail: string;
  readonly stop: () => Promise<void>;
  readonly pid?: number;
}

/** A setting the user gave that is wrong: reported at once instead of falling back to another endpoint. */
class EndpointConfigError extends TypeError {}

/**
 * Gets an S3 endpoint for tests, trying in order: `S3_ENDPOINT_URL` (a server already
 * running), MinIO in a container when a container runtime answers, then a `moto_server`
 * process on a free loopback port. Reports the choice on stderr (or `log`).
 * @throws S3EndpointUnavailableError listing why each way failed and how to get one.
 * @throws TypeError when `prefer` or `S3_ENDPOINT_URL` is malformed (no fallback hides a typo).
 */
export async function startS3Endpoint(options: StartS3EndpointOptions = {}): Promise<S3Endpoint> {
  const env = options.env ?? process.env;
  const fromEnv = env.S3_ENDPOINT_PREFER?.trim();
  const order = options.prefer ?? (fromEnv ? fromEnv.split(',').map((k) => k.trim()) : DEFAULT_ENDPOINT_ORDER);
  if (!Array.isArray(order) || order.length === 0 || order.some((k) => !KINDS.includes(k as S3EndpointKind))) {
    const field = options.prefer ? 'prefer' : 'S3_ENDPOINT_PREFER';
    throw new TypeError(`startS3Endpoint: ${field} must list one or more of ${KINDS.map((k) => `'${k}'`).join(', ')}`);
  }
  const log =
    options.log === false ? undefined : (options.log ?? ((line: string) => process.stderr.write(`${line}\n`)));
  const attempts: S3EndpointAttempt[] = [];

  for (const kind of order as readonly S3EndpointKind[]) {
    let started: Started;
    try {
      started = await tryKind(kind, options, env);
    } catch (error) {
      if (error instanceof EndpointConfigError) throw error;
      attempts.push({ kind, reason: messageOf(error) });
      continue;
    }
    const skipped = attempts.length ? `; skipped ${attempts.map((a) => `${a.kind} (${a.reason})`).join(', ')}` : '';
    log?.(`[minio-testing] S3 endpoint: ${kind} at ${redact(started.info.endpoint)}${started.detail}${skipped}`);
    return makeHandle(kind, started.info, started.stop, options.clientOverrides, started.pid);
  }
  throw new S3EndpointUnavailableError(attempts);
}

/** The URL without user info, so a password in `S3_ENDPOINT_URL` never reaches a log line. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(unparseable URL)';
  }
}

async function tryKind(
  kind: S3EndpointKind,
  options: StartS3EndpointOptions,
  env: Readonly<Record<string, string | undefined>>,
): Promise<Started> {
  switch (kind) {
    case 'external': {
      const url = env.S3_ENDPOINT_URL;
      if (url === undefined || url === '') throw new Error('S3_ENDPOINT_URL is not set');
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw new EndpointConfigError(`S3_ENDPOINT_URL is not a URL: ${JSON.stringify(url)}`);
      }
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
        throw new EndpointConfigError(`S3_ENDPOINT_URL must be an http(s) URL, got ${parsed.protocol}`);
      }
      const accessKeyId = env.AWS_ACCESS_KEY_ID;
      const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
      const credentials = accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : TEST_CREDENTIALS;
      const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || DEFAULT_REGION;
      return {
        info: { endpoint: url.replace(/\/+$/, ''), region, credentials },
        detail: ' (from S3_ENDPOINT_URL; not started here, so not stopped)',
        stop: async () => undefined,
      };
    }
    case 'minio': {
      const status = await detectContainerRuntime(options.runtimeTimeoutMs ?? DEFAULT_RUNTIME_TIMEOUT_MS);
      if (!status.available) throw new Error(`no container runtime: ${status.reason ?? 'unknown reason'}`);
      const image = options.image ?? pinnedMinioImage();
      const server = await startMinioContainer(image);
      return {
        info: { endpoint: server.endpoint, region: DEFAULT_REGION, credentials: server.credentials },
        detail: ` (${image})`,
        stop: server.stop,
      };
    }
    case 'moto': {
      if (!findExecutable('moto_server')) throw new Error('moto_server is not on PATH');
      const server = await startMotoServer(
        options.motoStartTimeoutMs === undefined ? {} : { startTimeoutMs: options.motoStartTimeoutMs },
      );
      return {
        info: { endpoint: server.endpoint, region: DEFAULT_REGION, credentials: TEST_CREDENTIALS },
        detail: ` (moto_server pid ${server.pid})`,
        stop: server.stop,
        pid: server.pid,
      };
    }
  }
}

/** What the vitest globalSetup hands to test workers: plain data, no client. */
export interface ProvidedS3Endpoint extends S3EndpointInfo {
  /** Which way the endpoint was obtained. */
  readonly kind: S3EndpointKind;
}

/**
 * Builds a handle (client, `createBucket`, `seed`) for an endpoint started elsewhere,
 * e.g. in vitest's globalSetup. Its `stop()` destroys only the client: the server
 * belongs to whoever started it.
 * @param provided the endpoint's facts, e.g. `inject('s3Endpoint')`.
 * @param clientOverrides settings merged into the client.
 */
export function connectS3Endpoint(provided: ProvidedS3Endpoint, clientOverrides?: Partial<S3ClientConfig>): S3Endpoint {
  if (!provided || typeof provided.endpoint !== 'string' || provided.endpoint === '') {
    throw new TypeError(
      'connectS3Endpoint: no endpoint was provided; add @presign-pipeline/minio-testing/global-setup to the vitest globalSetup',
    );
  }
  return makeHandle(provided.kind, provided, async () => undefined, clientOverrides);
}

/** The serialisable part of a handle, as the globalSetup provides it. */
export function toProvided(endpoint: S3Endpoint | ProvidedS3Endpoint): ProvidedS3Endpoint {
  return {
    kind: endpoint.kind,
    endpoint: endpoint.endpoint,
    region: endpoint.region,
    credentials: {
      accessKeyId: endpoint.credentials.accessKeyId,
      secretAccessKey: endpoint.credentials.secretAccessKey,
    },
  };
}

function makeHandle(
  kind: S3EndpointKind,
  info: S3EndpointInfo,
  stopServer: () => Promise<void>,
  clientOverrides: Partial<S3ClientConfig> | undefined,
  pid?: number,
): S3Endpoint {
  const client = createS3Client(info, clientOverrides);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      client.destroy();
      await stopServer();
    })();
    return stopping;
  };
  return {
    kind,
    endpoint: info.endpoint,
    region: info.region,
    credentials: info.credentials,
    client,
    ...(pid === undefined ? {} : { pid }),
    createBucket: (name) => createBucket(client, name),
    seed: (bucket, entries, seedOptions) => seedObjects(client, bucket, entries, seedOptions),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
