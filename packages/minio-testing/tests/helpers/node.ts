import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The built package, which the subprocess tests load as a consumer would. */
export const distDir = fileURLToPath(new URL('../../dist/', import.meta.url));
export const distEsm = `${distDir}index.js`;
export const distCjs = `${distDir}index.cjs`;

/** Fails clearly when the package has not been built (`pnpm --filter @presign-pipeline/minio-testing run build`). */
export function requireDist(): void {
  if (!existsSync(distEsm) || !existsSync(distCjs)) {
    throw new Error(`the built package is missing (${distDir}): run the build first`);
  }
}

/** Runs Node with arguments and a deadline; resolves with stdout, rejects with stderr on failure. */
export function runNode(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      args,
      { env: { ...process.env, ...options.env }, timeout: options.timeoutMs ?? 20_000, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`node ${args.join(' ')} failed: ${error.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}
