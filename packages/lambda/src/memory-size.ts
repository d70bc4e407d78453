import type { HandlerEnv } from './config.js';

const MIB = 1024 * 1024;

/**
 * Functions of this many MB or fewer upload their manifest from a smaller part pool (see {@link manifestPartPool}).
 * @internal
 */
export const SMALL_FUNCTION_MB = 256;

/**
 * The manifest writer's part size and parts in flight for the function the handler runs in, from the memory size
 * Lambda sets in `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` (MB). The writer's default pool, five 8 MiB parts (40 MiB), is
 * outside V8's heap, and the Lambda runtime sizes that heap from the same memory size: in a 128 MB function a
 * 1,000,000-key run measured with the runtime's heap settings peaked at 149 MB with the default pool, more than the
 * function has, and at 116 MB with two 5 MiB parts. Such a function has a small share of a CPU, so one part in flight keeps up with it. Larger functions,
 * and a process outside Lambda, keep the writer's defaults (empty result).
 * @internal
 */
export function manifestPartPool(env: HandlerEnv): { partSize?: number; queueSize?: number } {
  const raw = env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE;
  if (raw === undefined || !/^\d+$/.test(raw)) return {};
  const memoryMb = Number(raw);
  if (memoryMb === 0 || memoryMb > SMALL_FUNCTION_MB) return {};
  // 5 MiB is S3's least part size: 10,000 parts still take a 48.8 GiB manifest, more than such a function writes in 15 minutes.
  return { partSize: 5 * MIB, queueSize: 1 };
}
