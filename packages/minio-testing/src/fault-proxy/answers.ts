import {
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  STATUS_CODES,
  type ServerResponse,
} from 'node:http';
import { s3RequestId } from '../loopback-server.js';
import { errorXml } from '../simulator/xml.js';
import type { ChosenFault } from './rules.js';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
]);

/** The headers a proxy passes on: all but the hop-by-hop ones, which belong to one connection. */
export function endToEndHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const kept: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) kept[name] = value;
  }
  return kept;
}

const ERRORS = {
  'slow-down': {
    status: 503,
    code: 'SlowDown',
    message: 'Please reduce your request rate.',
  },
  'internal-error': {
    status: 500,
    code: 'InternalError',
    message: 'We encountered an internal error. Please try again.',
  },
  'bad-gateway': {
    status: 502,
    code: 'BadGateway',
    message: 'The fault proxy could not reach the S3 endpoint.',
  },
} as const;

/** Answers with an S3 error document, unless the response has begun or is gone. */
export function sendError(req: IncomingMessage, res: ServerResponse, kind: keyof typeof ERRORS): void {
  if (res.destroyed || res.headersSent) return;
  const { status, code, message } = ERRORS[kind];
  const requestId = s3RequestId();
  const resource = new URL(req.url ?? '/', 'http://s3.invalid').pathname;
  const body = errorXml(code, message, requestId, resource, 'fault-proxy');
  res.writeHead(status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(body),
    'x-amz-request-id': requestId,
    'x-amz-id-2': 'fault-proxy',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** The default `foreign-body`: what a gateway in front of S3 answers when it cannot reach it. */
const GATEWAY_PAGE =
  '<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n' +
  '<body><h1>Bad Gateway</h1><p>The upstream server did not answer.</p></body></html>\n';

/** A fault that answers the request itself (an S3 error, a foreign body, an empty 200). */
export type AnsweringFault = Pick<ChosenFault, 'rule'> & {
  readonly kind: Exclude<ChosenFault['kind'], 'reset' | 'truncate'>;
};

/** Answers a request with the fault's own response. */
export function answerWith(req: IncomingMessage, res: ServerResponse, fault: AnsweringFault): void {
  if (fault.kind === 'slow-down' || fault.kind === 'internal-error') {
    sendError(req, res, fault.kind);
    return;
  }
  if (res.destroyed || res.headersSent) return;
  const body = fault.kind === 'empty-body' ? '' : (fault.rule.body ?? GATEWAY_PAGE);
  const headers: OutgoingHttpHeaders = {
    'content-length': Buffer.byteLength(body),
  };
  if (fault.kind === 'foreign-body') {
    headers['content-type'] =
      fault.rule.contentType ?? (fault.rule.body === undefined ? 'text/html; charset=utf-8' : 'application/xml');
  }
  res.writeHead(fault.kind === 'foreign-body' ? (fault.rule.status ?? 200) : 200, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}

/**
 * Passes S3's answer on cut in half, then resets the connection: half of the body after S3's status and headers, or,
 * when the answer has no body (a PutObject or UploadPart answer, any HEAD), half of the status line and headers.
 * Either way the client never sees a complete response, and the connection is gone before it could carry another.
 */
export function truncate(req: IncomingMessage, res: ServerResponse, upstreamRes: IncomingMessage): void {
  const chunks: Buffer[] = [];
  upstreamRes.on('data', (chunk: Buffer) => chunks.push(chunk));
  upstreamRes.once('end', () => {
    if (res.destroyed) return;
    const body = Buffer.concat(chunks);
    if (req.method !== 'HEAD' && body.length > 0) sendHalfBody(req, res, upstreamRes, body);
    else sendHalfHead(req, res, upstreamRes);
  });
  upstreamRes.once('error', () => reset(req));
}

/** S3's status and headers (promising the whole body), half of the body, then a reset. */
function sendHalfBody(req: IncomingMessage, res: ServerResponse, upstreamRes: IncomingMessage, body: Buffer): void {
  const headers = endToEndHeaders(upstreamRes.headers);
  headers['content-length'] = body.length;
  res.writeHead(upstreamRes.statusCode ?? 200, upstreamRes.statusMessage, headers);
  // Flushes the headers and the first half, then cuts the connection once they are on the wire.
  res.write(body.subarray(0, Math.floor(body.length / 2)), () => reset(req));
}

/** Half of S3's status line and headers, written straight to the socket, then a reset. */
function sendHalfHead(req: IncomingMessage, res: ServerResponse, upstreamRes: IncomingMessage): void {
  const socket = res.socket;
  if (!socket) {
    reset(req);
    return;
  }
  // Bypassing the response object is the only way to stop inside the head: it writes whole heads or none.
  const head = Buffer.from(rawHead(upstreamRes));
  socket.write(head.subarray(0, Math.floor(head.length / 2)), () => reset(req));
}

/** The HTTP/1.1 status line and end-to-end headers of an answer, as they go on the wire. */
function rawHead(upstreamRes: IncomingMessage): string {
  const status = upstreamRes.statusCode ?? 200;
  const lines = [`HTTP/1.1 ${status} ${upstreamRes.statusMessage ?? STATUS_CODES[status] ?? ''}`];
  for (const [name, value] of Object.entries(endToEndHeaders(upstreamRes.headers))) {
    for (const one of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${one}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Resets the client's connection (TCP RST where Node can, else a plain close). */
export function reset(req: IncomingMessage): void {
  const socket = req.socket;
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}
