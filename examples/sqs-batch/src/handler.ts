import { createSqsHandler } from '@presign-pipeline/lambda';

// #region handler
// One SQS message = one presign job: its body is the same JSON event the direct handler takes,
// e.g. {"bucket":"reports","prefix":"2026/04/"}. The answer names only the messages that failed,
// so with ReportBatchItemFailures on, SQS redelivers those alone (and, after maxReceiveCount, moves
// them to the dead-letter queue) instead of the whole batch.
export const handler = createSqsHandler({
  // Two jobs of a batch at once: listing is I/O-bound, so two overlap well; memory stays that of two jobs.
  recordConcurrency: 2,
});
// #endregion handler
