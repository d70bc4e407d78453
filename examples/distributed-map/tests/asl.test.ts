import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadTemplate } from './template.js';

interface AslValidation {
  readonly isValid: boolean;
  readonly errors: readonly unknown[];
  errorsText(separator?: string): string;
}
// asl-validator is CommonJS without type declarations: its module.exports is the validating function.
const validate = createRequire(import.meta.url)('asl-validator') as (definition: unknown) => AslValidation;

const definitionFile = fileURLToPath(new URL('../statemachine/presign.asl.json', import.meta.url));
const templateFile = fileURLToPath(new URL('../template.yaml', import.meta.url));
const source = readFileSync(definitionFile, 'utf8');

type State = Record<string, unknown>;
const definition = JSON.parse(source) as { StartAt: string; States: Record<string, State> };
const map = definition.States.PresignBatches!;
const processor = map.ItemProcessor as {
  ProcessorConfig: Record<string, unknown>;
  StartAt: string;
  States: Record<string, State>;
};
const batchTask = processor.States.PresignBatch!;
const indexTask = definition.States.WriteIndex!;

type Retrier = { ErrorEquals: string[]; JitterStrategy?: string; MaxAttempts?: number };

describe('statemachine/presign.asl.json', () => {
  it('passes asl-validator (the JS API)', () => {
    const result = validate(JSON.parse(source));
    expect(result.errorsText()).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('passes the asl-validator CLI, the way `pnpm lint:asl` runs it', async () => {
    // The package's "bin" entry, run with this Node (no shell, no PATH lookup).
    const bin = createRequire(import.meta.url).resolve('asl-validator/dist/bin/asl-validator.js');
    const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(process.execPath, [bin, '--json-path', definitionFile], { timeout: 60_000 }, (error, stdout, stderr) =>
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1,
          output: `${stdout}${stderr}`,
        }),
      );
    });
    expect(output).toContain('is valid');
    expect(code).toBe(0);
  });

  it('is really checked: the validator refuses a broken copy', () => {
    const broken = JSON.parse(source) as typeof definition;
    delete (broken.States.PresignBatches as State).ItemProcessor;
    (broken.States.WriteIndex as State).Next = 'Nowhere';
    const result = validate(broken);
    expect(result.isValid).toBe(false);
    expect(result.errors.length).toBeGreaterThan(0);
  });

  it('lists with the S3 ItemReader and batches 1000 keys per EXPRESS child, with the run, bucket and expiry', () => {
    expect(definition.StartAt).toBe('PresignBatches');
    expect(map.Type).toBe('Map');
    expect(map.ItemReader).toEqual({
      Resource: 'arn:aws:states:::s3:listObjectsV2',
      Parameters: { Bucket: '${ReportsBucketName}', 'Prefix.$': '$.prefix' },
    });
    expect(map.ItemBatcher).toEqual({
      MaxItemsPerBatch: 1000,
      MaxInputBytesPerBatch: 262144,
      BatchInput: {
        bucket: '${ReportsBucketName}',
        'run.$': '$$.Execution.Name',
        'expiry_seconds.$': '$.expiry_seconds',
      },
    });
    expect(processor.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' });
    expect(map.ToleratedFailurePercentage).toBe(0);
    expect(map.MaxConcurrency).toEqual(expect.any(Number));
    expect(map.MaxConcurrency as number).toBeGreaterThan(0);
    // The children's answers are dropped: a Map of 10,000 children would exceed the 256 KiB state payload.
    expect(map.ResultPath).toBeNull();
    expect(map.Next).toBe('WriteIndex');
    expect(indexTask.End).toBe(true);
  });

  it('retries Lambda service errors and S3 throttling with jitter, and never what a retry cannot fix', () => {
    for (const task of [batchTask, indexTask]) {
      expect(task.Resource).toBe('arn:aws:states:::lambda:invoke');
      const retriers = task.Retry as Retrier[];
      const names = retriers.flatMap((r) => r.ErrorEquals);
      expect(names).toEqual(
        expect.arrayContaining([
          'Lambda.ServiceException',
          'Lambda.TooManyRequestsException',
          'SlowDown',
          'InternalError',
        ]),
      );
      for (const refused of [
        'InvalidBatchInput',
        'ForbiddenBatchInput',
        'AccessDenied',
        'NoSuchBucket',
        'States.ALL',
        'States.TaskFailed',
      ]) {
        expect(names).not.toContain(refused);
      }
      expect(retriers.every((r) => r.JitterStrategy === 'FULL' && (r.MaxAttempts ?? 3) >= 3)).toBe(true);
    }
    expect(batchTask.Parameters).toEqual({ FunctionName: '${BatchFunctionArn}', 'Payload.$': '$' });
    expect(indexTask.Parameters).toEqual({
      FunctionName: '${IndexFunctionArn}',
      Payload: { bucket: '${ReportsBucketName}', 'run.$': '$$.Execution.Name', 'expiry_seconds.$': '$.expiry_seconds' },
    });
  });

  it('uses exactly the substitutions template.yaml provides', () => {
    const placeholders = new Set([...source.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]));
    const machine = loadTemplate(templateFile).Resources.PresignStateMachine!;
    expect(machine.Properties?.DefinitionUri).toBe('statemachine/presign.asl.json');
    expect(new Set(Object.keys(machine.Properties?.DefinitionSubstitutions as object))).toEqual(placeholders);
  });
});

describe('statemachine/presign-inventory.asl.json', () => {
  const inventorySource = readFileSync(
    fileURLToPath(new URL('../statemachine/presign-inventory.asl.json', import.meta.url)),
    'utf8',
  );
  const inventory = JSON.parse(inventorySource) as typeof definition;

  it('passes asl-validator', () => {
    const result = validate(JSON.parse(inventorySource));
    expect(result.errorsText()).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('reads the S3 Inventory manifest named by the input, and is otherwise the listing definition', () => {
    expect(inventory.States.PresignBatches!.ItemReader).toEqual({
      Resource: 'arn:aws:states:::s3:getObject',
      ReaderConfig: { InputType: 'MANIFEST' },
      Parameters: { 'Bucket.$': '$.manifest_bucket', 'Key.$': '$.manifest_key' },
    });
    const strip = (d: typeof definition) => {
      const copy = JSON.parse(JSON.stringify(d)) as typeof definition & { Comment?: string };
      delete copy.Comment;
      delete (copy.States.PresignBatches as State).ItemReader;
      delete (copy.States.PresignBatches as State).Comment;
      return copy;
    };
    expect(strip(inventory)).toEqual(strip(definition));
  });
});
