/** The query parameters of a SigV4 presigned GET URL signed with long-term credentials, in sorted order. */
export const SIGV4_QUERY = [
  'X-Amz-Algorithm',
  'X-Amz-Content-Sha256',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-Signature',
  'X-Amz-SignedHeaders',
] as const;

/** The same with session credentials: X-Amz-Security-Token added, in its sorted place. */
export const SIGV4_SESSION_QUERY = [
  ...SIGV4_QUERY.slice(0, 5),
  'X-Amz-Security-Token',
  ...SIGV4_QUERY.slice(5),
] as const;
