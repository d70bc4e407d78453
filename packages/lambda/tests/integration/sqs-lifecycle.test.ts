import { GetBucketLifecycleConfigurationCommand, PutBucketLifecycleConfigurationCommand } from '@aws-sdk/client-s3';
import { useS3Endpoint } from '@presign-pipeline/minio-testing/vitest';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureManifestLifecycle, MANIFEST_LIFECYCLE_RULE_ID } from '../../src/lifecycle.js';
import { createSqsHandler } from '../../src/sqs.js';
import { lineSink, readCaptured } from '../helpers/capture.js';
import type { Reporter } from '@presign-pipeline/core';
import { lambdaContext, listKeys, seedReports, uniqueBucket } from '../helpers/integration.js';

const endpoint = useS3Endpoint();
const bucket = uniqueBucket('sqs');
const prefix = 'batch/';

beforeAll(async () => {
  await seedReports(endpoint, bucket, prefix, 9, 1);
}, 60_000);
afterAll(() => endpoint.stop());

function sqsEvent(bodies: Array<[string, string]>, groupId?: string): SQSEvent {
  return {
    Records: bodies.map(([messageId, body]) => ({
      messageId,
      receiptHandle: `rh-${messageId}`,
      body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: '0',
        SenderId: 'test',
        ApproximateFirstReceiveTimestamp: '0',
        ...(groupId !== undefined ? { MessageGroupId: groupId, MessageDeduplicationId: messageId } : {}),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:jobs',
      awsRegion: 'us-east-1',
    })),
  };
}

function sqsHandler(extra: Parameters<typeof createSqsHandler>[0] = {}) {
  const sink = lineSink();
  const handler = createSqsHandler({
    write: sink.write,
    clientConfig: { region: endpoint.region, credentials: endpoint.credentials, maxAttempts: 1 },
    env: { S3_ENDPOINT_URL: endpoint.endpoint },
    ...extra,
  });
  return { handler, sink };
}

describe('createSqsHandler against the S3 endpoint', () => {
  it('names only the failed messages: a missing bucket, a bad body and a refused event fail, good jobs succeed', async () => {
    const { handler, sink } = sqsHandler();
    const before = (await listKeys(endpoint.client, bucket, 'manifests/')).length;
    const response = await handler(
      sqsEvent([
        ['ok-1', JSON.stringify({ bucket, prefix })],
        ['missing', JSON.stringify({ bucket: uniqueBucket('gone'), prefix })],
        ['garbage', '{"bucket": '],
        ['refused', JSON.stringify({ bucket, prefix, concurrency: 999 })],
        ['ok-2', JSON.stringify({ bucket, prefix, expiry_seconds: 60 })],
      ]),
      lambdaContext('batch-1'),
    );
    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: 'missing' }, { itemIdentifier: 'garbage' }, { itemIdentifier: 'refused' }],
    });
    // The two good jobs each wrote a complete manifest.
    const manifests = (await listKeys(endpoint.client, bucket, 'manifests/')).length;
    expect(manifests - before).toBe(2);

    const { logs, documents } = readCaptured(sink.lines);
    const completes = logs.filter((line) => line.event === 'complete');
    expect(completes.map((line) => [line.request_id, line.count])).toEqual([
      ['ok-1', 9],
      ['ok-2', 9],
    ]);
    expect(logs.find((line) => line.event === 'error')).toMatchObject({
      request_id: 'missing',
      error_name: 'NoSuchBucket',
    });
    expect(logs.find((line) => line.event === 'invalid_request' && line.request_id === 'garbage')).toMatchObject({
      field: 'body',
    });
    expect(logs.find((line) => line.event === 'invalid_request' && line.request_id === 'refused')).toMatchObject({
      field: 'concurrency',
    });
    // One EMF document per job that ran or was refused (not for an unparseable body).
    expect(documents).toHaveLength(4);
  });

  it('returns every message when the whole batch fails, instead of throwing', async () => {
    const { handler } = sqsHandler();
    const response = await handler(
      sqsEvent([
        ['a', 'nope'],
        ['b', JSON.stringify({ bucket: uniqueBucket('gone') })],
      ]),
      lambdaContext('batch-2'),
    );
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['a', 'b']);
  });

  it('returns no failures for a good batch, running at most recordConcurrency jobs at once', async () => {
    const jobs = sqsEvent([
      ['j1', JSON.stringify({ bucket, prefix })],
      ['j2', JSON.stringify({ bucket, prefix, page_size: 2 })],
      ['j3', JSON.stringify({ bucket, prefix: 'nothing/' })],
      ['j4', JSON.stringify({ bucket, prefix, concurrency: 1 })],
    ]);
    for (const [recordConcurrency, expected] of [
      [1, 1],
      [2, 2],
    ] as const) {
      let active = 0;
      let most = 0;
      const gauge: Reporter = {
        subscribe(events) {
          events.on('pipeline-started', () => {
            active++;
            most = Math.max(most, active);
          });
          const done = (): void => {
            active--;
          };
          events.on('pipeline-completed', done);
          events.on('pipeline-failed', done);
        },
      };
      const { handler } = sqsHandler({ recordConcurrency, reporters: [gauge] });
      const response = await handler(jobs, lambdaContext(`batch-c${recordConcurrency}`));
      expect(response).toEqual({ batchItemFailures: [] });
      expect(most).toBe(expected);
    }
  });

  it('on a FIFO queue, fails only the failed message group from the failure on, and says why a message went unrun', async () => {
    const { handler, sink } = sqsHandler();
    const event = sqsEvent([
      ['g1-a', JSON.stringify({ bucket, prefix })],
      ['g1-b', 'broken'],
      ['g1-c', JSON.stringify({ bucket, prefix })],
    ]);
    event.Records[0]!.attributes.MessageGroupId = 'g1';
    event.Records[1]!.attributes.MessageGroupId = 'g1';
    event.Records[2]!.attributes.MessageGroupId = 'g1';
    const other = sqsEvent([['g2-a', JSON.stringify({ bucket, prefix })]], 'g2');
    const response = await handler({ Records: [...event.Records, ...other.Records] }, lambdaContext('fifo'));
    // Order within g1 is kept: the message after the failure is not run and is returned too; g2 goes on.
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['g1-b', 'g1-c']);
    const skipped = readCaptured(sink.lines).logs.filter((line) => line.event === 'message_skipped');
    expect(skipped).toEqual([expect.objectContaining({ request_id: 'g1-c', reason: expect.stringMatching(/FIFO/) })]);
  });
});

describe('ensureManifestLifecycle against the S3 endpoint', () => {
  it('adds its rule to a bucket without lifecycle configuration', async () => {
    const fresh = uniqueBucket('lc-fresh');
    await endpoint.createBucket(fresh);
    const result = await ensureManifestLifecycle({ client: endpoint.client, bucket: fresh });
    expect(result.changed).toBe(true);
    const stored = await endpoint.client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: fresh }));
    expect(stored.Rules).toHaveLength(1);
    expect(stored.Rules?.[0]).toMatchObject({
      ID: MANIFEST_LIFECYCLE_RULE_ID,
      Status: 'Enabled',
      Filter: { Prefix: 'manifests/' },
      Expiration: { Days: 1 },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
    });
  });

  it('keeps the bucket existing rules, is idempotent, and replaces only its own rule', async () => {
    const shared = uniqueBucket('lc-shared');
    await endpoint.createBucket(shared);
    await endpoint.client.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: shared,
        LifecycleConfiguration: {
          Rules: [
            { ID: 'expire-logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 30 } },
            { ID: 'tmp-cleanup', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 2 } },
          ],
        },
      }),
    );
    const first = await ensureManifestLifecycle({
      client: endpoint.client,
      bucket: shared,
      prefix: 'out/manifests/',
      days: 2,
    });
    expect(first.changed).toBe(true);
    const again = await ensureManifestLifecycle({
      client: endpoint.client,
      bucket: shared,
      prefix: 'out/manifests/',
      days: 2,
    });
    expect(again.changed).toBe(false);

    const read = async () =>
      (await endpoint.client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: shared }))).Rules ?? [];
    let rules = await read();
    expect(rules.map((rule) => rule.ID).sort()).toEqual(
      ['expire-logs', MANIFEST_LIFECYCLE_RULE_ID, 'tmp-cleanup'].sort(),
    );
    expect(rules.find((rule) => rule.ID === 'expire-logs')).toMatchObject({
      Filter: { Prefix: 'logs/' },
      Expiration: { Days: 30 },
    });

    const changed = await ensureManifestLifecycle({
      client: endpoint.client,
      bucket: shared,
      prefix: 'out/manifests/',
      days: 5,
    });
    expect(changed.changed).toBe(true);
    rules = await read();
    expect(rules).toHaveLength(3);
    expect(rules.find((rule) => rule.ID === MANIFEST_LIFECYCLE_RULE_ID)).toMatchObject({
      Filter: { Prefix: 'out/manifests/' },
      Expiration: { Days: 5 },
    });
    expect(rules.find((rule) => rule.ID === 'tmp-cleanup')).toMatchObject({ Expiration: { Days: 2 } });
  });

  it('fails with S3 own error for a missing bucket', async () => {
    await expect(
      ensureManifestLifecycle({ client: endpoint.client, bucket: uniqueBucket('lc-none') }),
    ).rejects.toMatchObject({
      name: 'NoSuchBucket',
    });
  });
});
