// Benchmarks that measure a run's memory start it in a child process of its own, which prints one JSON line last.
import { spawn } from 'node:child_process';
import { basename } from 'node:path';

/**
 * Runs `node ...nodeArgs <script> ...args` with `env` added to this process's environment; resolves with its last
 * stdout line parsed as JSON, rejects when it exits with a failure (the message starts with `label`, by default the
 * script's name).
 */
export function runJsonChild(script, args, { env = {}, label = basename(script, '.mjs'), nodeArgs = [] } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`${label} ${args.join(' ')} exited with ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()));
    });
  });
}
