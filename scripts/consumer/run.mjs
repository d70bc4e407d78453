// Runs the handler bundles against a real S3 API (moto_server, or S3_ENDPOINT_URL) and checks each manifest: every
// .pdf key once, each URL the AWS SDK's own presigned URL for the same clock, and the URLs fetching the objects.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { defaultSeedBody, startS3Endpoint } from '@presign-pipeline/minio-testing';

const KEYS = ['reports/a.pdf', 'reports/b.PDF', 'reports/deep/c d+é.pdf', 'reports/notes.txt', 'other/x.pdf'];
const EXPECTED = ['reports/a.pdf', 'reports/b.PDF', 'reports/deep/c d+é.pdf'];
const fail = (message) => {
  throw new Error(message);
};

const endpoint = await startS3Endpoint({ prefer: ['external', 'moto'] });
const scratch = mkdtempSync(join(tmpdir(), 'consumer-run-'));
const env = {
  ...process.env,
  S3_ENDPOINT_URL: endpoint.endpoint,
  AWS_REGION: endpoint.region,
  AWS_ACCESS_KEY_ID: endpoint.credentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: endpoint.credentials.secretAccessKey,
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};
// The reference URL: the SDK's getSignedUrl on the same endpoint and credentials, for the URL form the packages
// document (no checksum parameter, no `x-id`: see sdkPresigner), so the query is the plain SigV4 one.
const reference = new S3Client({
  endpoint: endpoint.endpoint,
  region: endpoint.region,
  credentials: endpoint.credentials,
  forcePathStyle: true,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});
reference.middlewareStack.add(
  (next) => async (args) => {
    delete args.request.query['x-id'];
    return next(args);
  },
  { step: 'build', name: 'dropXId' },
);

function invoke(bundle, event) {
  const resultFile = join(scratch, 'result.json');
  rmSync(resultFile, { force: true });
  const child = spawnSync(process.execPath, ['invoke-bundle.mjs', bundle, JSON.stringify(event), resultFile], {
    env,
    encoding: 'utf8',
  });
  if (child.status !== 0) return { error: `${child.stderr}` };
  return { response: JSON.parse(readFileSync(resultFile, 'utf8')) };
}

async function checkEntry({ key, url }) {
  const signed = new URL(url);
  const date = signed.searchParams.get('X-Amz-Date') ?? fail(`no X-Amz-Date in the URL of ${key}`);
  const signingDate = new Date(date.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'));
  const expiresIn = Number(signed.searchParams.get('X-Amz-Expires'));
  const command = new GetObjectCommand({ Bucket: bucketOf(url), Key: key });
  const expected = await getSignedUrl(reference, command, { expiresIn, signingDate });
  if (url !== expected) fail(`the URL of ${key} is not the SDK's URL for the same clock`);
  const body = await (await fetch(url)).text();
  if (body !== defaultSeedBody(key)) fail(`GET on the URL of ${key} did not return its object`);
}

const bucketOf = (url) => decodeURIComponent(new URL(url).pathname.split('/')[1]);

async function checkRun(bundle, bucket) {
  const { response, error } = invoke(bundle, { bucket, prefix: 'reports/', expiry_seconds: 600 });
  if (error) fail(`${bundle} failed: ${error}`);
  if (response.statusCode !== 200) fail(`${bundle} answered ${response.statusCode}: ${response.body}`);
  const body = JSON.parse(response.body);
  if (body.count !== EXPECTED.length || body.errors !== 0 || body.complete !== true) {
    fail(`${bundle} answered ${JSON.stringify({ count: body.count, errors: body.errors, complete: body.complete })}`);
  }
  const stored = await endpoint.client.send(new GetObjectCommand({ Bucket: bucket, Key: body.manifest_key }));
  const manifest = await stored.Body.transformToString();
  const entries = manifest
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line));
  const keys = entries.map((entry) => entry.key).sort();
  if (JSON.stringify(keys) !== JSON.stringify([...EXPECTED].sort())) fail(`${bundle}: manifest keys ${keys}`);
  for (const entry of entries) await checkEntry(entry);
  if ((await (await fetch(body.manifest_url)).text()) !== manifest) fail(`${bundle}: manifest_url serves another body`);
  console.log(`ran ${bundle}: 200, ${entries.length} keys, every URL the SDK's own and serving its object`);
}

try {
  for (const [index, bundle] of ['dist/handler.cjs', 'dist/handler.mjs'].entries()) {
    const bucket = `consumer-${process.pid}-${index}`;
    await endpoint.createBucket(bucket);
    await endpoint.seed(bucket, KEYS);
    await checkRun(bundle, bucket);
  }
  // Without the banner, the ES module bundle cannot give the SDK its require() of Node built-ins.
  const { error } = invoke('dist/handler-no-banner.mjs', { bucket: 'consumer-none', prefix: 'reports/' });
  if (!error?.includes('Dynamic require of "node:')) fail(`the bundle without the banner did not fail as documented`);
  console.log('dist/handler-no-banner.mjs fails with "Dynamic require of node:…", as docs/installing.md says');
} finally {
  reference.destroy();
  await endpoint.stop();
  rmSync(scratch, { recursive: true, force: true });
}
