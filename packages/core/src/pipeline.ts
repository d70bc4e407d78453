import type { PipelineResult, PresignPipelineOptions } from './types.js';

/**
 * Streams every key of `options.source` through `options.presigner` into `options.manifest`.
 * (Stub: implemented by the pipeline work.)
 */
export async function presignPipeline(options: PresignPipelineOptions): Promise<PipelineResult> {
  void options;
  throw new Error('not implemented');
}
