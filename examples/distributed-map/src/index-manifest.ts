import { createManifestIndexHandler } from '@presign-pipeline/lambda';

// #region index
// The final step: {"bucket", "run", "expiry_seconds"} in, manifests/<run>/index.jsonl out, one presigned
// {"key", "url", "count", "errors"} line per part. Answers {index_key, index_url, parts, count, errors, urls_expire_at}.
export const handler = createManifestIndexHandler({ presigner: 'fast' });
// #endregion index
