// A small Step Functions interpreter for this example's definitions, so the handlers are driven by the very ASL that
// gets deployed: the S3 ItemReaders (ListObjectsV2, or an S3 Inventory's CSV manifest, against the test endpoint), the ItemBatcher (MaxItemsPerBatch,
// MaxInputBytesPerBatch, BatchInput), MaxConcurrency, ToleratedFailurePercentage, EXPRESS children with Retry, and
// lambda:invoke tasks. It covers the JSONPath subset the definition uses ($, $.a.b, $$.Execution.Name) and nothing
// more; anything else throws, so the definition cannot drift past what is tested.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** A failure with a Step Functions error name (`SlowDown`, `States.Runtime`, …). */
export class StatesError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** One item the s3:listObjectsV2 ItemReader produces. */
export interface S3ListItem {
  readonly Key: string;
  readonly Etag: string;
  readonly LastModified: number;
  readonly Size: number;
  readonly StorageClass: string;
}

/** One task attempt, as an execution history would show it. */
export interface TaskAttempt {
  readonly state: string;
  readonly functionName: string;
  readonly payload: unknown;
  readonly attempt: number;
  readonly error?: string;
  readonly output?: unknown;
}

/** How the driver reaches the outside world. */
export interface DriverOptions {
  /** Lists for the ItemReader. */
  readonly s3: S3Client;
  /** The Lambda functions, by the FunctionName the definition names (after substitution). */
  readonly lambdas: Readonly<Record<string, (payload: unknown) => Promise<unknown>>>;
  /** `$$.Execution.Name`. */
  readonly executionName: string;
  /** Retry intervals are IntervalSeconds × BackoffRate^n seconds, times this. Default 0.001 (tests do not wait). */
  readonly retryDelayScale?: number;
}

/** What an execution did. */
export interface ExecutionResult {
  readonly status: 'SUCCEEDED' | 'FAILED';
  /** The execution's output, when it succeeded. */
  readonly output?: unknown;
  /** Why it failed: the error's name is the Step Functions error (`States.ExceedToleratedFailureThreshold`, …). */
  readonly error?: Error;
  readonly attempts: readonly TaskAttempt[];
  /** The batches the Map handed to its children, in listing order. */
  readonly batches: readonly JsonObject[];
}

/** Reads a definition the way SAM deploys it: `${Name}` replaced by DefinitionSubstitutions, then parsed. */
export function loadDefinition(file: string, substitutions: Readonly<Record<string, string>>): JsonObject {
  const text = readFileSync(file, 'utf8').replace(/\$\{([A-Za-z0-9_]+)\}/g, (whole, name: string) => {
    const value = substitutions[name];
    if (value === undefined) throw new Error(`No substitution for ${whole}`);
    return value;
  });
  return JSON.parse(text) as JsonObject;
}

interface Scope {
  readonly input: Json;
  readonly context: JsonObject;
}

function resolvePath(path: string, scope: Scope): Json {
  let value: Json;
  let rest: string;
  if (path.startsWith('$$')) {
    value = scope.context;
    rest = path.slice(2);
  } else if (path.startsWith('$')) {
    value = scope.input;
    rest = path.slice(1);
  } else {
    throw new StatesError('States.Runtime', `Unsupported path ${path}`);
  }
  if (rest === '') return value;
  if (!/^(\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(rest)) throw new Error(`The driver does not support the path ${path}`);
  for (const name of rest.slice(1).split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !(name in value)) {
      throw new StatesError('States.Runtime', `The JSONPath ${path} could not be found in the input`);
    }
    value = (value as JsonObject)[name] as Json;
  }
  return value;
}

/** A payload template: fields ending in `.$` take the value of their path. */
function resolveTemplate(template: Json, scope: Scope): Json {
  if (template === null || typeof template !== 'object') return template;
  if (Array.isArray(template)) return template.map((item) => resolveTemplate(item, scope));
  const out: JsonObject = {};
  for (const [name, value] of Object.entries(template)) {
    if (name.endsWith('.$')) {
      if (typeof value !== 'string') throw new Error(`${name} must be a path string`);
      out[name.slice(0, -2)] = resolvePath(value, scope);
    } else {
      out[name] = resolveTemplate(value, scope);
    }
  }
  return out;
}

function applyOutputPath(state: JsonObject, result: Json, scope: Scope): Json {
  const outputPath = state.OutputPath;
  if (outputPath === undefined) return result;
  if (typeof outputPath !== 'string') throw new Error('OutputPath must be a string');
  return resolvePath(outputPath, { input: result, context: scope.context });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

class Interpreter {
  readonly attempts: TaskAttempt[] = [];
  readonly batches: JsonObject[] = [];

  constructor(private readonly options: DriverOptions) {}

  private get context(): JsonObject {
    return { Execution: { Name: this.options.executionName } };
  }

  async run(machine: JsonObject, input: Json): Promise<Json> {
    const states = machine.States as Record<string, JsonObject>;
    let name = machine.StartAt as string;
    let data = input;
    for (;;) {
      const state = states[name];
      if (state === undefined) throw new Error(`No state ${name}`);
      const scope: Scope = { input: data, context: this.context };
      if (state.Type === 'Task') data = await this.task(name, state, scope);
      else if (state.Type === 'Map') data = await this.map(state, scope);
      else throw new Error(`The driver does not run ${String(state.Type)} states`);
      if (state.End === true) return data;
      name = state.Next as string;
    }
  }

  private async task(name: string, state: JsonObject, scope: Scope): Promise<Json> {
    if (state.Resource !== 'arn:aws:states:::lambda:invoke')
      throw new Error(`The driver does not run ${String(state.Resource)}`);
    const parameters = resolveTemplate(state.Parameters as Json, scope) as JsonObject;
    const functionName = String(parameters.FunctionName);
    const lambda = this.options.lambdas[functionName];
    if (lambda === undefined) throw new Error(`No Lambda function ${functionName}`);
    const retriers = (state.Retry ?? []) as JsonObject[];
    const used = retriers.map(() => 0);
    for (let attempt = 1; ; attempt++) {
      // A Lambda payload crosses a JSON boundary both ways.
      const payload = JSON.parse(JSON.stringify(parameters.Payload ?? null)) as Json;
      try {
        const output = JSON.parse(JSON.stringify((await lambda(payload)) ?? null)) as Json;
        this.attempts.push({ state: name, functionName, payload, attempt, output });
        const result: JsonObject = { ExecutedVersion: '$LATEST', Payload: output, StatusCode: 200 };
        return applyOutputPath(state, result, scope);
      } catch (error) {
        const errorName = error instanceof Error ? error.name : 'Error';
        this.attempts.push({ state: name, functionName, payload, attempt, error: errorName });
        const index = retriers.findIndex((retrier) => {
          const names = retrier.ErrorEquals as string[];
          return names.includes(errorName) || names.includes('States.ALL') || names.includes('States.TaskFailed');
        });
        const retrier = retriers[index];
        if (retrier === undefined) throw error;
        const maxAttempts = typeof retrier.MaxAttempts === 'number' ? retrier.MaxAttempts : 3;
        if (used[index]! >= maxAttempts) throw error;
        const interval = typeof retrier.IntervalSeconds === 'number' ? retrier.IntervalSeconds : 1;
        const backoff = typeof retrier.BackoffRate === 'number' ? retrier.BackoffRate : 2;
        const maxDelay =
          typeof retrier.MaxDelaySeconds === 'number' ? retrier.MaxDelaySeconds : Number.POSITIVE_INFINITY;
        let delay = Math.min(interval * backoff ** used[index]!, maxDelay);
        if (retrier.JitterStrategy === 'FULL') delay *= Math.random();
        used[index]!++;
        await sleep(delay * 1000 * (this.options.retryDelayScale ?? 0.001));
      }
    }
  }

  private async readItems(state: JsonObject, scope: Scope): Promise<readonly JsonObject[]> {
    const reader = state.ItemReader as JsonObject | undefined;
    const parameters = resolveTemplate(reader?.Parameters as Json, scope) as JsonObject;
    if (reader?.Resource === 'arn:aws:states:::s3:listObjectsV2') {
      return (await listItems(
        this.options.s3,
        String(parameters.Bucket),
        String(parameters.Prefix ?? ''),
      )) as unknown as JsonObject[];
    }
    const config = reader?.ReaderConfig as JsonObject | undefined;
    if (reader?.Resource === 'arn:aws:states:::s3:getObject' && config?.InputType === 'MANIFEST') {
      return inventoryItems(this.options.s3, String(parameters.Bucket), String(parameters.Key));
    }
    throw new Error('The driver reads items with s3:listObjectsV2 or an S3 Inventory MANIFEST only');
  }

  private async map(state: JsonObject, scope: Scope): Promise<Json> {
    const processor = state.ItemProcessor as JsonObject;
    const config = processor.ProcessorConfig as JsonObject;
    if (config.Mode !== 'DISTRIBUTED') throw new Error('The driver runs distributed Map states only');
    const items = await this.readItems(state, scope);
    const batcher = state.ItemBatcher as JsonObject;
    const batchInput = resolveTemplate((batcher.BatchInput ?? {}) as Json, scope) as JsonObject;
    const maxItems = typeof batcher.MaxItemsPerBatch === 'number' ? batcher.MaxItemsPerBatch : Number.POSITIVE_INFINITY;
    const maxBytes = typeof batcher.MaxInputBytesPerBatch === 'number' ? batcher.MaxInputBytesPerBatch : 262_144;
    const batches = batchItems(items, batchInput, maxItems, maxBytes);
    this.batches.push(...batches);

    const concurrency =
      typeof state.MaxConcurrency === 'number' && state.MaxConcurrency > 0 ? state.MaxConcurrency : 10_000;
    const failures: unknown[] = [];
    const results: Json[] = new Array<Json>(batches.length).fill(null);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < batches.length) {
        const i = next++;
        try {
          // Each child is its own (EXPRESS) execution of the ItemProcessor, with the batch as its input.
          results[i] = await this.run(processor, batches[i] as Json);
        } catch (error) {
          failures.push(error);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, worker));

    const tolerated = typeof state.ToleratedFailurePercentage === 'number' ? state.ToleratedFailurePercentage : 0;
    if (batches.length > 0 && (failures.length * 100) / batches.length > tolerated) {
      const first = failures[0] instanceof Error ? `${failures[0].name}: ${failures[0].message}` : String(failures[0]);
      throw new StatesError(
        'States.ExceedToleratedFailureThreshold',
        `${failures.length} of ${batches.length} child executions failed; first: ${first}`,
      );
    }
    if (state.ResultPath === null) return scope.input;
    throw new Error('The driver supports a Map with "ResultPath": null only');
  }
}

/** Lists a prefix into items the way the s3:listObjectsV2 ItemReader does: every object, in key order, metadata only. */
export async function listItems(s3: S3Client, bucket: string, prefix: string): Promise<S3ListItem[]> {
  const items: S3ListItem[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        ...(token !== undefined ? { ContinuationToken: token } : {}),
      }),
    );
    for (const object of page.Contents ?? []) {
      items.push({
        Key: object.Key!,
        Etag: object.ETag ?? '',
        LastModified: Math.floor((object.LastModified?.getTime() ?? 0) / 1000),
        Size: object.Size ?? 0,
        StorageClass: object.StorageClass ?? 'STANDARD',
      });
    }
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return items;
}

/**
 * Reads an S3 Inventory the way the MANIFEST ItemReader does: manifest.json names CSV-gzip data files (in its
 * `destinationBucket`), whose rows become items named by `fileSchema`, every value a string, keys as the CSV stores
 * them (URL-encoded).
 */
export async function inventoryItems(s3: S3Client, bucket: string, key: string): Promise<JsonObject[]> {
  const manifest = JSON.parse(
    await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString(),
  ) as {
    destinationBucket: string;
    fileFormat: string;
    fileSchema: string;
    files: { key: string }[];
  };
  if (manifest.fileFormat !== 'CSV')
    throw new StatesError('States.ItemReaderFailed', `Only CSV inventories are read (got ${manifest.fileFormat})`);
  const columns = manifest.fileSchema.split(',').map((name) => name.trim());
  const dataBucket = manifest.destinationBucket.replace(/^arn:aws:s3:::/, '');
  const items: JsonObject[] = [];
  for (const file of manifest.files) {
    const body = await (
      await s3.send(new GetObjectCommand({ Bucket: dataBucket, Key: file.key }))
    ).Body!.transformToByteArray();
    for (const line of gunzipSync(body).toString('utf8').split('\n')) {
      if (line === '') continue;
      // Inventory CSV quotes every field; URL-encoded keys hold no quote or comma.
      const values = line.slice(1, -1).split('","');
      items.push(Object.fromEntries(columns.map((name, i) => [name, values[i] ?? ''])));
    }
  }
  return items;
}

/** Cuts items into batches of at most `maxItems` items and `maxBytes` bytes of child input, as ItemBatcher does. */
export function batchItems(
  items: readonly object[],
  batchInput: JsonObject,
  maxItems: number,
  maxBytes: number,
): JsonObject[] {
  const batches: JsonObject[] = [];
  const overhead = Buffer.byteLength(JSON.stringify({ Items: [], BatchInput: batchInput }));
  let current: object[] = [];
  let bytes = overhead;
  for (const item of items) {
    const size = Buffer.byteLength(JSON.stringify(item)) + 1;
    if (current.length > 0 && (current.length >= maxItems || bytes + size > maxBytes)) {
      batches.push({ Items: current as unknown as Json[], BatchInput: batchInput });
      current = [];
      bytes = overhead;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) batches.push({ Items: current as unknown as Json[], BatchInput: batchInput });
  return batches;
}

/** Runs a state machine definition to its end, as `StartExecution` would, and returns its output and history. */
export async function startExecution(
  definition: JsonObject,
  input: unknown,
  options: DriverOptions,
): Promise<ExecutionResult> {
  const interpreter = new Interpreter(options);
  try {
    const output = await interpreter.run(definition, JSON.parse(JSON.stringify(input)) as Json);
    return { status: 'SUCCEEDED', output, attempts: interpreter.attempts, batches: interpreter.batches };
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    return { status: 'FAILED', error: failure, attempts: interpreter.attempts, batches: interpreter.batches };
  }
}
