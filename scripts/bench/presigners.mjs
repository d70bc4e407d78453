// (a) Microseconds per URL for the three ways to presign an S3 GET, in one process and one run:
// sdkPresigner (the AWS SDK's getSignedUrl), @smithy/signature-v4's presign, and fastPresigner.
import { createHash, createHmac } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { sessionCredentials, coreRequire, core } from './load.mjs';

const { S3Client } = coreRequire('@aws-sdk/client-s3');
const { SignatureV4 } = coreRequire('@smithy/signature-v4');

/** The SHA-256 / HMAC-SHA256 class @smithy/signature-v4 expects, on node:crypto. */
class NodeSha256 {
  constructor(secret) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(data) {
    this.hash.update(toBuffer(data));
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

function toBuffer(data) {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

const REGION = 'eu-west-1';
const BUCKET = 'bench-reports';
const SIGNING_DATE = new Date('2026-04-01T12:00:00Z');
// Lambda always signs with temporary credentials, so every URL carries a session token (~1 KB in real life).
const CREDENTIALS = sessionCredentials();

const keyAt = (i) => `reports/2026/04/${i % 97}/Quarterly report ${i} (final).pdf`;

/** Encodes a key the way S3 does in the path, for the smithy signer (which takes a ready-made path). */
const encodeKey = (key) =>
  key
    .split('/')
    .map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/');

function smithyPresigner(client) {
  const signer = new SignatureV4({
    service: 's3',
    region: REGION,
    credentials: CREDENTIALS,
    sha256: NodeSha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  const hostname = `${BUCKET}.s3.${REGION}.amazonaws.com`;
  void client;
  return {
    async presign({ key }, { expiresIn }) {
      const signed = await signer.presign(
        {
          method: 'GET',
          protocol: 'https:',
          hostname,
          path: `/${encodeKey(key)}`,
          query: {},
          headers: { host: hostname, 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' },
        },
        { expiresIn, signingDate: SIGNING_DATE },
      );
      const query = Object.keys(signed.query)
        .sort()
        .map(
          (name) =>
            `${encodeURIComponent(name)}=${encodeURIComponent(signed.query[name]).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`,
        )
        .join('&');
      return `https://${hostname}${signed.path}?${query}`;
    },
  };
}

/** Wall and CPU microseconds per URL over `count` sequential calls. */
async function time(count, presign) {
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < count; i += 1) await presign({ bucket: BUCKET, key: keyAt(i) }, { expiresIn: 3600 });
  const wallUs = ((performance.now() - start) * 1000) / count;
  const used = process.cpuUsage(cpu);
  return { wallUs, cpuUs: (used.user + used.system) / count };
}

/**
 * Runs the comparison. Each presigner signs distinct keys (as in a real listing, where the SDK's endpoint cache
 * misses on every key), sequentially, after a warm-up; the best of `rounds` timed rounds is reported.
 */
export async function benchPresigners({ rounds = 10, scale = 1, log = () => {} } = {}) {
  const { sdkPresigner, fastPresigner } = core();
  const client = new S3Client({ region: REGION, credentials: CREDENTIALS });
  const sdk = sdkPresigner({ client, signingDate: SIGNING_DATE });
  const smithy = smithyPresigner(client);
  const fast = fastPresigner({ client, signingDate: SIGNING_DATE, fallback: false });

  // The three agree on the URL (the smithy one is built by hand for the virtual-hosted endpoint).
  const probe = { bucket: BUCKET, key: keyAt(7) };
  const urls = await Promise.all([sdk, smithy, fast].map((p) => p.presign(probe, { expiresIn: 3600 })));
  const identical = urls.every((url) => url === urls[0]);

  // Counts per round chosen so each presigner runs for about half a second per round.
  const plan = [
    ['sdkPresigner', 'sdkPresigner (SDK getSignedUrl)', 800, (o, p) => sdk.presign(o, p)],
    ['signature-v4', '@smithy/signature-v4 presign', 5_000, (o, p) => smithy.presign(o, p)],
    ['fastPresigner', 'fastPresigner.presign', 60_000, (o, p) => fast.presign(o, p)],
    // What the pipeline does: the synchronous path, with the promise path when credentials need a refresh.
    ['fastPresignerSync', 'fastPresigner.presignSync', 60_000, (o, p) => fast.presignSync(o, p) ?? fast.presign(o, p)],
  ].map(([id, label, count, presign]) => ({
    id,
    label,
    count: Math.max(100, Math.round(count * scale)),
    presign,
    samples: [],
  }));
  for (const entry of plan) await time(Math.ceil(entry.count / 5), entry.presign); // warm-up: JIT, caches, first-bucket probe
  // Rounds interleave the presigners, so a burst of other work on the machine hits them alike and the ratios of one
  // round compare like with like.
  for (let r = 0; r < rounds; r += 1)
    for (const entry of plan) entry.samples.push(await time(entry.count, entry.presign));
  const results = {};
  for (const { id, label, count, samples } of plan) {
    // Best round: other work on the machine only ever adds time, so the fastest round is the least disturbed one.
    const wall = Math.min(...samples.map((s) => s.wallUs));
    const cpu = Math.min(...samples.map((s) => s.cpuUs));
    results[id] = { label, count, rounds, usPerUrl: wall, cpuUsPerUrl: cpu, samplesUs: samples.map((s) => s.wallUs) };
    log(
      `  ${label.padEnd(38)} ${wall.toFixed(2).padStart(9)} µs/URL  (CPU ${cpu.toFixed(2)} µs; best of ${rounds} rounds × ${count})`,
    );
  }
  const perRound = (a, b) => {
    const ratios = results[a].samplesUs.map((v, i) => v / results[b].samplesUs[i]).sort((x, y) => x - y);
    return ratios[Math.floor(ratios.length / 2)];
  };
  const roundRatios = {
    sdkOverFast: perRound('sdkPresigner', 'fastPresigner'),
    smithyOverFast: perRound('signature-v4', 'fastPresigner'),
    sdkOverSmithy: perRound('sdkPresigner', 'signature-v4'),
  };
  log(
    `  median of the per-round ratios: sdkPresigner / fastPresigner = ${roundRatios.sdkOverFast.toFixed(0)}×, ` +
      `signature-v4 / fastPresigner = ${roundRatios.smithyOverFast.toFixed(1)}×`,
  );
  return { identical, urlBytes: urls[0].length, results, roundRatios };
}
