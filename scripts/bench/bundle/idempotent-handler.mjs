// The documented handler with DynamoDB idempotency available (the idempotent template's choice).
export { handler } from '@presign-pipeline/lambda/idempotency';
