import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const demo = fileURLToPath(new URL('../../../../scripts/demo.mjs', import.meta.url));
let child: ChildProcess | undefined;

afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
});

/** Resolves once `text` appears in what the stream printed so far. */
function waitFor(read: () => string, text: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      if (read().includes(text)) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() - started > timeoutMs || child?.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`"${text}" never appeared; stderr: ${read().slice(-500)}`));
      }
    }, 100);
  });
}

describe('npm run demo -- --keep', () => {
  it('keeps its own S3 endpoint serving the manifest URL after the run, and stops it on Ctrl-C', async () => {
    // Prepare: the demo on a moto_server of its own, a few objects, machine-readable output.
    let stdout = '';
    let stderr = '';
    child = spawn(process.execPath, [demo, '--keep', '--json'], {
      env: {
        ...process.env,
        S3_ENDPOINT_URL: '',
        S3_ENDPOINT_PREFER: 'moto',
        DEMO_OBJECTS: '5',
        DEMO_BUCKET: `demo-keep-${randomBytes(4).toString('hex')}`,
      },
    });
    child.stdout?.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });

    // Act: wait until the run is over and the demo says the endpoint stays up.
    await waitFor(() => stderr, 'Press Ctrl-C to stop it', 60_000);
    const body = JSON.parse(JSON.parse(stdout).result.body) as { count: number; manifest_url: string };
    const served = await fetch(body.manifest_url);
    const manifest = await served.text();
    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');

    // Assess: the URL served the whole manifest while the demo waited; Ctrl-C ends it cleanly and the endpoint with it.
    expect(served.status).toBe(200);
    expect(body.count).toBe(6);
    expect(manifest.trimEnd().split('\n')).toHaveLength(body.count);
    expect(await exited).toBe(0);
    await expect(fetch(body.manifest_url)).rejects.toThrow();
  }, 90_000);
});
