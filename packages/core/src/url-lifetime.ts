import { PresignPipelineError } from './errors.js';
import type { Presigner } from './types.js';

/** How long URLs signed now may live: the lifetime asked for, or less when the signing credentials die first. */
export interface UrlLifetime {
  /** Seconds the URLs are signed for. */
  readonly expiresIn: number;
  /** Set when the lifetime was capped: when the signing credentials expire. */
  readonly credentialsExpireAt?: Date;
}

/**
 * The lifetime of URLs signed now by `presigner`: `expiresIn`, or the seconds left on its credentials when they expire
 * sooner. A URL signed with temporary credentials stops working when they expire, whatever its `X-Amz-Expires` says,
 * so a longer lifetime would be a promise S3 does not keep. With `'refuse'`, or under a second left, a cap throws
 * `CREDENTIALS_EXPIRE_TOO_SOON` (its message starts with `owner`).
 * @internal
 */
export async function urlLifetime(
  presigner: Pick<Presigner, 'credentialsExpiration'>,
  expiresIn: number,
  onExpiryCapped: 'warn' | 'refuse',
  owner: string,
): Promise<UrlLifetime> {
  if (presigner.credentialsExpiration === undefined) return { expiresIn };
  const expiresAt = await presigner.credentialsExpiration();
  if (!(expiresAt instanceof Date) || Number.isNaN(expiresAt.getTime())) return { expiresIn };
  const remaining = Math.floor((expiresAt.getTime() - Date.now()) / 1000);
  if (remaining >= expiresIn) return { expiresIn };
  if (onExpiryCapped === 'refuse' || remaining < 1) {
    throw new PresignPipelineError(
      'CREDENTIALS_EXPIRE_TOO_SOON',
      `${owner}: the signing credentials expire at ${expiresAt.toISOString()} (in ${Math.max(remaining, 0)} s), ` +
        `before URLs valid for expiresIn=${expiresIn} s would`,
    );
  }
  return { expiresIn: remaining, credentialsExpireAt: expiresAt };
}
