import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useS3Endpoint } from '@presign-pipeline/minio-testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedReports, uniqueBucket } from '../helpers/integration.js';

const packageDir = fileURLToPath(new URL('../..', import.meta.url));
// The bin as package.json declares it: what `presign-local` runs once installed.
const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { bin: Record<string, string> };
const cli = join(packageDir, manifest.bin['presign-local'] ?? 'missing');
const endpoint = useS3Endpoint();
const bucket = uniqueBucket('cli');
const prefix = 'cli/';
const PDFS = 14;
let scratch = '';

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

beforeAll(async () => {
  // The bin is the built file; rebuild it when the sources are newer.
  let stale = true;
  try {
    stale = statSync(join(packageDir, 'dist', 'cli.js')).mtimeMs < newestSource(join(packageDir, 'src'));
  } catch {
    stale = true;
  }
  if (stale) {
    const build = spawnSync('pnpm', ['run', 'build'], { cwd: packageDir, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`building the CLI failed:\n${build.stdout}\n${build.stderr}`);
  }
  await seedReports(endpoint, bucket, prefix, PDFS, 2);
  scratch = mkdtempSync(join(tmpdir(), 'presign-local-'));
}, 120_000);
afterAll(async () => {
  rmSync(scratch, { recursive: true, force: true });
  await endpoint.stop();
});

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A running child of the bin, its output so far, and its exit. */
interface CliChild {
  readonly child: ChildProcessWithoutNullStreams;
  readonly output: { stdout: string; stderr: string };
  readonly exited: Promise<CliRun>;
}

function startCli(args: string[], env: Record<string, string> = {}): CliChild {
  const child = spawn(process.execPath, [cli, ...args], {
    cwd: scratch,
    env: {
      PATH: process.env.PATH ?? '',
      S3_ENDPOINT_URL: endpoint.endpoint,
      AWS_REGION: endpoint.region,
      AWS_ACCESS_KEY_ID: endpoint.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: endpoint.credentials.secretAccessKey,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...env,
    },
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
  const exited = new Promise<CliRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, ...output });
    });
  });
  return { child, output, exited };
}

function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return startCli(args, env).exited;
}

/** Resolves once `text` holds a match of `pattern`, polling; rejects after 20 s. */
async function until(read: () => string, pattern: RegExp): Promise<RegExpMatchArray> {
  for (let waited = 0; waited < 20_000; waited += 50) {
    const match = read().match(pattern);
    if (match !== null) return match;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`never saw ${pattern} in:\n${read()}`);
}

describe('presign-local (the bin) as a child process', () => {
  it('is a file of the repository, so installing the workspace links it before any build', () => {
    expect(cli.endsWith(join('bin', 'presign-local.js'))).toBe(true);
    const examples = join(packageDir, '..', '..', 'examples');
    expect(existsSync(join(examples, 'sign-pdfs', 'node_modules', '.bin', 'presign-local'))).toBe(true);
  });

  it('--json prints one object {result, logs, metrics} for a real run', async () => {
    const run = await runCli(['--event-json', JSON.stringify({ bucket, prefix }), '--json']);
    expect(run.code).toBe(0);
    const output = JSON.parse(run.stdout) as {
      result: { statusCode: number; body: string };
      logs: Array<Record<string, unknown>>;
      metrics: Array<{
        name: string;
        unit: string;
        value: number;
        namespace: string;
        dimensions: Record<string, string>;
      }>;
    };
    expect(Object.keys(output)).toEqual(['result', 'logs', 'metrics']);
    expect(output.result.statusCode).toBe(200);
    const body = JSON.parse(output.result.body) as { count: number; errors: number; manifest_key: string };
    expect(body).toMatchObject({ count: PDFS, errors: 0 });
    expect(output.logs).toHaveLength(1);
    expect(output.logs[0]).toMatchObject({
      event: 'complete',
      count: PDFS,
      errors: 0,
      pages: 1,
      effective_expiry_seconds: 900,
    });
    expect(output.metrics.map((m) => [m.name, m.unit])).toEqual([
      ['PDFsProcessed', 'Count'],
      ['S3ListPages', 'Count'],
      ['PresignCount', 'Count'],
      ['ManifestBytes', 'Bytes'],
      ['ResponseBytes', 'Bytes'],
    ]);
    expect(output.metrics[0]).toMatchObject({
      value: PDFS,
      namespace: 'eth/sign_pdfs_optimized',
      dimensions: { Function: 'sign_pdfs_optimized' },
    });
    expect(output.metrics[4]?.value).toBe(Buffer.byteLength(output.result.body));
  });

  it('shows the three panels in text mode, with no presigned URL outside the result', async () => {
    const eventFile = join(scratch, 'event.json');
    writeFileSync(eventFile, JSON.stringify({ bucket, prefix, expiry_seconds: 600 }));
    const run = await runCli(['--event', eventFile]);
    expect(run.code).toBe(0);
    const [result, rest] = run.stdout.split('== Structured logs (1)');
    expect(result).toContain('== Result');
    expect(result).toContain('statusCode: 200');
    expect(result).toContain(`"count": ${PDFS}`);
    expect(result).toContain('X-Amz-Expires=600');
    expect(rest).toMatch(
      /\ncomplete\s+[0-9a-f-]{36}\s+count=14 errors=0 pages=1 duration_ms=[\d.]+ effective_expiry_seconds=600/,
    );
    expect(rest).toContain('== EMF metrics (5)');
    expect(rest).toContain('namespace: eth/sign_pdfs_optimized   dimensions: Function=sign_pdfs_optimized');
    expect(rest).toMatch(/PDFsProcessed\s+Count\s+14\n/);
    expect(rest).toMatch(/S3ListPages\s+Count\s+1\n/);
    expect(rest).toMatch(/ManifestBytes\s+Bytes\s+\d+\n/);
    expect(rest).toMatch(/ResponseBytes\s+Bytes\s+\d+\n/);
    expect(rest).not.toContain('X-Amz-');
  });

  it('exits 1 when the handler throws, showing the error and its log line', async () => {
    const run = await runCli(['--event-json', JSON.stringify({ bucket: uniqueBucket('nope'), prefix })]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('Threw NoSuchBucket');
    expect(run.stdout).toMatch(/\nerror\s+[0-9a-f-]{36}\s+error=.*error_name=NoSuchBucket/);
    expect(run.stdout).toContain('== EMF metrics (4)');
  });

  it('exits 2 for a refused request, and runs the SQS handler with --handler sqs', async () => {
    const refused = await runCli(['--event-json', '{"expiry_seconds": "soon"}', '--json']);
    expect(refused.code).toBe(2);
    const output = JSON.parse(refused.stdout) as {
      result: { statusCode: number; body: string };
      logs: Array<Record<string, unknown>>;
    };
    expect(output.result.statusCode).toBe(400);
    expect(output.logs[0]).toMatchObject({ event: 'invalid_request', field: 'expiry_seconds' });

    const sqs = await runCli(['--handler', 'sqs', '--event-json', JSON.stringify({ bucket, prefix }), '--json']);
    expect(sqs.code).toBe(0);
    expect((JSON.parse(sqs.stdout) as { result: unknown }).result).toEqual({ batchItemFailures: [] });
  });

  it('reads its configuration from the environment, exits 64 on bad arguments and 1 on a timeout', async () => {
    const fromEnv = await runCli(['--json'], { BUCKET_NAME: bucket, PREFIX: prefix });
    expect(fromEnv.code).toBe(0);
    expect(JSON.parse((JSON.parse(fromEnv.stdout) as { result: { body: string } }).result.body)).toMatchObject({
      count: PDFS,
    });

    const bad = await runCli(['--handler', 'kinesis']);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain('--handler must be presign or sqs');

    const slow = await runCli(['--event-json', JSON.stringify({ bucket, prefix }), '--timeout-ms', '1']);
    expect(slow.code).toBe(1);
    expect(slow.stdout).toContain('Timed out');
  });

  it('--json masks a presigned URL quoted in a log line and still prints valid JSON', async () => {
    const event = { bucket, prefix, expiry_seconds: 'http://h/?X-Amz-Signature=a' };
    const run = await runCli(['--quiet', '--json', '--event-json', JSON.stringify(event)]);
    expect(run.code).toBe(2);
    const output = JSON.parse(run.stdout) as { result: { statusCode: number }; logs: Array<{ error: string }> };
    expect(output.result.statusCode).toBe(400);
    expect(output.logs[0]?.error).toContain('(got "[presigned URL]")');
  });

  it('refuses a --timeout-ms setTimeout cannot hold, in the runner and in the tester', async () => {
    const runner = await runCli(['--timeout-ms', '3000000000', '--event-json', JSON.stringify({ bucket, prefix })]);
    expect(runner.code).toBe(64);
    expect(runner.stderr).toContain('--timeout-ms must be a positive integer up to 2147483647 (got 3000000000)');
    const ui = await runCli(['ui', '--timeout-ms', '3000000000']);
    expect(ui.code).toBe(64);
    expect(ui.stderr).toContain('--timeout-ms must be a positive integer up to 2147483647 (got 3000000000)');
  });

  it('says which handler module never finished loading, and exits 1', async () => {
    writeFileSync(
      join(scratch, 'tla-hang.mjs'),
      'await new Promise(() => {});\nexport const handler = async () => ({});\n',
    );
    const run = await runCli(['ui', '--handler', 'tla-hang.mjs']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('tla-hang.mjs never finished loading: its top-level await never settles');
  });
});

describe('presign-local interrupted', () => {
  let silent: Server | undefined;
  afterAll(() => silent?.close());

  it('aborts the run on SIGINT, shows the AbortError and exits 130', async () => {
    // Prepare: an S3 endpoint that accepts connections and never answers, so the run waits until it is stopped.
    const sockets: import('node:net').Socket[] = [];
    silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent?.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as import('node:net').AddressInfo).port;
    const running = startCli(['--event-json', JSON.stringify({ bucket, prefix })], {
      S3_ENDPOINT_URL: `http://127.0.0.1:${port}`,
    });

    // Act
    await until(() => running.output.stderr, /0 pages listed/);
    running.child.kill('SIGINT');
    const run = await running.exited;
    for (const socket of sockets) socket.destroy();

    // Assess
    expect(run.code).toBe(130);
    expect(run.stderr).toContain('interrupted, stopping the run');
    expect(run.stdout).toContain('Threw AbortError');
  });

  it('presign-local ui cancels the run in progress on SIGINT and lets it clean up before exiting', async () => {
    // Prepare: a handler that, once cancelled, takes 300 ms to clean up and leaves a mark when it has.
    const mark = join(scratch, 'cleaned-up');
    writeFileSync(
      join(scratch, 'cleans-up.mjs'),
      `import { writeFileSync } from 'node:fs';
export const createHandler = ({ signal }) => () =>
  new Promise((_resolve, reject) => {
    signal.addEventListener('abort', () =>
      setTimeout(() => {
        writeFileSync(${JSON.stringify(mark)}, 'yes');
        reject(Object.assign(new Error('cancelled'), { name: 'AbortError' }));
      }, 300),
    );
  });
`,
    );
    const running = startCli(['ui', '--handler', 'cleans-up.mjs']);
    const [, url] = await until(() => running.output.stdout, /the tester is at (\S+)/);

    // Act
    const started = await fetch(`${url}api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"event":{}}',
    });
    running.child.kill('SIGINT');
    const run = await running.exited;

    // Assess
    expect(started.status).toBe(202);
    expect(run.code).toBe(0);
    expect(existsSync(mark)).toBe(true);
  });
});
