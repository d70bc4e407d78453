// The S3 simulator in a process of its own, for benches that measure a client against it: as against real S3 (another
// machine), the simulator's CPU time and garbage are not the measured process's (it still shares the machine's
// cores). One JSON line per message over stdin/stdout: the parent sends {"op":"counters"} or {"op":"reset"} and reads
// one answer line each; closing stdin stops the simulator.
//   const sim = await spawnS3Simulator({ buckets: { … }, latencyMs: 50 });  … await sim.counters(); await sim.close();
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { minioTesting } from './load.mjs';

/**
 * Starts `startS3Simulator(options)` in a child process. Resolves with its endpoint, `counters()` (the simulator's
 * counters plus the child's CPU time in ms since it started and its peak RSS in MB), `resetCounters()` and `close()`.
 */
export async function spawnS3Simulator(options) {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), JSON.stringify(options)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error('the simulator process exited');
    return JSON.parse(value);
  };
  const ask = (op) => {
    child.stdin.write(`${JSON.stringify({ op })}\n`);
    return next();
  };
  const { endpoint } = await next();
  return {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'simulator', secretAccessKey: 'simulator-secret' },
    counters: () => ask('counters'),
    resetCounters: () => ask('reset'),
    async close() {
      child.stdin.end();
      await exited;
    },
  };
}

async function serve(options) {
  const { startS3Simulator } = await minioTesting();
  const sim = await startS3Simulator(options);
  process.stdout.write(`${JSON.stringify({ endpoint: sim.endpoint })}\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    const { op } = JSON.parse(line);
    if (op === 'reset') sim.resetCounters();
    const cpu = process.cpuUsage();
    process.stdout.write(
      `${JSON.stringify({ ...sim.counters, cpuMs: (cpu.user + cpu.system) / 1000, maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`,
    );
  }
  await sim.close();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await serve(JSON.parse(process.argv[2] ?? '{}'));
