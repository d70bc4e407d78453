import {
  type ClientRequest,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { endToEndHeaders } from './answers.js';

/** The S3 endpoint behind the proxy, reached over one keep-alive agent. */
export class Upstream {
  readonly #url: URL;
  readonly #agent: HttpAgent;
  readonly #send: typeof httpRequest;
  readonly #basePath: string;
  readonly #rewriteHost: boolean;

  /**
   * @param target the endpoint's base URL (http or https; a path prefixes every request's).
   * @param rewriteHost send the target's host instead of the client's.
   */
  constructor(target: URL, rewriteHost: boolean) {
    const secure = target.protocol === 'https:';
    this.#url = target;
    this.#agent = secure ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    this.#send = secure ? httpsRequest : httpRequest;
    this.#basePath = target.pathname.replace(/\/+$/, '');
    this.#rewriteHost = rewriteHost;
  }

  /** Opens the same request to the target: method, path and query unchanged, end-to-end headers kept. */
  request(req: IncomingMessage): ClientRequest {
    const headers: OutgoingHttpHeaders = endToEndHeaders(req.headers);
    if (this.#rewriteHost) headers.host = this.#url.host;
    return this.#send({
      protocol: this.#url.protocol,
      hostname: this.#url.hostname,
      port: this.#url.port,
      method: req.method,
      path: this.#basePath + (req.url ?? '/'),
      headers,
      agent: this.#agent,
    });
  }

  /** Closes the pooled connections. */
  destroy(): void {
    this.#agent.destroy();
  }
}

/** Reads the proxy's target: a URL or an object with an `endpoint` URL, http(s) only. */
export function parseTarget(target: string | { readonly endpoint: string } | undefined): URL {
  const raw = typeof target === 'string' ? target : target?.endpoint;
  if (typeof raw !== 'string' || raw === '') {
    throw new TypeError('startFaultProxy: target must be an endpoint URL or an object with an endpoint URL');
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TypeError(`startFaultProxy: target is not a URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`startFaultProxy: target must be http(s), got ${url.protocol}`);
  }
  return url;
}
