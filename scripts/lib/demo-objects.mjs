// What `npm run demo` and `npm run tester` share: the sample objects they seed into the local S3 endpoint, and the
// environment that points the local runner at it.

/** Where the samples go: DEMO_BUCKET and DEMO_OBJECTS override the bucket and the number of reports. */
export function demoTarget(env = process.env) {
  return {
    bucket: env.DEMO_BUCKET ?? 'presign-pipeline-demo',
    prefix: '2026/04/',
    samples: Number(env.DEMO_OBJECTS ?? 250),
  };
}

/** Creates the bucket and seeds `samples` reports (every tenth a .txt) and one `.PDF` with spaces in its name. */
export async function seedDemoObjects(s3, { bucket, prefix, samples }) {
  await s3.createBucket(bucket);
  const entries = [];
  for (let i = 0; i < samples; i++) {
    const name = `${prefix}report-${String(i).padStart(4, '0')}${i % 10 === 9 ? '.txt' : '.pdf'}`;
    entries.push({ key: name, body: `%PDF-1.4 sample ${i}\n` });
  }
  entries.push({ key: `${prefix}Quarterly Summary (final).PDF`, body: '%PDF-1.4 summary\n' });
  process.stderr.write(`Seeding ${entries.length} objects into s3://${bucket}/${prefix} on the ${s3.kind} endpoint…\n`);
  await s3.seed(bucket, entries);
}

/** The variables the local runner reads to reach `s3` (endpoint, region, credentials). */
export function endpointEnv(s3) {
  return {
    S3_ENDPOINT_URL: s3.endpoint,
    AWS_REGION: s3.region,
    AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
  };
}
