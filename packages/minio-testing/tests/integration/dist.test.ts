import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../helpers/s3.js';
import { distCjs, distEsm, requireDist, runNode } from '../helpers/node.js';

/** Polls until a process is gone (a signal is delivered asynchronously). */
async function gone(pid: number, deadlineMs = 5_000): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (!isAlive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return !isAlive(pid);
}

describe('the built package', () => {
  let dir: string;
  let register: string;
  beforeAll(() => {
    requireDist();
    dir = mkdtempSync(join(tmpdir(), 'minio-testing-'));
    // A resolve hook that refuses Testcontainers: importing the entry must still work.
    writeFileSync(
      join(dir, 'hooks.mjs'),
      `export async function resolve(specifier, context, next) {
  if (/^(testcontainers|@testcontainers\\/)/.test(specifier)) throw new Error('blocked import of ' + specifier);
  return next(specifier, context);
}\n`,
    );
    register = join(dir, 'register.mjs');
    writeFileSync(
      register,
      `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`,
    );
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('ESM: importing the entry loads no Testcontainers; only detectContainerRuntime does', async () => {
    const script = `
      const m = await import(${JSON.stringify(pathToFileURL(distEsm).href)});
      const status = await m.detectContainerRuntime(5000);
      console.log(JSON.stringify({ start: typeof m.startS3Endpoint, status }));`;
    const out = JSON.parse(
      await runNode(['--import', pathToFileURL(register).href, '--input-type=module', '-e', script]),
    );

    expect(out.start).toBe('function');
    // The import succeeded under the hook, and the hook does intercept the lazy path:
    expect(out.status).toEqual({
      available: false,
      reason: expect.stringContaining('blocked import of testcontainers'),
    });
  });

  it('CJS: requiring the entry leaves Testcontainers out of require.cache until detection runs', async () => {
    const script = `
      const m = require(${JSON.stringify(distCjs)});
      const loaded = () => Object.keys(require.cache).filter((k) => /[\\\\/]testcontainers[\\\\/]/.test(k)).length;
      const before = loaded();
      m.detectContainerRuntime(5000).then((status) => {
        console.log(JSON.stringify({ before, after: loaded(), available: status.available }));
      });`;
    const out = JSON.parse(await runNode(['-e', script]));
    expect(out.before).toBe(0);
    expect(out.after).toBeGreaterThan(0);
  });

  it('reads the pinned MinIO image from the shipped Dockerfile, in both formats', async () => {
    const esm = await runNode([
      '--input-type=module',
      '-e',
      `const m = await import(${JSON.stringify(pathToFileURL(distEsm).href)}); console.log(m.pinnedMinioImage());`,
    ]);
    const cjs = await runNode(['-e', `console.log(require(${JSON.stringify(distCjs)}).pinnedMinioImage())`]);
    expect(esm.trim()).toBe('minio/minio:RELEASE.2024-12-13T22-19-12Z');
    expect(cjs.trim()).toBe(esm.trim());
  });

  it('a DOCKER_HOST that accepts connections but never answers cannot hang detection, nor the process', async () => {
    // Prepare: a TCP server that holds every connection silently.
    const held = new Set<Socket>();
    const server = createServer((socket) => {
      held.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const script = `
        const m = await import(${JSON.stringify(pathToFileURL(distEsm).href)});
        const t = performance.now();
        const status = await m.detectContainerRuntime(1500);
        console.log(JSON.stringify({ status, ms: Math.round(performance.now() - t) }));`;
      // Without process.exit: the process has to end on its own once detection gives up.
      const out = JSON.parse(
        await runNode(['--input-type=module', '-e', script], {
          env: { DOCKER_HOST: `tcp://127.0.0.1:${port}` },
          timeoutMs: 10_000,
        }),
      );

      expect(out.status).toEqual({ available: false, reason: 'no container runtime answered within 1500 ms' });
      expect(held.size).toBeGreaterThan(0);
    } finally {
      for (const socket of held) socket.destroy();
      server.close();
    }
  }, 20_000);

  describe('moto_server cannot outlive the process that started it', () => {
    const startAndReport = `
      const m = await import(${JSON.stringify(pathToFileURL(distEsm).href)});
      const server = await m.startMotoServer();
      process.stdout.write(JSON.stringify({ pid: server.pid }) + '\\n');`;

    it('when that process exits without calling stop()', async () => {
      const out = JSON.parse(
        await runNode(['--input-type=module', '-e', `${startAndReport}\nprocess.exit(0);`], { timeoutMs: 30_000 }),
      );
      expect(out.pid).toBeTypeOf('number');
      expect(await gone(out.pid)).toBe(true);
    }, 40_000);

    it('when that process is killed with SIGKILL (no exit handler runs)', async () => {
      const child = spawn(
        process.execPath,
        ['--input-type=module', '-e', `${startAndReport}\nsetInterval(() => {}, 1000);`],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      try {
        const line = await new Promise<string>((resolve, reject) => {
          let buffer = '';
          const timer = setTimeout(() => reject(new Error('no pid within 30 s')), 30_000);
          child.stdout.on('data', (chunk: Buffer) => {
            buffer += chunk.toString();
            if (buffer.includes('\n')) {
              clearTimeout(timer);
              resolve(buffer.split('\n')[0]!);
            }
          });
          child.once('exit', () => reject(new Error('the child exited before reporting')));
        });
        const { pid } = JSON.parse(line) as { pid: number };
        expect(isAlive(pid)).toBe(true);

        child.kill('SIGKILL');

        expect(await gone(pid)).toBe(true);
      } finally {
        child.kill('SIGKILL');
      }
    }, 40_000);
  });
});
