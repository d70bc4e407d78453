import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cfnLint, loadTemplate } from './template.js';

const templateFile = fileURLToPath(new URL('../template.yaml', import.meta.url));

describe('sqs-batch SAM template', () => {
  it('passes cfn-lint (with the SAM translator)', async () => {
    const result = await cfnLint(templateFile);
    expect(result.output).toBe('');
    expect(result.exitCode).toBe(0);
  });

  it('reports partial batch failures from the queue, and redrives repeated failures to a dead-letter queue', () => {
    const { Resources } = loadTemplate(templateFile);
    const fn = Resources.PresignJobsFunction!;
    expect(fn.Properties).toMatchObject({ Handler: 'handler.handler', Architectures: ['arm64'] });
    const events = fn.Properties!.Events as Record<string, { Type: string; Properties: Record<string, unknown> }>;
    const sqs = Object.values(events).find((e) => e.Type === 'SQS')!;
    expect(sqs.Properties).toMatchObject({
      Queue: { 'Fn::GetAtt': ['JobsQueue', 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const queue = Resources.JobsQueue!.Properties!;
    expect(queue.RedrivePolicy).toMatchObject({
      deadLetterTargetArn: { 'Fn::GetAtt': ['JobsDeadLetterQueue', 'Arn'] },
    });
    // A message must stay invisible for longer than the function can run on it.
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * (fn.Properties!.Timeout as number));
  });
});
