import { describe, expect, it } from 'vitest';
import { redactSecrets } from '../../src/redact.js';

const TOKEN = `IQoJb3JpZ2luX2VjE${'Abc123/+='.repeat(20)}`;
const SIGNATURE = 'a'.repeat(24) + '0123456789abcdef'.repeat(2) + 'b'.repeat(8);

describe('redactSecrets', () => {
  it('masks what an endpoint echoes of the request it refused: the Authorization signature, the token header, the key id', () => {
    const echoed =
      `GET /reports?list-type=2 token=${TOKEN} auth=AWS4-HMAC-SHA256 ` +
      `Credential=ASIAPROBEKEY12345678/20261205/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=${SIGNATURE} ` +
      `x-amz-security-token: ${TOKEN.slice(0, 30)}`;
    const out = redactSecrets(echoed);
    expect(out).not.toContain(TOKEN.slice(0, 30));
    expect(out).not.toContain(SIGNATURE);
    expect(out).not.toContain('ASIAPROBEKEY12345678');
    expect(out).toContain('Signature=[redacted]');
    expect(out).toContain('x-amz-security-token: [redacted]');
    expect(out).toContain('GET /reports?list-type=2');
  });

  it('masks an STS session token wherever it stands, URL-encoded too', () => {
    for (const token of [TOKEN, encodeURIComponent(TOKEN), `FwoGZXIvYXdzE${'x'.repeat(40)}`]) {
      expect(redactSecrets(`raw token ${token} end`)).toBe('raw token [redacted] end');
    }
  });

  it('leaves keys and ordinary words alone', () => {
    for (const text of ['reports/2026/04/Signature=ok.pdf', 'a Signature= was expected', 'IQoJ is short']) {
      expect(redactSecrets(text)).toBe(text);
    }
  });
});
