import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  defaultSeedBody,
  S3EndpointUnavailableError,
  startMotoServer,
  startS3Endpoint,
  type S3Endpoint,
} from '../../src/index.js';
import { bucketName, getBytes, isAlive, listAll } from '../helpers/s3.js';

const text = new TextDecoder();

describe('startS3Endpoint on moto_server', () => {
  let endpoint: S3Endpoint | undefined;
  afterEach(async () => {
    await endpoint?.stop();
    endpoint = undefined;
  });

  it('starts moto on a loopback port, creates buckets idempotently, seeds, lists and reads back over HTTP', async () => {
    // Prepare
    const lines: string[] = [];
    endpoint = await startS3Endpoint({ prefer: ['moto'], log: (line) => lines.push(line) });
    const bucket = bucketName('seed');
    const plain = Array.from({ length: 250 }, (_, i) => `plain/${String(i).padStart(4, '0')}.pdf`);
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);

    // Act
    await endpoint.createBucket(bucket);
    await endpoint.createBucket(bucket);
    const count = await endpoint.seed(bucket, [
      ...plain,
      { key: 'custom/text.txt', body: 'hello' },
      { key: 'custom/bytes.bin', body: bytes },
    ]);
    const listed = await listAll(endpoint.client, bucket, '', 100);

    // Assess
    expect(endpoint.kind).toBe('moto');
    expect(endpoint.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(endpoint.region).toBe('us-east-1');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`moto at ${endpoint.endpoint}`);
    expect(count).toBe(252);
    expect(listed.pages).toBe(3);
    expect(listed.keys.sort()).toEqual([...plain, 'custom/bytes.bin', 'custom/text.txt'].sort());
    expect(text.decode(await getBytes(endpoint.client, bucket, 'plain/0007.pdf'))).toBe(
      defaultSeedBody('plain/0007.pdf'),
    );
    expect(text.decode(await getBytes(endpoint.client, bucket, 'custom/text.txt'))).toBe('hello');
    expect(await getBytes(endpoint.client, bucket, 'custom/bytes.bin')).toEqual(bytes);
  });

  it('seeds lazily from an async generator and reports the count', async () => {
    endpoint = await startS3Endpoint({ prefer: ['moto'], log: false });
    const bucket = bucketName('lazy');
    await endpoint.createBucket(bucket);
    let pulled = 0;
    async function* keys(): AsyncGenerator<string> {
      for (let i = 0; i < 120; i++) {
        pulled++;
        yield `gen/${i}`;
      }
    }

    const count = await endpoint.seed(bucket, keys(), { concurrency: 4 });

    expect(count).toBe(120);
    expect(pulled).toBe(120);
    expect((await listAll(endpoint.client, bucket)).keys).toHaveLength(120);
  });

  it('rejects seeding a bucket that does not exist with the S3 error', async () => {
    endpoint = await startS3Endpoint({ prefer: ['moto'], log: false });
    await expect(endpoint.seed(bucketName('missing'), ['a', 'b', 'c'])).rejects.toMatchObject({ name: 'NoSuchBucket' });
  });

  it('rejects bad seed input naming the field before uploading', async () => {
    endpoint = await startS3Endpoint({ prefer: ['moto'], log: false });
    await expect(endpoint.seed('b', ['k'], { concurrency: 0 })).rejects.toThrow(/concurrency/);
    await expect(endpoint.seed('', ['k'])).rejects.toThrow(/bucket/);
    await expect(endpoint.seed('b', [42 as unknown as string])).rejects.toThrow(/entry 0 .*number/);
  });

  it('stop() ends the moto_server process and is safe to call twice', async () => {
    endpoint = await startS3Endpoint({ prefer: ['moto'], log: false });
    const pid = endpoint.pid;
    expect(pid).toBeTypeOf('number');
    expect(isAlive(pid!)).toBe(true);

    await endpoint.stop();
    await endpoint.stop();

    expect(isAlive(pid!)).toBe(false);
    await expect(fetch(`${endpoint.endpoint}/moto-api/`)).rejects.toThrow();
  });

  it('supports await using (async disposal stops the process)', async () => {
    let pid: number | undefined;
    {
      await using scoped = await startS3Endpoint({ prefer: ['moto'], log: false });
      pid = scoped.pid;
      expect(isAlive(pid!)).toBe(true);
    }
    expect(isAlive(pid!)).toBe(false);
  });
});

describe('startS3Endpoint selection', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('uses S3_ENDPOINT_URL from the environment first, and does not stop a server it did not start', async () => {
    // Prepare: a server "already running"
    const moto = await startMotoServer();
    try {
      vi.stubEnv('S3_ENDPOINT_URL', moto.endpoint);
      vi.stubEnv('AWS_REGION', 'eu-west-1');
      const lines: string[] = [];

      // Act
      const endpoint = await startS3Endpoint({ log: (line) => lines.push(line) });
      const bucket = bucketName('external');
      await endpoint.createBucket(bucket);
      await endpoint.seed(bucket, ['one']);
      const listed = await listAll(endpoint.client, bucket);
      await endpoint.stop();

      // Assess
      expect(endpoint.kind).toBe('external');
      expect(endpoint.endpoint).toBe(moto.endpoint);
      expect(endpoint.region).toBe('eu-west-1');
      expect(endpoint.pid).toBeUndefined();
      expect(lines[0]).toContain('external');
      expect(listed.keys).toEqual(['one']);
      expect(isAlive(moto.pid)).toBe(true);
    } finally {
      await moto.stop();
    }
    expect(isAlive(moto.pid)).toBe(false);
  });

  it('reads credentials for an external endpoint from the environment', async () => {
    vi.stubEnv('S3_ENDPOINT_URL', 'http://127.0.0.1:9/');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'example-secret');
    const endpoint = await startS3Endpoint({ log: false });
    expect(endpoint.credentials).toEqual({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example-secret' });
    expect(endpoint.endpoint).toBe('http://127.0.0.1:9');
    await endpoint.stop();
  });

  it('rejects a malformed S3_ENDPOINT_URL instead of silently falling back', async () => {
    await expect(startS3Endpoint({ env: { S3_ENDPOINT_URL: 'not a url' }, log: false })).rejects.toThrow(
      /S3_ENDPOINT_URL is not a URL/,
    );
    await expect(startS3Endpoint({ env: { S3_ENDPOINT_URL: 'ftp://127.0.0.1/' }, log: false })).rejects.toThrow(
      TypeError,
    );
  });

  it('without S3_ENDPOINT_URL and without a container runtime, falls through to moto and says why', async () => {
    const lines: string[] = [];
    const endpoint = await startS3Endpoint({ env: {}, log: (line) => lines.push(line) });
    try {
      expect(endpoint.kind).toBe('moto');
      expect(lines[0]).toMatch(/skipped external \(S3_ENDPOINT_URL is not set\), minio \(no container runtime: .+\)/);
    } finally {
      await endpoint.stop();
    }
  });

  it("prefer: ['minio'] rejects with S3EndpointUnavailableError naming the container-runtime reason", async () => {
    const error = await startS3Endpoint({ prefer: ['minio'], log: false, runtimeTimeoutMs: 5_000 }).catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(S3EndpointUnavailableError);
    const unavailable = error as S3EndpointUnavailableError;
    expect(unavailable.attempts).toHaveLength(1);
    expect(unavailable.attempts[0]?.kind).toBe('minio');
    expect(unavailable.attempts[0]?.reason).toMatch(/container runtime/i);
    expect(unavailable.message).toContain('S3_ENDPOINT_URL');
    expect(unavailable.message).toContain("pip install 'moto[server]'");
  }, 10_000);

  it('reports moto missing from PATH as a reason', async () => {
    vi.stubEnv('PATH', '/nonexistent-dir');
    const error = await startS3Endpoint({ prefer: ['moto'], log: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3EndpointUnavailableError);
    expect(error).toMatchObject({ name: 'S3EndpointUnavailableError', code: 'NO_ENDPOINT' });
    expect((error as S3EndpointUnavailableError).attempts).toEqual([
      { kind: 'moto', reason: 'moto_server is not on PATH' },
    ]);
  });

  it('S3_ENDPOINT_PREFER sets the order when the prefer option is absent', async () => {
    const lines: string[] = [];
    const endpoint = await startS3Endpoint({ env: { S3_ENDPOINT_PREFER: ' moto ' }, log: (line) => lines.push(line) });
    try {
      expect(endpoint.kind).toBe('moto');
      expect(lines[0]).not.toContain('skipped');
    } finally {
      await endpoint.stop();
    }
    await expect(startS3Endpoint({ env: { S3_ENDPOINT_PREFER: 'moto,docker' }, log: false })).rejects.toThrow(
      /S3_ENDPOINT_PREFER/,
    );
  });

  it('never logs credentials embedded in S3_ENDPOINT_URL', async () => {
    const lines: string[] = [];
    const endpoint = await startS3Endpoint({
      env: { S3_ENDPOINT_URL: 'http://user:s3cr3t@127.0.0.1:9000' },
      log: (line) => lines.push(line),
    });
    await endpoint.stop();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('http://127.0.0.1:9000');
    expect(lines[0]).not.toContain('s3cr3t');
  });

  it('rejects an unknown kind in prefer, naming the option', async () => {
    await expect(startS3Endpoint({ prefer: ['docker' as 'minio'] })).rejects.toThrow(/prefer/);
    await expect(startS3Endpoint({ prefer: [] })).rejects.toThrow(/prefer/);
  });
});
