// The baseline: a handler that presigns with nothing but the AWS SDK (getSignedUrl), as a user would write it.
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

const client = new S3Client({});

export const handler = async (event) => ({
  statusCode: 200,
  body: JSON.stringify({
    url: await getSignedUrl(client, new GetObjectCommand({ Bucket: event.bucket, Key: event.key }), {
      expiresIn: 3600,
    }),
  }),
});
