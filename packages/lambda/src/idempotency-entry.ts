// `@presign-pipeline/lambda/idempotency`: what needs DynamoDB and Powertools idempotency, kept out of the main entry so
// a handler without idempotency neither bundles nor loads them.
import { dynamoDbIdempotencyStore } from './dynamodb-idempotency.js';
import { createPresignHandler, type PresignHandler } from './handler.js';

export { dynamoDbIdempotencyStore } from './dynamodb-idempotency.js';
export type { DynamoDbIdempotencyStoreOptions } from './dynamodb-idempotency.js';

/**
 * The documented handler with the reference defaults, deduplicating jobs when `IDEMPOTENCY_TABLE` is set:
 * `export { handler } from '@presign-pipeline/lambda/idempotency'` deploys as is.
 */
export const handler: PresignHandler = createPresignHandler({ idempotencyStore: dynamoDbIdempotencyStore() });
