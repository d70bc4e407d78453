import { createHash, createHmac } from 'node:crypto';

/**
 * An independent, test-only implementation of the SigV4 query-string check for presigned S3 GET URLs, used to tell
 * that a URL as handed out is signed over exactly what it carries (a parameter removed after signing, or a key
 * encoded differently from what was signed, makes the signatures differ). Local S3 stand-ins such as moto do not
 * verify signatures, so integration tests use this too.
 */

/** RFC 3986 encoding SigV4 uses for query names and values. */
export function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** S3's key encoding: every UTF-8 byte except A-Z a-z 0-9 - . _ ~ and the path separator `/` as %XX. */
export function s3EncodeKey(key: string): string {
  return [...Buffer.from(key, 'utf8')]
    .map((byte) => {
      const c = String.fromCharCode(byte);
      return /[A-Za-z0-9\-._~/]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

/** The signature a presigned GET URL must carry, recomputed from the URL and the secret key. */
export function expectedSignature(url: string, secretAccessKey: string): string {
  const u = new URL(url);
  const params = [...u.searchParams.entries()].filter(([k]) => k !== 'X-Amz-Signature');
  const query = params
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  // The path as sent: WHATWG URL parsing keeps percent-escapes and `//` as they are.
  const canonical = ['GET', u.pathname, query, `host:${u.host}`, '', 'host', 'UNSIGNED-PAYLOAD'].join('\n');
  const amzDate = u.searchParams.get('X-Amz-Date') ?? '';
  const scope = (u.searchParams.get('X-Amz-Credential') ?? '').split('/').slice(1).join('/');
  const [day = '', region = '', service = ''] = scope.split('/');
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, day), region), service), 'aws4_request');
  return createHmac('sha256', signingKey).update(toSign).digest('hex');
}
