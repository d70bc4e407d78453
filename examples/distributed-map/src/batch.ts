import { createBatchHandler } from '@presign-pipeline/lambda';

// #region batch
// The Distributed Map child. Step Functions hands it one ItemBatcher batch:
//   {"Items": [{"Key", "Etag", "LastModified", "Size", "StorageClass"}, ...], "BatchInput": {"bucket", "run", "expiry_seconds"}}
// It keeps the .pdf keys, presigns them and writes manifests/<run>/part-<n>.jsonl, answering {part_key, count, errors}.
// n is derived from the batch itself, so a batch that Step Functions retries rewrites its own part.
export const handler = createBatchHandler({
  // SigV4 computed with node:crypto: 1000 URLs in a few milliseconds instead of a few hundred.
  presigner: 'fast',
});
// #endregion batch
