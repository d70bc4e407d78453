// Test helpers for the SAM template: run cfn-lint on it and read it as plain data.
// Each example carries its own copy of this file so it can be copied on its own.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse, type Tags } from 'yaml';

/** What one cfn-lint run printed and how it exited. */
export interface CfnLintResult {
  /** 0 when the template is clean; 2 errors, 4 warnings, 8 informational findings (bits, OR-ed). */
  readonly exitCode: number;
  /** The findings, one block per finding. */
  readonly output: string;
}

/**
 * Runs `cfn-lint <file>` (it includes the SAM translator, so `Transform: AWS::Serverless-2016-10-31`
 * templates are checked after translation). Rejects when cfn-lint is not installed (`pip install cfn-lint`).
 */
export function cfnLint(file: string, timeoutMs = 120_000): Promise<CfnLintResult> {
  return new Promise((resolve, reject) => {
    execFile('cfn-lint', [file], { timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`.trim();
      if (error === null) return resolve({ exitCode: 0, output });
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return reject(new Error('cfn-lint is not on PATH: install it with `pip install cfn-lint`'));
      }
      if (error.killed) return reject(new Error(`cfn-lint did not finish within ${timeoutMs} ms`));
      resolve({ exitCode: typeof error.code === 'number' ? error.code : 1, output });
    });
  });
}

// CloudFormation's short-form intrinsics (!Ref, !Sub, !GetAtt …) read as their long forms.
const intrinsic = (tag: string, name: string, split?: (value: string) => unknown): Tags[number][] => [
  { tag: `!${tag}`, resolve: (value: string) => ({ [name]: split ? split(value) : value }) },
  {
    tag: `!${tag}`,
    collection: 'seq',
    resolve: (value: unknown) => ({ [name]: (value as { toJSON(): unknown }).toJSON() }),
  },
];
const customTags: Tags = [
  ...intrinsic('Ref', 'Ref'),
  ...intrinsic('Sub', 'Fn::Sub'),
  ...intrinsic('GetAtt', 'Fn::GetAtt', (value) => value.split('.')),
  ...intrinsic('Join', 'Fn::Join'),
  ...intrinsic('Select', 'Fn::Select'),
  ...intrinsic('If', 'Fn::If'),
  ...intrinsic('Equals', 'Fn::Equals'),
];

/** A template's resources, by logical id. */
export type Resources = Record<
  string,
  { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }
>;

/** Reads a CloudFormation/SAM YAML template into plain objects. */
export function loadTemplate(file: string): { Resources: Resources; [section: string]: unknown } {
  return parse(readFileSync(file, 'utf8'), { customTags }) as { Resources: Resources };
}
