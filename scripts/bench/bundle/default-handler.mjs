// The documented handler as the sign-pdfs template deploys it.
export { handler } from '@presign-pipeline/lambda';
