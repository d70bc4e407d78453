import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useS3Endpoint } from '@presign-pipeline/minio-testing/vitest';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureStdout, lambdaContext, setEnv } from './invoke.js';
import { loadTemplate } from './template.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const s3 = useS3Endpoint();
const bucket = `sign-pdfs-bundle-${randomBytes(4).toString('hex')}`;
let outdir: string;
let restoreEnv: () => void = () => undefined;

beforeAll(async () => {
  outdir = await mkdtemp(join(tmpdir(), 'sign-pdfs-bundle-'));
  await s3.createBucket(bucket);
  await s3.seed(bucket, ['in/a.pdf', 'in/b.PDF', 'in/c.txt']);
});

afterAll(async () => {
  restoreEnv();
  await rm(outdir, { recursive: true, force: true });
  await s3.stop();
});

describe('the esbuild bundle `sam build` makes from the template', () => {
  it('is one self-contained handler.js that serves the contract', async () => {
    // Prepare: the template's own esbuild settings, as sam build would apply them.
    const { Resources } = loadTemplate(join(root, 'template.yaml'));
    const fn = Resources.SignPdfsFunction!;
    const props = (fn.Metadata as { BuildProperties: Record<string, unknown> }).BuildProperties;
    const entryPoints = (props.EntryPoints as string[]).map((entry) => join(root, entry));

    // Act: bundle into a directory outside the workspace, so nothing can resolve from node_modules.
    const result = await build({
      entryPoints,
      outdir,
      bundle: true,
      platform: props.Platform as 'node',
      format: props.Format as 'cjs',
      target: props.Target as string,
      minify: props.Minify as boolean,
      sourcemap: props.Sourcemap as boolean,
      logLevel: 'silent',
    });

    // Assess: the file the template's Handler names exists, and it works on its own.
    expect(result.errors).toEqual([]);
    const [file, exportName] = (fn.Properties!.Handler as string).split('.') as [string, string];
    const bundled = join(outdir, `${file}.js`);
    expect(existsSync(bundled)).toBe(true);
    const handler = createRequire(bundled)(bundled)[exportName] as (
      event: unknown,
      context: unknown,
    ) => Promise<{ statusCode: number; body: string }>;
    restoreEnv = setEnv({
      S3_ENDPOINT_URL: s3.endpoint,
      AWS_REGION: s3.region,
      AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
      BUCKET_NAME: bucket,
      PREFIX: 'in/',
      ALLOWED_BUCKETS: undefined,
      ALLOWED_PREFIXES: undefined,
    });
    const run = await captureStdout(() => handler({}, lambdaContext('req-bundle')));
    expect(run.error).toBeUndefined();
    expect(run.result?.statusCode).toBe(200);
    expect(JSON.parse(run.result!.body)).toMatchObject({ count: 2, errors: 0 });
  });
});
