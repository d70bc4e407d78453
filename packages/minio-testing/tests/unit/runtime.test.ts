import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectContainerRuntime } from '../../src/runtime.js';

/** Resolves once every socket has closed, or with the ones still open after `ms`. */
async function openAfter(sockets: Set<Socket>, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && [...sockets].some((s) => !s.destroyed)) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return [...sockets].filter((s) => !s.destroyed).length;
}

describe('detectContainerRuntime with a DOCKER_HOST that accepts connections and never answers', () => {
  const held = new Set<Socket>();
  let server: Server;
  const previous = process.env.DOCKER_HOST;

  beforeAll(async () => {
    server = createServer((socket) => {
      held.add(socket);
      socket.on('error', () => undefined);
      // Reads and drops the request, so that the client closing its end is seen.
      socket.resume();
      socket.on('end', () => socket.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    process.env.DOCKER_HOST = `tcp://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    if (previous === undefined) delete process.env.DOCKER_HOST;
    else process.env.DOCKER_HOST = previous;
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('answers "not available" on time, then closes the connections it opened', async () => {
    const status = await detectContainerRuntime(500);

    expect(status).toEqual({ available: false, reason: 'no container runtime answered within 500 ms' });
    expect(held.size).toBeGreaterThan(0);
    expect(await openAfter(held, 2_000)).toBe(0);
  });
});
