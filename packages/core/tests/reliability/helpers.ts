import { GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { createS3Client } from '@presign-pipeline/minio-testing';
import type { S3EndpointInfo } from '@presign-pipeline/minio-testing';
import type { ManifestEntry, Presigner } from '../../src/types.js';

/**
 * A client through the fault proxy, as a user would build one: the SDK's standard retries with `maxAttempts`, and an
 * idle-socket timeout so a stalled response fails (and is retried) instead of hanging.
 */
export function clientThrough(
  target: S3EndpointInfo,
  proxyEndpoint: string,
  maxAttempts: number,
  overrides: Partial<S3ClientConfig> = {},
): S3Client {
  return createS3Client(
    { ...target, endpoint: proxyEndpoint },
    { maxAttempts, requestHandler: { connectionTimeout: 5_000, socketTimeout: SOCKET_TIMEOUT_MS }, ...overrides },
  );
}

/** The idle-socket timeout of {@link clientThrough}; a `delay` fault longer than this is a stalled response. */
export const SOCKET_TIMEOUT_MS = 2_000;

/**
 * A presigner that costs nothing and makes URLs of about `bytes` characters, so a few hundred keys make a manifest of
 * several megabytes (a multipart upload). The URL is a function of the key, so a manifest can be checked line by line.
 */
export function paddedPresigner(bytes: number): Presigner & { urlOf: (key: string) => string } {
  const urlOf = (key: string): string => {
    const head = `https://example.invalid/${encodeURIComponent(key)}?X-Amz-Expires=900&pad=`;
    return head + 'p'.repeat(Math.max(0, bytes - head.length));
  };
  return { urlOf, presign: async ({ key }) => urlOf(key) };
}

/** Reads a whole object as UTF-8 text. */
export async function readText(client: S3Client, bucket: string, key: string): Promise<string> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await out.Body?.transformToString('utf-8')) ?? '';
}

/** Parses JSONL text into entries; throws on any line that is not an entry. */
export function parseManifest(text: string): ManifestEntry[] {
  if (text === '') return [];
  if (!text.endsWith('\n')) throw new Error('manifest does not end with a newline');
  return text
    .slice(0, -1)
    .split('\n')
    .map((line, i) => {
      const value = JSON.parse(line) as unknown;
      const entry = value as ManifestEntry;
      if (
        typeof entry?.key !== 'string' ||
        typeof entry.url !== 'string' ||
        Object.keys(value as object).length !== 2
      ) {
        throw new Error(`manifest line ${i + 1} is not {key, url}`);
      }
      return entry;
    });
}

/** Multipart uploads in progress under a prefix. */
export async function uploadsUnder(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const out = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  return (out.Uploads ?? []).map((u) => `${u.Key ?? '?'} ${u.UploadId ?? '?'}`);
}

/** Object keys under a prefix (one page is enough for the few objects these tests create). */
export async function objectsUnder(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const out = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key ?? '');
}

/** Keys that occur more than once. */
export function duplicates(keys: readonly string[]): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const key of keys) (seen.has(key) ? twice : seen).add(key);
  return [...twice];
}

/**
 * Settles `promise` or fails after `ms` with a clear message, so a hang is reported as such (the test's own timeout
 * is the outer bound).
 */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** What a promise settled with, without throwing. */
export async function settle<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * Open TCP connections from this process to `port` on loopback, read from /proc (Linux): idle keep-alive sockets
 * are unref'ed, so `process.getActiveResourcesInfo()` does not list them, but a leaked pool still holds them.
 * Undefined where /proc is not available.
 */
export async function connectionsTo(port: number): Promise<number | undefined> {
  const { readdir, readlink, readFile } = await import('node:fs/promises');
  let fds: string[];
  try {
    fds = await readdir('/proc/self/fd');
  } catch {
    return undefined;
  }
  const inodes = new Set<string>();
  for (const fd of fds) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match?.[1] !== undefined) inodes.add(match[1]);
  }
  let count = 0;
  for (const table of ['/proc/self/net/tcp', '/proc/self/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const remote = fields[2];
      const state = fields[3];
      const inode = fields[9];
      if (remote === undefined || inode === undefined) continue;
      const remotePort = Number.parseInt(remote.split(':')[1] ?? '', 16);
      // 01 = ESTABLISHED; closing states (FIN_WAIT, TIME_WAIT…) are on their way out.
      if (remotePort === port && state === '01' && inodes.has(inode)) count++;
    }
  }
  return count;
}
