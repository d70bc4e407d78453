/**
 * Removes secrets from text bound for a log line. A presigned URL is a bearer credential, and error messages from
 * signers or HTTP layers sometimes embed one, so anything URL-like that carries SigV4 query parameters loses its
 * query string, and stray SigV4 parameters or access key ids are masked.
 * @internal
 */

const URL_WITH_QUERY = /[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]*\?[^\s"'<>`]*/gi;
const SIGV4_PARAM = /(x-amz-(?:signature|credential|security-token|signedheaders)(?:=|%3d))[^&\s"'<>`]*/gi;
const ACCESS_KEY_ID = /\b(?:AKIA|ASIA|AROA|AIDA)[A-Z0-9]{12,}\b/g;
const SENSITIVE = /x-amz-(?:signature|credential|security-token)|signature=|awsaccesskeyid=/i;
/** An Authorization header's signature: an endpoint's error message may echo the request it refused. */
const HEADER_SIGNATURE = /(\bSignature=)[0-9a-f]{16,}/gi;
/** A security token echoed as a header (`x-amz-security-token: …`). */
const TOKEN_HEADER = /(x-amz-security-token:\s*)[^\s"'<>`]+/gi;
/** An STS session token, known by its first bytes (the base64 of its version header), wherever it appears. */
const SESSION_TOKEN = /\b(?:IQoJb3JpZ2lu|FwoGZXIvYXdz|FQoGZXIvYXdz)[A-Za-z0-9+/=%]{16,}/g;

/**
 * Returns `text` with presigned-URL query strings, SigV4 parameters and signatures, session tokens and access key
 * ids masked.
 */
export function redactSecrets(text: string): string {
  if (text.length === 0) return text;
  let out = text.replace(URL_WITH_QUERY, (url) => {
    if (!SENSITIVE.test(url)) return url;
    return `${url.slice(0, url.indexOf('?'))}?[redacted]`;
  });
  out = out.replace(SIGV4_PARAM, '$1[redacted]');
  out = out.replace(HEADER_SIGNATURE, '$1[redacted]');
  out = out.replace(TOKEN_HEADER, '$1[redacted]');
  out = out.replace(SESSION_TOKEN, '[redacted]');
  out = out.replace(ACCESS_KEY_ID, '[redacted]');
  return out;
}

/** A loggable message for anything thrown: the message of an Error, the text of a string, else its type. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string') {
    return (error as { message: string }).message;
  }
  if (typeof error === 'string') return error;
  if (error === null || error === undefined) return `non-Error value thrown: ${String(error)}`;
  if (typeof error === 'number' || typeof error === 'boolean' || typeof error === 'bigint') {
    return `non-Error value thrown: ${typeof error} ${String(error)}`;
  }
  return `non-Error value thrown: ${typeof error}`;
}

/** The name of an Error (`AccessDenied`, `AbortError`), else the thrown value's type. */
export function nameOf(error: unknown): string {
  if (typeof error === 'object' && error !== null && typeof (error as { name?: unknown }).name === 'string') {
    return (error as { name: string }).name;
  }
  return error === null ? 'null' : typeof error;
}

/** The `code` of an error that has a string one (`MALFORMED_RESPONSE`, `ECONNRESET`), else undefined. */
export function codeOf(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code !== '' ? code : undefined;
}
