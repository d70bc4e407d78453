/**
 * What a request must look like to reach the tester: sent to its own host and port (a DNS-rebound name is refused),
 * and, when the browser says where it comes from, coming from the tester's own page (no cross-site invocation).
 */
export interface OriginGuard {
  /** Why the request is refused, or undefined when it may go on. */
  refusal(host: string | undefined, origin: string | undefined): string | undefined;
}

/** The guard for a tester listening on 127.0.0.1:`port`: `127.0.0.1:port` and `localhost:port` are its names. */
export function loopbackGuard(port: number): OriginGuard {
  const hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const origins = new Set([...hosts].map((host) => `http://${host}`));
  return {
    refusal(host, origin) {
      if (host === undefined || !hosts.has(host.toLowerCase())) return "the Host header is not the tester's own";
      if (origin !== undefined && !origins.has(origin.toLowerCase())) return "the Origin is not the tester's own page";
      return undefined;
    },
  };
}
