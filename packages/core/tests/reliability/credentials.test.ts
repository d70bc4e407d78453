import { S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isPresignPipelineError } from '../../src/errors.js';
import { memoryManifestWriter } from '../../src/manifest/memory-manifest-writer.js';
import { presignPipeline } from '../../src/pipeline.js';
import { jsonLogReporter } from '../../src/reporters/json-log-reporter.js';
import { fastPresigner } from '../../src/s3/fast-presigner.js';
import { sdkPresigner } from '../../src/s3/sdk-presigner.js';
import { arrayKeySource } from '../../src/sources/array-key-source.js';
import type { KeySource, Presigner } from '../../src/types.js';
import { recordingReporter } from '../unit/pipeline-helpers.js';
import { within } from './helpers.js';

/**
 * A presigned URL dies with the temporary credentials that signed it, whatever its X-Amz-Expires. These tests give
 * the presigners a credential provider whose expiration is near, or that rotates mid-run, and check what the run
 * does about it: caps and reports (`expiry-capped`, the `expiry_capped` log line), refuses on request, and signs
 * with the fresh credentials once the provider hands them out.
 */
interface Identity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration?: Date;
}

const FIRST: Identity = {
  accessKeyId: 'ASIAFIRSTKEY00000001',
  secretAccessKey: 'first-secret-value',
  sessionToken: 'first-session-token',
};
const SECOND: Identity = {
  accessKeyId: 'ASIASECONDKEY0000002',
  secretAccessKey: 'second-secret-value',
  sessionToken: 'second-session-token',
};

/** A client whose credential provider is `provide`, called each time the SDK (or fastPresigner) asks. */
function clientWith(provide: () => Identity): { client: S3Client; calls: () => number } {
  let calls = 0;
  const client = new S3Client({
    region: 'eu-west-1',
    credentials: async () => {
      calls++;
      return provide();
    },
  });
  return { client, calls: () => calls };
}

const presigners: ReadonlyArray<[name: string, make: (client: S3Client) => Presigner]> = [
  ['sdkPresigner', (client) => sdkPresigner({ client })],
  ['fastPresigner', (client) => fastPresigner({ client })],
];

afterEach(() => {
  vi.useRealTimers();
});

describe.each(presigners)('%s with credentials that expire before the URLs would', (_name, make) => {
  it("caps every URL at the credentials' remaining life, emits expiry-capped and logs expiry_capped", async () => {
    // Prepare: credentials with two minutes to live; URLs asked for fifteen.
    const expiration = new Date(Date.now() + 120_000);
    const { client } = clientWith(() => ({ ...FIRST, expiration }));
    const reporter = recordingReporter();
    const lines: string[] = [];
    const manifest = memoryManifestWriter();
    const keys = Array.from({ length: 50 }, (_, i) => `doc-${i}.pdf`);

    // Act
    const result = await within(
      30_000,
      'the run',
      presignPipeline({
        source: arrayKeySource(keys, { bucket: 'reports' }),
        presigner: make(client),
        manifest,
        expiresIn: 900,
        reporters: [reporter, jsonLogReporter({ write: (line) => lines.push(line) })],
      }),
    );

    // Assess: the event, the result and every URL agree on the capped lifetime.
    const [capped, ...more] = reporter.of('expiry-capped');
    expect(more).toEqual([]);
    expect(capped).toMatchObject({ requestedExpiresIn: 900, credentialsExpireAt: expiration });
    expect(capped?.effectiveExpiresIn).toBeGreaterThanOrEqual(110);
    expect(capped?.effectiveExpiresIn).toBeLessThanOrEqual(120);
    expect(result.effectiveExpiresIn).toBe(capped?.effectiveExpiresIn);
    expect(manifest.context?.expiresIn).toBe(capped?.effectiveExpiresIn);
    expect(manifest.entries).toHaveLength(keys.length);
    for (const { url } of manifest.entries) {
      expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe(String(capped?.effectiveExpiresIn));
    }
    const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logged.find((l) => l.event === 'expiry_capped')).toEqual({
      event: 'expiry_capped',
      request_id: expect.any(String),
      requested_expiry_seconds: 900,
      effective_expiry_seconds: capped?.effectiveExpiresIn,
      credentials_expire_at: expiration.toISOString(),
    });
    expect(logged.find((l) => l.event === 'complete')).toMatchObject({
      effective_expiry_seconds: capped?.effectiveExpiresIn,
    });
    // The credentials themselves never reach a log line.
    const text = lines.join('\n');
    for (const secret of [FIRST.secretAccessKey, FIRST.sessionToken, FIRST.accessKeyId])
      expect(text).not.toContain(secret);
  });

  it("with onExpiryCapped 'refuse', rejects with CREDENTIALS_EXPIRE_TOO_SOON before the source is pulled or the manifest opened", async () => {
    // Prepare
    const { client } = clientWith(() => ({ ...FIRST, expiration: new Date(Date.now() + 120_000) }));
    let pulled = 0;
    const source: KeySource = {
      bucket: 'reports',
      async *pages() {
        pulled++;
        yield { bucket: 'reports', keys: ['a.pdf'] };
      },
    };
    const manifest = memoryManifestWriter();

    // Act
    const error = await presignPipeline({
      source,
      presigner: make(client),
      manifest,
      expiresIn: 900,
      onExpiryCapped: 'refuse',
    }).then(
      () => undefined,
      (reason: unknown) => reason,
    );

    // Assess
    expect(isPresignPipelineError(error) && error.code).toBe('CREDENTIALS_EXPIRE_TOO_SOON');
    expect((error as Error).message).toMatch(
      /expire at .* \(in 1[012]\d s\), before URLs valid for expiresIn=900 s would/,
    );
    expect(pulled).toBe(0);
    expect(manifest.context).toBeUndefined();
  });

  it('refuses even when only warning was asked, if the credentials have already expired', async () => {
    const { client } = clientWith(() => ({ ...FIRST, expiration: new Date(Date.now() - 1_000) }));
    const error = await presignPipeline({
      source: arrayKeySource(['a.pdf'], { bucket: 'reports' }),
      presigner: make(client),
      manifest: memoryManifestWriter(),
    }).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(isPresignPipelineError(error) && error.code).toBe('CREDENTIALS_EXPIRE_TOO_SOON');
  });

  it('does not cap when the credentials outlive the URLs', async () => {
    const { client } = clientWith(() => ({ ...FIRST, expiration: new Date(Date.now() + 3_600_000) }));
    const reporter = recordingReporter();
    const result = await presignPipeline({
      source: arrayKeySource(['a.pdf'], { bucket: 'reports' }),
      presigner: make(client),
      manifest: memoryManifestWriter(),
      expiresIn: 900,
      reporters: [reporter],
    });
    expect(result.effectiveExpiresIn).toBe(900);
    expect(reporter.of('expiry-capped')).toEqual([]);
  });
});

describe.each(presigners)('%s with credentials that are refreshed mid-run', (_name, make) => {
  it('signs with the new credentials once the provider hands them out, never with expired ones', async () => {
    // Prepare: a fake clock. The first credentials expire at T0 + 6 min; from T0 + 2 min on, the provider returns the
    // second ones (as an STS or container provider would near expiry). The source moves the clock between pages.
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = Date.parse('2026-04-01T10:00:00Z');
    vi.setSystemTime(t0);
    const firstExpiry = new Date(t0 + 6 * 60_000);
    const secondExpiry = new Date(t0 + 66 * 60_000);
    const { client, calls } = clientWith(() =>
      Date.now() < t0 + 2 * 60_000 ? { ...FIRST, expiration: firstExpiry } : { ...SECOND, expiration: secondExpiry },
    );
    const clockSteps = [0, 3 * 60_000, 7 * 60_000];
    const source: KeySource = {
      bucket: 'reports',
      async *pages() {
        for (let page = 0; page < clockSteps.length; page++) {
          vi.setSystemTime(t0 + (clockSteps[page] as number));
          yield { bucket: 'reports', keys: Array.from({ length: 40 }, (_, i) => `p${page}/doc-${i}.pdf`) };
        }
      },
    };
    const manifest = memoryManifestWriter();

    // Act: URLs of five minutes, within the first credentials' life when the run starts (no cap).
    const result = await within(
      30_000,
      'the run',
      presignPipeline({ source, presigner: make(client), manifest, expiresIn: 300, concurrency: 1, queueMax: 1 }),
    );

    // Assess: each URL is signed by the credentials valid at its signing time (X-Amz-Date): the first ones at T0,
    // the second ones from T0 + 3 min on (the first then have 3 min left, inside the five-minute refresh window).
    expect(result).toMatchObject({ count: 120, errors: 0, effectiveExpiresIn: 300 });
    const signedBy = { first: 0, second: 0 };
    for (const { url } of manifest.entries) {
      const params = new URL(url).searchParams;
      const signedAt = Date.parse(
        (params.get('X-Amz-Date') ?? '').replace(
          /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/,
          '$1-$2-$3T$4:$5:$6Z',
        ),
      );
      const expected = signedAt < t0 + 3 * 60_000 ? FIRST : SECOND;
      expect(params.get('X-Amz-Credential')?.startsWith(`${expected.accessKeyId}/`)).toBe(true);
      expect(params.get('X-Amz-Security-Token')).toBe(expected.sessionToken);
      expect(signedAt).toBeLessThan((expected === FIRST ? firstExpiry : secondExpiry).getTime());
      signedBy[expected === FIRST ? 'first' : 'second']++;
    }
    expect(signedBy.first).toBeGreaterThan(0);
    expect(signedBy.second).toBeGreaterThanOrEqual(80);
    // One sample re-signed by the SDK with the second credentials, at the same instant, gives the same URL.
    const sample = manifest.entries.find((e) => e.key === 'p2/doc-7.pdf');
    const staticSecond = new S3Client({ region: 'eu-west-1', credentials: SECOND });
    const expected = await sdkPresigner({ client: staticSecond, signingDate: new Date(t0 + 7 * 60_000) }).presign(
      { bucket: 'reports', key: 'p2/doc-7.pdf' },
      { expiresIn: 300 },
    );
    expect(sample?.url).toBe(expected);
    expect(calls()).toBeGreaterThanOrEqual(2);
  });
});
