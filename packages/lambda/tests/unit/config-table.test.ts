import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  CONFIG_FIELDS,
  renderConfigTable,
  showValue,
  type ConfigFieldRow,
  type FieldExample,
} from '../../src/config-fields.js';
import { resolveConfig, type HandlerEnv } from '../../src/config.js';
import { createPresignHandler } from '../../src/handler.js';
import { countingS3Client } from '../helpers/capture.js';
import { memoryS3Client } from '../helpers/memory-s3.js';

const DOC = join(import.meta.dirname, '../../../../docs/handler.md');
const START = '<!-- config-table:start (rendered from packages/lambda/src/config-fields.ts) -->';
const END = '<!-- config-table:end -->';

const context = (): Context =>
  ({ awsRequestId: 'table', getRemainingTimeInMillis: () => 600_000, functionName: 'unit' }) as unknown as Context;

function inputsOf(row: ConfigFieldRow, example: FieldExample): { event: Record<string, unknown>; env: HandlerEnv } {
  const inEvent = row.event === example.name;
  if (!inEvent && !(row.env ?? []).includes(example.name))
    throw new Error(`example ${example.name} is not a name of its row`);
  return {
    event: { ...(example.withEvent ?? {}), ...(inEvent ? { [example.name]: example.value } : {}) },
    env: { ...(example.with ?? {}), ...(inEvent ? {} : { [example.name]: example.value as string }) },
  };
}

const cases = CONFIG_FIELDS.flatMap((row) =>
  row.examples.map((example) => [`${example.name}=${showValue(example.value)}`, row, example] as const),
);

describe('docs/handler.md configuration table', () => {
  it('is the table rendered from the field definitions, row for row', () => {
    const text = readFileSync(DOC, 'utf8');
    const start = text.indexOf(START);
    const end = text.indexOf(END);
    expect(start, `docs/handler.md lacks the marker ${START}`).toBeGreaterThan(-1);
    expect(text.slice(start + START.length, end).trim(), 'regenerate the table with renderConfigTable()').toBe(
      renderConfigTable(),
    );
  });

  it('has a row for every event field and variable the code reads', () => {
    const names = CONFIG_FIELDS.flatMap((row) => [...(row.event !== undefined ? [row.event] : []), ...(row.env ?? [])]);
    const sources = ['config.ts', 'access.ts', 'idempotency.ts', 'handler.ts', 'listing.ts', 'inventory.ts']
      .map((file) => readFileSync(join(import.meta.dirname, '../../src', file), 'utf8'))
      .join('\n');
    const read = new Set([...sources.matchAll(/env(?:\?)?\.([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]!));
    for (const name of ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_LAMBDA_FUNCTION_NAME']) read.delete(name);
    for (const name of read) expect(names, `${name} is read but not documented`).toContain(name);
    for (const name of [
      'bucket',
      'prefix',
      'expiry_seconds',
      'page_size',
      'concurrency',
      'start_after',
      'inventory_manifest',
      'list_concurrency',
      'resume_token',
      'modified_after',
      'modified_before',
    ])
      expect(names).toContain(name);
  });

  it.each(cases)('%s: the handler does what the row says', async (_name, row, example) => {
    const { event, env } = inputsOf(row, example);
    if ('refused' in example) {
      const s3 = countingS3Client();
      const handler = createPresignHandler({ s3Client: s3.client, write: () => {}, env });
      const response = await handler(event, context());
      expect(response.statusCode).toBe(example.refused);
      expect(JSON.parse(response.body)).toMatchObject({ field: example.field ?? example.name });
      expect(s3.calls()).toBe(0);
      return;
    }
    if (row.property !== undefined) {
      const resolved = resolveConfig(event, env);
      expect(resolved.ok).toBe(true);
      if (resolved.ok) expect(resolved.config[row.property]).toEqual(example.to);
    }
    const s3 = memoryS3Client({ keys: ['2026/04/a.pdf', 'reports/b.pdf'] });
    const handler = createPresignHandler({ s3Client: s3.client, write: () => {}, env });
    const response = await handler(event, context());
    expect(response.statusCode, response.body).toBe(200);
  });
});
