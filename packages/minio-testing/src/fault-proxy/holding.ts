import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import type { LoopbackServer } from '../loopback-server.js';

/**
 * Waits `ms` on the server's clock; resolves false as soon as the client goes away (the response or the connection
 * closes, or the request ends before its body did), true when the time is up and the client is still there.
 */
export function waitForClient(
  server: LoopbackServer,
  ms: number,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  return new Promise((resolve) => {
    if (ms <= 0) return resolve(!res.destroyed);
    const socket = req.socket;
    const done = (proceed: boolean): void => {
      server.clearTimer(timer);
      res.off('close', onClose);
      req.off('close', onRequestClose);
      socket.off('close', onClose);
      resolve(proceed);
    };
    const timer = server.setTimer(() => done(!res.destroyed && !socket.destroyed && !server.closed), ms);
    const onClose = (): void => done(false);
    // A request's 'close' also follows a body read to its end; only one cut short means the client left.
    const onRequestClose = (): void => {
      if (!req.complete) done(false);
    };
    res.once('close', onClose);
    req.once('close', onRequestClose);
    socket.once('close', onClose);
  });
}

/** A request body read into memory while the request waits. */
export interface HeldBody {
  /** Writes what was read to `to`, then passes the rest of the body through. */
  forward(to: Writable): void;
  /** Drops what was read and lets the rest of the body flow away. */
  discard(): void;
}

/**
 * Starts reading a request's body into memory: a client that gives up after sending it (a timeout, an abort) closes
 * a connection the server sees close only once the bytes before it are read.
 */
export function holdBody(req: IncomingMessage): HeldBody {
  const chunks: Buffer[] = [];
  const onData = (chunk: Buffer): void => {
    chunks.push(chunk);
  };
  req.on('data', onData);
  const release = (): void => {
    req.pause();
    req.off('data', onData);
  };
  return {
    forward(to) {
      release();
      for (const chunk of chunks.splice(0)) to.write(chunk);
      // pipe() would never end a destination for a source that has already ended.
      if (req.readableEnded) to.end();
      else req.pipe(to);
    },
    discard() {
      release();
      chunks.length = 0;
      req.resume();
    },
  };
}
