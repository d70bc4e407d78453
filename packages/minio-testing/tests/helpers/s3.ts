import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';

/** Every key under a prefix, following continuation tokens. */
export async function listAll(
  client: S3Client,
  bucket: string,
  prefix = '',
  pageSize = 1000,
): Promise<{ keys: string[]; pages: number }> {
  const keys: string[] = [];
  let pages = 0;
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: pageSize, ContinuationToken: token }),
    );
    pages++;
    for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return { keys, pages };
}

/** An object's body as bytes. */
export async function getBytes(client: S3Client, bucket: string, key: string): Promise<Uint8Array> {
  const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!response.Body) throw new Error(`no body for ${key}`);
  return response.Body.transformToByteArray();
}

/** Whether a process with this id exists (signal 0 checks without signalling). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A unique bucket name per test, so tests sharing one endpoint never collide. */
export function bucketName(label: string): string {
  return `${label}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`.toLowerCase();
}
