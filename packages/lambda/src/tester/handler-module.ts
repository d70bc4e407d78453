import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Reporter } from '@presign-pipeline/core';
import type { Context } from 'aws-lambda';
import { createPresignHandler, DEFAULT_FUNCTION_NAME } from '../handler.js';

/** A Lambda handler as the tester calls it. */
export type TesterLambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

/** What the tester hands a module's `createHandler` for one run. */
export interface TesterHandlerOptions {
  /** The environment of this run: the process's, with the page's overrides on top. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where to print log lines and EMF documents (one JSON object per call, without newline). */
  readonly write: (line: string) => void;
  /** Reporters for a handler built on `presignPipeline`: they turn its typed events into live progress. */
  readonly reporters: readonly Reporter[];
  /** For a handler that does not use the pipeline: report progress directly (absolute values, any subset). */
  readonly onProgress: (update: { pages?: number; keysListed?: number; presigned?: number; bytes?: number }) => void;
  /** Aborted when the page's Cancel is pressed: the handler stops and leaves nothing behind. */
  readonly signal: AbortSignal;
}

/**
 * A module the tester can load into a side: it exports a Lambda `handler`, and may export `createHandler`, which the
 * tester prefers: it builds a handler for one run with that run's environment, progress hooks and abort signal.
 */
export interface TesterHandlerModule {
  /** The Lambda handler, as deployed. */
  readonly handler?: TesterLambdaHandler;
  /** Builds a handler for one run (progress, cancel and environment overrides work only through it). */
  readonly createHandler?: (options: TesterHandlerOptions) => TesterLambdaHandler;
}

/** One side of the tester: a label and the module it runs. */
export interface TesterSide {
  /** What the page calls it. */
  readonly label: string;
  /** The loaded module. */
  readonly module: TesterHandlerModule;
  /** The stub context's function name. */
  readonly functionName: string;
}

/** The documented handler of this package, with progress, cancel and per-run environment. */
export function documentedSide(): TesterSide {
  return {
    label: 'documented (sign_pdfs_optimized)',
    functionName: DEFAULT_FUNCTION_NAME,
    module: {
      createHandler: (options) =>
        createPresignHandler({
          env: options.env,
          write: options.write,
          reporters: options.reporters,
          signal: options.signal,
        }) as TesterLambdaHandler,
    },
  };
}

function isFunction(value: unknown): value is (...args: never[]) => unknown {
  return typeof value === 'function';
}

/** Checks that a loaded module exports what the tester calls, naming what is missing. */
export function asHandlerModule(spec: string, loaded: Record<string, unknown>): TesterHandlerModule {
  const source =
    isFunction(loaded.handler) || isFunction(loaded.createHandler)
      ? loaded
      : (loaded.default as Record<string, unknown> | undefined);
  const handler = source?.handler;
  const createHandler = source?.createHandler;
  if (!isFunction(handler) && !isFunction(createHandler)) {
    throw new TypeError(`${spec} exports neither a handler function nor createHandler`);
  }
  return {
    ...(isFunction(handler) ? { handler: handler as TesterLambdaHandler } : {}),
    ...(isFunction(createHandler) ? { createHandler: createHandler as TesterHandlerModule['createHandler'] } : {}),
  };
}

/** Loads a side from `documented` or a path to a JavaScript module (relative to `cwd`). */
export async function loadSide(spec: string, cwd: string = process.cwd()): Promise<TesterSide> {
  if (spec === 'documented') return documentedSide();
  const path = resolve(cwd, spec);
  const loaded = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  const module = asHandlerModule(spec, loaded);
  const functionName =
    typeof loaded.functionName === 'string' && loaded.functionName !== '' ? loaded.functionName : 'presign-local';
  return { label: typeof loaded.label === 'string' && loaded.label !== '' ? loaded.label : spec, module, functionName };
}
