import { describe, expect, it, vi } from 'vitest';
import { IdentityCache } from '../../src/s3/presign-identity.js';
import { AmzClock, type Identity, planFromProbe, SigningKeyCache, signWithPlan } from '../../src/s3/presign-plan.js';
import { formatAmzDate } from '../../src/s3/sigv4.js';

const PROBE =
  'https://reports.s3.eu-west-1.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD' +
  '&X-Amz-Credential=AKIDEXAMPLE%2F20260401%2Feu-west-1%2Fs3%2Faws4_request&X-Amz-Date=20260401T120000Z' +
  '&X-Amz-Expires=900&X-Amz-Signature=abc&X-Amz-SignedHeaders=host&x-id=GetObject';

describe('planFromProbe', () => {
  it('learns base, host, scope and the fixed parameters from an SDK URL', () => {
    const plan = planFromProbe(PROBE);
    expect(plan).toMatchObject({
      mode: 'fast',
      base: 'https://reports.s3.eu-west-1.amazonaws.com/',
      pathPrefix: '/',
      host: 'reports.s3.eu-west-1.amazonaws.com',
      region: 'eu-west-1',
      service: 's3',
    });
    expect(plan.staticParams).toEqual([
      ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
      ['X-Amz-Content-Sha256', 'UNSIGNED-PAYLOAD'],
      ['X-Amz-SignedHeaders', 'host'],
      ['x-id', 'GetObject'],
    ]);
  });

  it.each([
    ['another algorithm', PROBE.replace('AWS4-HMAC-SHA256', 'AWS4-ECDSA-P256-SHA256'), /another algorithm/],
    ['other signed headers', PROBE.replace('SignedHeaders=host', 'SignedHeaders=host%3Bx-amz-foo'), /headers other/],
    ['a path not ending with the key', PROBE.replace('/k?', '/other?'), /does not end with the key/],
    ['non-ASCII text', `${PROBE}é`, /printable ASCII/],
  ])('leaves a bucket to the SDK for %s', (_what, probe, reason) => {
    const plan = planFromProbe(probe);
    expect(plan.mode).toBe('sdk');
    expect(plan.reason).toMatch(reason);
  });

  it('signs a URL with the layout of the probe and the fresh parameters in sorted order', () => {
    const plan = planFromProbe(PROBE);
    const id: Identity = { accessKeyId: 'AKID', secretAccessKey: 'secret', sessionToken: 'tok/en' };
    const url = signWithPlan(plan, id, 'a b.pdf', 60, formatAmzDate(Date.UTC(2026, 3, 2)), new SigningKeyCache());
    expect(url).toMatch(
      /^https:\/\/reports\.s3\.eu-west-1\.amazonaws\.com\/a%20b\.pdf\?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD&X-Amz-Credential=AKID%2F20260402%2Feu-west-1%2Fs3%2Faws4_request&X-Amz-Date=20260402T000000Z&X-Amz-Expires=60&X-Amz-Security-Token=tok%2Fen&X-Amz-Signature=[0-9a-f]{64}&X-Amz-SignedHeaders=host&x-id=GetObject$/,
    );
  });
});

describe('IdentityCache', () => {
  const keys = (accessKeyId: string, expiration?: Date): Identity => ({
    accessKeyId,
    secretAccessKey: 's',
    ...(expiration ? { expiration } : {}),
  });

  it('shares one read between concurrent refreshes and keeps the same object while nothing that signs changes', async () => {
    // Prepare
    const provider = vi.fn(async () => keys('A'));
    const cache = new IdentityCache(provider);

    // Act
    const [a, b] = await Promise.all([cache.refresh(), cache.refresh()]);
    const c = await cache.refresh();

    // Assess
    expect(provider).toHaveBeenCalledTimes(2);
    expect(a).toBe(b);
    expect(c).toBe(a);
    expect(cache.fresh(Date.now())).toBe(a);
  });

  it('is stale after a second, near expiry, and after invalidate', async () => {
    const soon = new Date(Date.now() + 60_000);
    const cache = new IdentityCache(async () => keys('A', soon));
    expect(cache.fresh(Date.now())).toBeUndefined();
    await cache.refresh();
    expect(cache.fresh(Date.now())).toBeUndefined(); // expires within the five-minute window

    const later = new IdentityCache(async () => keys('B', new Date(Date.now() + 3_600_000)));
    await later.refresh();
    expect(later.fresh(Date.now())?.accessKeyId).toBe('B');
    expect(later.fresh(Date.now() + 1_000)).toBeUndefined();
    later.invalidate();
    expect(later.fresh(Date.now())).toBeUndefined();
    expect(later.latest?.accessKeyId).toBe('B');
  });

  it('rejects a provider answer without keys and reads again next time', async () => {
    const provider = vi
      .fn<() => Promise<Identity>>()
      .mockResolvedValueOnce({} as Identity)
      .mockResolvedValueOnce(keys('C'));
    const cache = new IdentityCache(provider);
    await expect(cache.refresh()).rejects.toThrow(/no access key id and secret/);
    await expect(cache.current()).resolves.toMatchObject({ accessKeyId: 'C' });
  });
});

describe('AmzClock and SigningKeyCache', () => {
  it('a fixed clock always gives that time', () => {
    const clock = new AmzClock(Date.UTC(2026, 3, 1, 12));
    expect(clock.now()).toEqual({ long: '20260401T120000Z', short: '20260401' });
    expect(clock.now()).toBe(clock.now());
  });

  it('derives a key once per credentials, day, region and service', () => {
    const cache = new SigningKeyCache();
    const id: Identity = { accessKeyId: 'A', secretAccessKey: 's' };
    const first = cache.get(id, '20260401', 'eu-west-1', 's3');
    expect(cache.get(id, '20260401', 'eu-west-1', 's3')).toBe(first);
    expect(cache.get(id, '20260402', 'eu-west-1', 's3')).not.toEqual(first);
  });
});
