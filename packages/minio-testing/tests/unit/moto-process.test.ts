import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startMotoServer } from '../../src/moto.js';

const dir = mkdtempSync(join(tmpdir(), 'moto-process-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An executable standing in for moto_server: `body` is the shell script after the shebang. */
function fakeServer(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** Answers 200 on the port given as `-p`, like moto's /moto-api/. */
const ANSWERING = `port="$4"
exec "${process.execPath}" -e 'require("node:http").createServer((q, s) => s.end("ok")).listen(Number(process.argv[1]), "127.0.0.1")' "$port"`;

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && isRunning(pid); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  return !isRunning(pid);
}

describe('startMotoServer with a stand-in server', () => {
  it('reports the server pid once it answers, and stop() ends that process', async () => {
    const server = await startMotoServer({ command: fakeServer('answering', ANSWERING), startTimeoutMs: 10_000 });
    expect(server.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(isRunning(server.pid)).toBe(true);
    await server.stop();
    expect(await gone(server.pid)).toBe(true);
  });

  it('fails with how it exited and the last lines printed when the server exits early', async () => {
    const command = fakeServer('crashing', 'echo "first line" >&2\necho "bad port" >&2\nsleep 0.2\nexit 3');
    await expect(startMotoServer({ command, startTimeoutMs: 10_000 })).rejects.toThrow(
      /^moto_server exited early \(code \d+, signal null\): (.* \| )?first line \| bad port/,
    );
  });

  it('fails when the server does not answer in time, and stops it', async () => {
    const pidFile = join(dir, 'silent.pid');
    const command = fakeServer('silent', `echo $$ > "${pidFile}"\nexec sleep 30`);
    await expect(startMotoServer({ command, startTimeoutMs: 500 })).rejects.toThrow(
      /did not answer on http:\/\/127\.0\.0\.1:\d+ in time/,
    );
    expect(await gone(Number(readFileSync(pidFile, 'utf8').trim()))).toBe(true);
  });
});
