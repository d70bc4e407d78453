import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cfnLint, loadTemplate } from './template.js';

const templateFile = fileURLToPath(new URL('../template.yaml', import.meta.url));

type Statement = { Sid: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

function statementsOf(resource: string): Statement[] {
  const policies = loadTemplate(templateFile).Resources[resource]!.Properties!.Policies as Array<{
    Statement?: Statement[];
  }>;
  return policies.flatMap((policy) => policy.Statement ?? []);
}

const actionsOf = (statements: Statement[]): string[] =>
  statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

describe('distributed-map SAM template', () => {
  it('passes cfn-lint (with the SAM translator)', async () => {
    const result = await cfnLint(templateFile);
    expect(result.output).toBe('');
    expect(result.exitCode).toBe(0);
  });

  it('runs both functions on arm64 with 1769 MB, bundled from src/ by esbuild', () => {
    const { Resources, Globals } = loadTemplate(templateFile) as ReturnType<typeof loadTemplate> & {
      Globals: { Function: Record<string, unknown> };
    };
    expect(Globals.Function).toMatchObject({
      Architectures: ['arm64'],
      MemorySize: 1769,
      Runtime: expect.stringMatching(/^nodejs2\d\.x$/),
    });
    expect(Resources.BatchFunction!.Properties).toMatchObject({
      Handler: 'batch.handler',
      Timeout: expect.any(Number),
    });
    expect(Resources.BatchFunction!.Metadata).toMatchObject({
      BuildMethod: 'esbuild',
      BuildProperties: { EntryPoints: ['src/batch.ts'] },
    });
    expect(Resources.IndexFunction!.Properties).toMatchObject({ Handler: 'index-manifest.handler' });
    expect(Resources.IndexFunction!.Metadata).toMatchObject({
      BuildMethod: 'esbuild',
      BuildProperties: { EntryPoints: ['src/index-manifest.ts'] },
    });
  });

  it('grants each function only what it does: the batch reads the prefix and writes parts, the index lists and writes manifests/', () => {
    const batch = statementsOf('BatchFunction');
    expect(new Set(actionsOf(batch))).toEqual(new Set(['s3:GetObject', 's3:PutObject']));
    expect(batch.find((s) => s.Action === 's3:GetObject')!.Resource).toEqual({
      'Fn::Sub': '${ReportsBucket.Arn}/${Prefix}*',
    });
    expect(batch.find((s) => s.Action === 's3:PutObject')!.Resource).toEqual({
      'Fn::Sub': '${ReportsBucket.Arn}/manifests/*',
    });

    const index = statementsOf('IndexFunction');
    expect(new Set(actionsOf(index))).toEqual(new Set(['s3:ListBucket', 's3:GetObject', 's3:PutObject']));
    expect(index.find((s) => s.Action === 's3:ListBucket')!.Condition).toEqual({
      StringLike: { 's3:prefix': 'manifests/*' },
    });
    for (const s of index.filter((s) => s.Action !== 's3:ListBucket'))
      expect(s.Resource).toEqual({ 'Fn::Sub': '${ReportsBucket.Arn}/manifests/*' });
  });

  it('lets the state machine list the prefix, invoke the two functions and run its own child executions, nothing more', () => {
    const machine = loadTemplate(templateFile).Resources.PresignStateMachine!;
    expect(machine.Type).toBe('AWS::Serverless::StateMachine');
    expect(machine.Properties).toMatchObject({ Type: 'STANDARD', DefinitionUri: 'statemachine/presign.asl.json' });
    const policies = machine.Properties!.Policies as Array<Record<string, unknown>>;
    expect(policies.filter((p) => 'LambdaInvokePolicy' in p).map((p) => p.LambdaInvokePolicy)).toEqual([
      { FunctionName: { Ref: 'BatchFunction' } },
      { FunctionName: { Ref: 'IndexFunction' } },
    ]);
    const statements = statementsOf('PresignStateMachine');
    expect(new Set(actionsOf(statements))).toEqual(
      new Set(['s3:ListBucket', 'states:StartExecution', 'states:DescribeExecution', 'states:StopExecution']),
    );
    expect(statements.find((s) => s.Action === 's3:ListBucket')!.Condition).toEqual({
      StringLike: { 's3:prefix': { 'Fn::Sub': '${Prefix}*' } },
    });
    expect(JSON.stringify(statements)).not.toContain('"*"');
  });

  it('gives the inventory state machine, when an inventory bucket is named, read access to that bucket only', () => {
    const machine = loadTemplate(templateFile).Resources.PresignInventoryStateMachine!;
    expect(machine).toMatchObject({
      Condition: 'HasInventory',
      Properties: { DefinitionUri: 'statemachine/presign-inventory.asl.json' },
    });
    const statements = statementsOf('PresignInventoryStateMachine');
    expect(new Set(actionsOf(statements))).toEqual(
      new Set(['s3:GetObject', 'states:StartExecution', 'states:DescribeExecution', 'states:StopExecution']),
    );
    expect(statements.find((s) => s.Action === 's3:GetObject')!.Resource).toEqual({
      'Fn::Sub': 'arn:${AWS::Partition}:s3:::${InventoryBucketName}/*',
    });
  });

  it('expires parts and indexes after a day and aborts incomplete multipart uploads', () => {
    const rules = (
      loadTemplate(templateFile).Resources.ReportsBucket!.Properties!.LifecycleConfiguration as { Rules: unknown[] }
    ).Rules;
    expect(rules).toContainEqual(
      expect.objectContaining({
        Status: 'Enabled',
        Prefix: 'manifests/',
        ExpirationInDays: 1,
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      }),
    );
  });
});
