import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DEFAULTS } from '../config.js';

/** The first lines of a run's manifest. */
export interface ManifestPreview {
  /** The bucket read. */
  readonly bucket: string;
  /** The manifest's key. */
  readonly key: string;
  /** The first entries; each URL fetches its object from the endpoint it was signed for. */
  readonly lines: ReadonlyArray<{ readonly key: string; readonly url: string }>;
  /** Why the preview could not be read, if it could not. */
  readonly error?: string;
}

/** Bytes read from the manifest's start: enough for the preview's lines, whatever the manifest's size. */
const PREVIEW_BYTES = 64 * 1024;

/** Where a run's manifest is, from the event, the environment and the 200 body. */
export function manifestLocation(
  event: unknown,
  env: Readonly<Record<string, string | undefined>>,
  body: unknown,
): { bucket: string; key: string } | undefined {
  const key = (body as { manifest_key?: unknown } | undefined)?.manifest_key;
  if (typeof key !== 'string' || key === '') return undefined;
  const fromEvent = (event as { bucket?: unknown } | null | undefined)?.bucket;
  const bucket = typeof fromEvent === 'string' && fromEvent !== '' ? fromEvent : env.BUCKET_NAME || DEFAULTS.bucket;
  return { bucket, key };
}

/** Reads manifests for previews, with one S3 client per endpoint. */
export function manifestPreviewer(): (
  location: { bucket: string; key: string },
  env: Readonly<Record<string, string | undefined>>,
  lines: number,
) => Promise<ManifestPreview> {
  const clients = new Map<string, S3Client>();
  const clientFor = (env: Readonly<Record<string, string | undefined>>): S3Client => {
    const endpoint = env.S3_ENDPOINT_URL || '';
    let client = clients.get(endpoint);
    if (client === undefined) {
      const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
      client = new S3Client({ region, ...(endpoint !== '' ? { endpoint, forcePathStyle: true } : {}) });
      clients.set(endpoint, client);
    }
    return client;
  };
  return async (location, env, count) => {
    try {
      const response = await clientFor(env).send(
        new GetObjectCommand({ Bucket: location.bucket, Key: location.key, Range: `bytes=0-${PREVIEW_BYTES - 1}` }),
      );
      const text = (await response.Body?.transformToString('utf8')) ?? '';
      const complete = text.split('\n').slice(0, -1);
      const lines = complete.slice(0, count).map((line) => {
        const entry = JSON.parse(line) as { key?: unknown; url?: unknown };
        return { key: String(entry.key), url: String(entry.url) };
      });
      return { ...location, lines };
    } catch (error) {
      return {
        ...location,
        lines: [],
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      };
    }
  };
}
