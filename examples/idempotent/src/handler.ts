import { createPresignHandler } from '@presign-pipeline/lambda';
import { dynamoDbIdempotencyStore } from '@presign-pipeline/lambda/idempotency';

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} must be set (the SAM template sets it)`);
  return value;
}

// #region handler
// The documented handler, deduplicating jobs through a DynamoDB table. The same (bucket, prefix, expiry_seconds)
// within a record's life gets the stored result without listing, and a manifest URL presigned afresh.
// The store comes from its own entry point, so handlers without idempotency carry no DynamoDB client.
export const handler = createPresignHandler({
  idempotencyStore: dynamoDbIdempotencyStore(),
  idempotency: {
    tableName: requiredEnv('IDEMPOTENCY_TABLE'),
    // The longest a result is reused. A record never outlives the URLs it points to: counted from the
    // run's start, it lives min(ttlSeconds, expiry_seconds - marginSeconds, the signing credentials'
    // life - marginSeconds), so a slow run leaves a shorter record (none if the run took it all).
    ttlSeconds: 3600,
    // A reused manifest must still have this much life left in its URLs.
    marginSeconds: 60,
    // The endpoint comes from DYNAMODB_ENDPOINT_URL when set (a local DynamoDB in tests), else AWS.
  },
});
// #endregion handler
