import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerOptions, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** Handles one request; a rejection destroys the response. */
export type LoopbackHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * An HTTP server on 127.0.0.1 that tracks its connections and timers, so that closing it ends every connection and
 * pending timer at once instead of waiting for clients: what the fault proxy and the S3 simulator both run on.
 */
export class LoopbackServer {
  readonly #server;
  readonly #sockets = new Set<Socket>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #closing: Promise<void> | undefined;

  private constructor(handler: LoopbackHandler, options: ServerOptions) {
    this.#server = createServer(options, (req, res) => {
      handler(req, res).catch(() => {
        if (!res.destroyed) res.destroy();
      });
    });
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  /** Starts listening on `port` (0: a free one) of 127.0.0.1. */
  static async listen(handler: LoopbackHandler, port = 0, options: ServerOptions = {}): Promise<LoopbackServer> {
    const loopback = new LoopbackServer(handler, options);
    const server = loopback.#server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return loopback;
  }

  /** `http://127.0.0.1:<port>`. */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** Runs `callback` after `ms` unless the server closes first; returns the timer for an early `clearTimer`. */
  setTimer(callback: () => void, ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      callback();
    }, ms);
    this.#timers.add(timer);
    return timer;
  }

  /** Cancels a timer of {@link setTimer}. */
  clearTimer(timer: NodeJS.Timeout): void {
    clearTimeout(timer);
    this.#timers.delete(timer);
  }

  /** Stops listening, cancels pending timers and destroys open connections. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      for (const timer of this.#timers) clearTimeout(timer);
      this.#timers.clear();
      this.#server.close(() => resolve());
      for (const socket of this.#sockets) socket.destroy();
    });
    return this.#closing;
  }
}

/** Reads a message's body to its end and drops it; resolves also when it fails or closes early. */
export function drain(stream: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    if (stream.complete || stream.readableEnded) return resolve();
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', () => resolve());
    stream.resume();
  });
}

/** A request id as S3 writes them: 16 upper-case hex digits. */
export function s3RequestId(): string {
  return randomBytes(8).toString('hex').toUpperCase();
}
