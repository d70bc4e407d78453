import type { Identity } from './presign-plan.js';

/** Credentials are re-read from the provider at least this often, so a rotated key is picked up promptly. */
const RECHECK_MS = 1_000;
/** Credentials this close to their expiry are refreshed before signing (the SDK's own refresh window). */
const REFRESH_WINDOW_MS = 5 * 60_000;

function sameIdentity(a: Identity, b: Identity): boolean {
  return (
    a.accessKeyId === b.accessKeyId && a.secretAccessKey === b.secretAccessKey && a.sessionToken === b.sessionToken
  );
}

/**
 * The credentials of an S3 client's provider, re-read at least every second and five minutes before they expire.
 * The same object is kept while nothing that signs changes, so plans compiled for it stay valid.
 * @internal
 */
export class IdentityCache {
  readonly #provider: () => Promise<Identity>;
  #identity: Identity | undefined;
  #checkedAt = 0;
  #refresh: Promise<Identity> | undefined;

  constructor(provider: () => Promise<Identity>) {
    this.#provider = provider;
  }

  /** The last credentials read, fresh or not. */
  get latest(): Identity | undefined {
    return this.#identity;
  }

  /** The cached credentials when they need no refresh yet at `now` (epoch ms), else undefined. */
  fresh(now: number): Identity | undefined {
    const identity = this.#identity;
    if (identity === undefined || now - this.#checkedAt >= RECHECK_MS) return undefined;
    if (identity.expiration !== undefined && identity.expiration.getTime() - now <= REFRESH_WINDOW_MS) return undefined;
    return identity;
  }

  /** Reads the credentials from the provider; concurrent calls share one read. */
  refresh(): Promise<Identity> {
    this.#refresh ??= this.#read();
    return this.#refresh;
  }

  /** Fresh credentials, read again when due. */
  async current(): Promise<Identity> {
    return this.fresh(Date.now()) ?? this.refresh();
  }

  /** Makes the next {@link fresh} miss, so the credentials are read again. */
  invalidate(): void {
    this.#checkedAt = 0;
  }

  async #read(): Promise<Identity> {
    try {
      const next = await this.#provider();
      if (
        typeof next !== 'object' ||
        next === null ||
        typeof next.accessKeyId !== 'string' ||
        typeof next.secretAccessKey !== 'string'
      ) {
        throw new TypeError('fastPresigner: the client credential provider returned no access key id and secret');
      }
      // Keep the same object when nothing that signs changed, so compiled plans stay valid.
      const identity = this.#identity;
      if (
        identity === undefined ||
        !sameIdentity(identity, next) ||
        identity.expiration?.getTime() !== next.expiration?.getTime()
      ) {
        this.#identity = next;
      }
      this.#checkedAt = Date.now();
      return this.#identity as Identity;
    } finally {
      this.#refresh = undefined;
    }
  }
}
