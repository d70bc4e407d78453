import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cfnLint, loadTemplate } from './template.js';

const templateFile = fileURLToPath(new URL('../template.yaml', import.meta.url));

type Statement = { Sid: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

describe('sign-pdfs SAM template', () => {
  it('passes cfn-lint (with the SAM translator)', async () => {
    const result = await cfnLint(templateFile);
    expect(result.output).toBe('');
    expect(result.exitCode).toBe(0);
  });

  it('deploys the documented handler on arm64 with the environment it reads', () => {
    const { Resources } = loadTemplate(templateFile);
    const fn = Resources.SignPdfsFunction!;
    expect(fn.Type).toBe('AWS::Serverless::Function');
    expect(fn.Properties).toMatchObject({
      Handler: 'handler.handler',
      Architectures: ['arm64'],
      Runtime: expect.stringMatching(/^nodejs\d+\.x$/),
    });
    expect(fn.Metadata).toMatchObject({ BuildMethod: 'esbuild', BuildProperties: { EntryPoints: ['src/handler.ts'] } });
    const variables = (fn.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(Object.keys(variables)).toEqual(
      expect.arrayContaining(['BUCKET_NAME', 'PREFIX', 'URL_EXPIRY_SECONDS', 'ALLOWED_BUCKETS']),
    );
  });

  it('grants list on the prefix only, read on the prefix and write on manifests/ only', () => {
    const { Resources } = loadTemplate(templateFile);
    const policies = Resources.SignPdfsFunction!.Properties!.Policies as Array<{ Statement: Statement[] }>;
    const statements = policies.flatMap((policy) => policy.Statement);
    const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    // Nothing broader than these, and no wildcard action.
    expect(new Set(actions)).toEqual(
      new Set([
        's3:ListBucket',
        's3:GetObject',
        's3:PutObject',
        's3:AbortMultipartUpload',
        's3:DeleteObject',
        's3:ListBucketMultipartUploads',
      ]),
    );
    const list = statements.find((s) => s.Action === 's3:ListBucket')!;
    expect(list.Condition).toEqual({ StringLike: { 's3:prefix': { 'Fn::Sub': '${Prefix}*' } } });
    const read = statements.find((s) => s.Action === 's3:GetObject')!;
    expect(read.Resource).toEqual({ 'Fn::Sub': '${ReportsBucket.Arn}/${Prefix}*' });
    for (const s of statements.filter((s) => Array.isArray(s.Action) && s.Action.includes('s3:PutObject'))) {
      expect(s.Resource).toEqual({ 'Fn::Sub': '${ReportsBucket.Arn}/manifests/*' });
    }
  });

  it('expires manifests after a day and aborts incomplete multipart uploads', () => {
    const { Resources } = loadTemplate(templateFile);
    const rules = (Resources.ReportsBucket!.Properties!.LifecycleConfiguration as { Rules: unknown[] }).Rules;
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
