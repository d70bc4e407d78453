import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { LoopbackServer } from '../../src/loopback-server.js';

describe('LoopbackServer', () => {
  it('serves on 127.0.0.1, and close() cancels pending timers and drops open connections at once', async () => {
    let fired = false;
    const server = await LoopbackServer.listen(async (_req, res) => {
      res.writeHead(200);
      res.write('partial');
      // The answer never ends: only close() can end this connection.
      server.setTimer(() => {
        fired = true;
      }, 60_000);
    });
    expect(server.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const outcome = new Promise<string>((resolve) => {
      const req = request(server.endpoint, (res) => {
        res.once('data', () => void server.close());
        res.once('close', () => resolve(res.complete ? 'complete' : 'cut'));
      });
      req.end();
    });
    expect(await outcome).toBe('cut');
    expect(server.closed).toBe(true);
    await server.close();
    expect(fired).toBe(false);
  });

  it('destroys the response when the handler rejects', async () => {
    const server = await LoopbackServer.listen(async () => {
      throw new Error('boom');
    });
    try {
      const error = await new Promise<Error>((resolve) => {
        request(server.endpoint, () => resolve(new Error('answered')))
          .once('error', resolve)
          .end();
      });
      expect(error.message).toMatch(/socket hang up/);
    } finally {
      await server.close();
    }
  });
});
