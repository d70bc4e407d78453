import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cfnLint, loadTemplate } from './template.js';

const templateFile = fileURLToPath(new URL('../template.yaml', import.meta.url));

describe('idempotent SAM template', () => {
  it('passes cfn-lint (with the SAM translator)', async () => {
    const result = await cfnLint(templateFile);
    expect(result.output).toBe('');
    expect(result.exitCode).toBe(0);
  });

  it('declares the table Powertools expects (hash key id, TTL on expiration) and names it to the function', () => {
    const { Resources } = loadTemplate(templateFile);
    expect(Resources.IdempotencyTable!.Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
    });
    const fn = Resources.PresignFunction!.Properties!;
    expect(fn).toMatchObject({
      Architectures: ['arm64'],
      Environment: { Variables: { IDEMPOTENCY_TABLE: { Ref: 'IdempotencyTable' } } },
    });
  });

  it('lets the function use its records and nothing else of DynamoDB', () => {
    const { Resources } = loadTemplate(templateFile);
    const statements = (
      Resources.PresignFunction!.Properties!.Policies as Array<{
        Statement: Array<{ Action: string | string[]; Resource: unknown }>;
      }>
    ).flatMap((policy) => policy.Statement);
    const dynamoStatements = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('dynamodb:')));
    expect(dynamoStatements).toEqual([
      expect.objectContaining({
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        Resource: { 'Fn::GetAtt': ['IdempotencyTable', 'Arn'] },
      }),
    ]);
  });
});
