import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ProvidedS3Endpoint } from '@presign-pipeline/minio-testing';
import { describe, expect, inject, it } from 'vitest';

/**
 * 1,000 invocations of one handler in one process, as a warm Lambda reuses its execution environment. The work runs
 * in a child process (scripts/load/warm-invocations.mjs, with --expose-gc so the heap is measured after forced
 * collections, on the built packages) against this run's S3 endpoint, and reports JSON; here it is checked: every
 * invocation succeeded, and nothing grew from the 100th invocation to the 1,000th beyond the noise of a warm process:
 * heap (under 10 %), active sockets and timers, connections to the endpoint, process listeners; no warning.
 */
const SCRIPT = fileURLToPath(new URL('../../../../scripts/load/warm-invocations.mjs', import.meta.url));
const INVOCATIONS = 1000;
const DEADLINE_MS = 420_000;

interface WarmReport {
  invocations: number;
  failures: number;
  firstFailure?: string;
  output: { lines: number; completeLines: number; emfDocuments: number };
  heapUsed: { baseline: number; final: number; growthPercent: number };
  resources: { baseline: Record<string, number>; final: Record<string, number> };
  listeners: { baseline: { total: number }; final: { total: number } };
  connections: { baseline?: number; final?: number };
  warnings: string[];
}

function runScript(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', SCRIPT, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`warm-invocations.mjs did not finish within ${DEADLINE_MS} ms`));
    }, DEADLINE_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('warm Lambda reuse: 1,000 invocations in one process', () => {
  it(
    'every invocation succeeds; heap, sockets, timers, connections and listeners do not grow after warm-up',
    async () => {
      // Prepare: the child talks to the endpoint this test run shares.
      const provided = inject('s3Endpoint') as ProvidedS3Endpoint;
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        S3_ENDPOINT_URL: provided.endpoint,
        AWS_REGION: provided.region,
        AWS_ACCESS_KEY_ID: provided.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: provided.credentials.secretAccessKey,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      };

      // Act
      const { code, stdout, stderr } = await runScript(
        ['--invocations', String(INVOCATIONS), '--keys', '20', '--warmup', '100', '--json'],
        env,
      );

      // Assess
      expect({ code, stderr: stderr.slice(0, 2000) }).toEqual({ code: 0, stderr: '' });
      const report = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as WarmReport;
      expect(report).toMatchObject({ invocations: INVOCATIONS, failures: 0 });
      // One complete line and one EMF document per invocation: state did not carry over.
      expect(report.output).toMatchObject({ completeLines: INVOCATIONS, emfDocuments: INVOCATIONS });
      expect(report.heapUsed.growthPercent).toBeLessThan(10);
      // A leak would grow with the 900 invocations; a socket or timer in passage at either snapshot is not one.
      for (const type of new Set([...Object.keys(report.resources.baseline), ...Object.keys(report.resources.final)])) {
        expect({ type, count: report.resources.final[type] ?? 0 }).toEqual({
          type,
          count: Math.min(report.resources.final[type] ?? 0, (report.resources.baseline[type] ?? 0) + 2),
        });
      }
      expect(report.listeners.final.total).toBe(report.listeners.baseline.total);
      if (report.connections.baseline !== undefined) {
        expect(report.connections.final).toBeLessThanOrEqual(Math.max(report.connections.baseline, 1));
      }
      expect(report.warnings).toEqual([]);
    },
    DEADLINE_MS + 30_000,
  );
});
