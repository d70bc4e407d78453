// A handler module for the Cancel test: it presigns synthetic keys, page after slow page, into a multipart manifest
// upload on the real endpoint, so a cancelled run has an upload open that must be aborted.
import { S3Client } from '@aws-sdk/client-s3';
import { arrayKeySource, fastPresigner, presignPipeline, s3ManifestWriter } from '@presign-pipeline/core';
import type { TesterHandlerOptions, TesterLambdaHandler } from '../../src/tester/handler-module.js';

/** Keys the run would presign if nobody cancelled it. */
export const TOTAL_KEYS = 400_000;

async function* slowKeys(): AsyncGenerator<string> {
  for (let i = 0; i < TOTAL_KEYS; i++) {
    if (i % 1000 === 0) await new Promise((resolve) => setTimeout(resolve, 15));
    yield `long/${'x'.repeat(200)}-${String(i).padStart(7, '0')}.pdf`;
  }
}

/** The tester's per-run factory: the bucket comes from the event. */
export function createHandler(options: TesterHandlerOptions): TesterLambdaHandler {
  return async (event) => {
    const { bucket } = event as { bucket: string };
    const client = new S3Client({
      region: options.env.AWS_REGION ?? 'us-east-1',
      endpoint: options.env.S3_ENDPOINT_URL,
      forcePathStyle: true,
    });
    try {
      const result = await presignPipeline({
        source: arrayKeySource(slowKeys(), { bucket }),
        presigner: fastPresigner({ client }),
        manifest: s3ManifestWriter({ client, bucket, keyPrefix: 'manifests/', partSize: 5 * 1024 * 1024 }),
        reporters: options.reporters,
        signal: options.signal,
      });
      return { statusCode: 200, body: JSON.stringify({ count: result.count }) };
    } finally {
      client.destroy();
    }
  };
}
