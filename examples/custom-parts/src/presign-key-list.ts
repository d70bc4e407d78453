import type { S3Client } from '@aws-sdk/client-s3';
import { fastPresigner, presignPipeline, type PipelineResult } from '@presign-pipeline/core';
import { csvManifestWriter } from './csv-manifest-writer.js';
import { lineFileSource } from './line-file-source.js';
import { prefixGuardPresigner } from './prefix-guard-presigner.js';
import { summaryReporter, type RunSummary, type SummaryReporterOptions } from './summary-reporter.js';

/** Options of {@link presignKeyList}. */
export interface PresignKeyListOptions {
  /** A file with one object key per line. */
  keysFile: string;
  /** The bucket the keys live in. */
  bucket: string;
  /** The client whose credentials, region and endpoint sign the URLs. Presigning makes no request. */
  client: S3Client;
  /** Where the CSV goes: a file path, or `'-'` for stdout. */
  output: string;
  /** Sign only keys under this prefix; others are item errors. Default: any key. */
  onlyUnder?: string;
  /** URL lifetime in seconds. Default 900. */
  expiresIn?: number;
  /** Where the summary is printed. Default stderr. */
  print?: SummaryReporterOptions['print'];
  /** Aborts the run. */
  signal?: AbortSignal;
}

// #region run
/**
 * Presigns every key listed in a file into a CSV manifest: the pipeline with parts of your own (a file key source,
 * a CSV manifest writer, a summary reporter, and a guard around the built-in fast presigner).
 */
export async function presignKeyList(
  options: PresignKeyListOptions,
): Promise<{ result: PipelineResult; summary: RunSummary }> {
  const reporter = summaryReporter(options.print !== undefined ? { print: options.print } : {});
  // Signs locally with node:crypto: no request per key, so one worker keeps up with the source.
  const signer = fastPresigner({ client: options.client });
  const result = await presignPipeline({
    source: lineFileSource(options.keysFile, { bucket: options.bucket }),
    presigner: options.onlyUnder === undefined ? signer : prefixGuardPresigner(signer, options.onlyUnder),
    concurrency: 1,
    manifest:
      options.output === '-'
        ? csvManifestWriter({ stream: process.stdout })
        : csvManifestWriter({ path: options.output }),
    reporters: [reporter],
    expiresIn: options.expiresIn ?? 900,
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });
  return { result, summary: reporter.summary() };
}
// #endregion run
