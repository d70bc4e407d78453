import type { Reporter } from '@presign-pipeline/core';
import { emfReporter, type EmfReporter } from '@presign-pipeline/emf';
import type { AccessPolicy } from './access.js';
import { createClientCache, type ClientSet } from './clients.js';
import {
  manifestEncryptionProblem,
  MIN_DEADLINE_MARGIN_MS,
  type HandlerEnv,
  type ManifestEncryption,
  type RequestRejection,
  type ResolveConfigOptions,
} from './config.js';
import type { PresignHandlerOptions } from './handler-types.js';
import { checkIdempotencyOption, type IdempotencyOptions, type IdempotencyStore } from './idempotency.js';
import { messageOf, optionRangeError, optionTypeError } from '@presign-pipeline/core/internal';

/** The reference handler's CloudWatch namespace. */
export const DEFAULT_NAMESPACE = 'eth/sign_pdfs_optimized';
/** The reference handler's `Function` dimension value. */
export const DEFAULT_FUNCTION_NAME = 'sign_pdfs_optimized';

const OWNER = 'createPresignHandler';

/**
 * The handler's options, checked once when it is created and with their defaults filled in: what every invocation
 * of one handler shares. @internal
 */
export interface HandlerSettings {
  /** The `Function` dimension, and the idempotency key prefix when `AWS_LAMBDA_FUNCTION_NAME` is unset. */
  readonly functionName: string;
  /** Keys kept end with this, case-insensitively. */
  readonly suffix: string;
  /** Where manifests are written in the listed bucket. */
  readonly manifestPrefix: string;
  /** Where log lines and EMF documents go. */
  readonly write: (line: string) => void;
  /** What `resolveConfig` takes from the options. */
  readonly configOptions: ResolveConfigOptions;
  /** The allow-lists given as options (the environment fills in the others per invocation). */
  readonly accessOptions: AccessPolicy;
  /** The `onExpiryCapped` option; undefined reads `ON_EXPIRY_CAPPED` per invocation. */
  readonly onExpiryCapped: 'warn' | 'refuse' | undefined;
  /** The `idempotency` option. */
  readonly idempotency: IdempotencyOptions | false | undefined;
  /** Where jobs are deduplicated, when given. */
  readonly idempotencyStore: IdempotencyStore | undefined;
  /** The caller's own reporters, subscribed to every run. */
  readonly reporters: readonly Reporter[];
  /** Aborts the runs, when given. */
  readonly signal: AbortSignal | undefined;
  /** The environment, read on every invocation. */
  env(): HandlerEnv;
  /** The clients for an endpoint configuration, built once and reused while warm. */
  clientsFor(env: HandlerEnv, endpoint?: string, publicEndpoint?: string): ClientSet;
  /** A fresh EMF reporter: one per invocation. */
  newMetrics(): EmfReporter;
}

const defaultWrite = (line: string): void => {
  // Looked up on every call so a local runner can capture stdout around one invocation.
  process.stdout.write(`${line}\n`);
};

/** Checks the handler's options (each error names the option) and fills in the defaults. @internal */
export function resolveHandlerSettings(options: PresignHandlerOptions = {}): HandlerSettings {
  if (options === null || typeof options !== 'object') throw optionTypeError(`${OWNER}: options must be an object`);
  const namespace = options.namespace ?? DEFAULT_NAMESPACE;
  const named = checkNamedOptions(options);
  checkPresignerOption(options.presigner);
  const onExpiryCapped = checkExpiryOption(options.onExpiryCapped);
  const configOptions = checkConfigOptions(options);
  const newMetrics = metricsFactory(namespace, named.functionName, named.write);
  // Fails at cold start, not on the first invocation, when the namespace or function name is unusable.
  newMetrics();
  const env = options.env;
  const clientsFor = createClientCache({
    ...(options.s3Client !== undefined ? { s3Client: options.s3Client } : {}),
    ...(options.clientConfig !== undefined ? { clientConfig: options.clientConfig } : {}),
    ...(options.presigner !== undefined ? { presigner: options.presigner } : {}),
  });
  return {
    ...named,
    configOptions,
    accessOptions: accessOptionsOf(options),
    onExpiryCapped,
    idempotency: checkIdempotencyOption(OWNER, options.idempotency),
    idempotencyStore: checkIdempotencyStoreOption(options.idempotencyStore),
    reporters: options.reporters ?? [],
    signal: options.signal,
    env: () => env ?? process.env,
    clientsFor,
    newMetrics,
  };
}

/** The options read as plain values: the function name, the suffix, the manifest prefix and the writer. */
function checkNamedOptions(
  options: PresignHandlerOptions,
): Pick<HandlerSettings, 'functionName' | 'suffix' | 'manifestPrefix' | 'write'> {
  const functionName = options.functionName ?? DEFAULT_FUNCTION_NAME;
  const suffix = options.suffix ?? '.pdf';
  const manifestPrefix = options.manifestPrefix ?? 'manifests/';
  const write = options.write ?? defaultWrite;
  if (typeof write !== 'function') throw optionTypeError(`${OWNER}: write must be a function`);
  if (typeof functionName !== 'string' || functionName === '') {
    throw optionTypeError(`${OWNER}: functionName must be a non-empty string`);
  }
  if (typeof suffix !== 'string' || suffix === '') throw optionTypeError(`${OWNER}: suffix must be a non-empty string`);
  if (typeof manifestPrefix !== 'string') throw optionTypeError(`${OWNER}: manifestPrefix must be a string`);
  return { functionName, suffix, manifestPrefix, write };
}

function checkPresignerOption(choice: unknown): void {
  if (choice !== undefined && choice !== 'fast' && choice !== 'sdk' && typeof choice !== 'function') {
    throw optionTypeError(`${OWNER}: presigner must be 'fast', 'sdk' or a function (got ${JSON.stringify(choice)})`);
  }
}

/** The `onExpiryCapped` option, checked. @internal */
export function checkExpiryOption(value: unknown, owner = OWNER): 'warn' | 'refuse' | undefined {
  if (value !== undefined && value !== 'warn' && value !== 'refuse') {
    throw optionTypeError(`${owner}: onExpiryCapped must be 'warn' or 'refuse' (got ${JSON.stringify(value)})`);
  }
  return value;
}

/** The options `resolveConfig` takes over the environment: the public endpoint, the deadline margin, the encryption. */
function checkConfigOptions(options: PresignHandlerOptions): ResolveConfigOptions {
  const margin = options.deadlineMarginMs;
  if (
    margin !== undefined &&
    (typeof margin !== 'number' || !Number.isSafeInteger(margin) || margin < MIN_DEADLINE_MARGIN_MS)
  ) {
    throw optionRangeError(
      `${OWNER}: deadlineMarginMs must be an integer number of milliseconds, ${MIN_DEADLINE_MARGIN_MS} or more (got ${String(margin)})`,
    );
  }
  const encryption = checkManifestEncryptionOption(OWNER, options.manifestEncryption);
  return {
    ...(options.publicEndpoint !== undefined ? { publicEndpoint: options.publicEndpoint } : {}),
    ...(margin !== undefined ? { deadlineMarginMs: margin } : {}),
    ...(encryption !== undefined ? { manifestEncryption: encryption } : {}),
  };
}

function accessOptionsOf(options: PresignHandlerOptions): AccessPolicy {
  return {
    ...(options.allowedBuckets !== undefined ? { allowedBuckets: options.allowedBuckets } : {}),
    ...(options.allowedPrefixes !== undefined ? { allowedPrefixes: options.allowedPrefixes } : {}),
  };
}

/** Makes the EMF reporter of one invocation: the run's counts as metrics, published when the invocation ends. */
function metricsFactory(namespace: string, functionName: string, write: (line: string) => void): () => EmfReporter {
  return () =>
    emfReporter({
      namespace,
      dimensions: { Function: functionName },
      metrics: (summary) => ({
        PDFsProcessed: summary.count,
        S3ListPages: summary.pages,
        PresignCount: summary.count,
        ManifestBytes: summary.bytes,
      }),
      deferPublish: true,
      write,
      onError: (error) => write(JSON.stringify({ event: 'metrics_error', error: messageOf(error) })),
    });
}

/** Checks the `idempotencyStore` option when the handler is created. */
function checkIdempotencyStoreOption(store: unknown): IdempotencyStore | undefined {
  if (store === undefined) return undefined;
  if (store === null || typeof store !== 'object' || typeof (store as IdempotencyStore).run !== 'function') {
    throw optionTypeError(`${OWNER}: idempotencyStore must have a run() method (use dynamoDbIdempotencyStore())`);
  }
  return store as IdempotencyStore;
}

/**
 * Checks a `manifestEncryption` option when the handler is created, so a wrong one fails the cold start rather than
 * every invocation. @internal
 */
export function checkManifestEncryptionOption(owner: string, value: unknown): ManifestEncryption | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object') {
    throw optionTypeError(
      `${owner}: manifestEncryption must be an object {serverSideEncryption, kmsKeyId?} (got ${String(value)})`,
    );
  }
  const problem = manifestEncryptionProblem(
    value as Record<string, unknown>,
    'manifestEncryption.serverSideEncryption',
    'manifestEncryption.kmsKeyId',
  );
  if (problem !== undefined) throw optionTypeError(`${owner}: ${problem.error}`);
  return value as ManifestEncryption;
}

/** The `s3ManifestWriter` options that encrypt a manifest as configured. @internal */
export function manifestSseOptions(encryption: ManifestEncryption | undefined): {
  serverSideEncryption?: ManifestEncryption['serverSideEncryption'];
  sseKmsKeyId?: string;
} {
  if (encryption === undefined) return {};
  return {
    serverSideEncryption: encryption.serverSideEncryption,
    ...(encryption.kmsKeyId !== undefined ? { sseKmsKeyId: encryption.kmsKeyId } : {}),
  };
}

/** `ON_EXPIRY_CAPPED` from the environment: `warn` (the default, also when empty) or `refuse`. @internal */
export function expiryPolicyOf(env: HandlerEnv): 'warn' | 'refuse' | RequestRejection {
  const raw = env.ON_EXPIRY_CAPPED;
  const value = raw === undefined || raw.trim() === '' ? 'warn' : raw.trim().toLowerCase();
  if (value === 'warn' || value === 'refuse') return value;
  return {
    statusCode: 400,
    field: 'ON_EXPIRY_CAPPED',
    error: `ON_EXPIRY_CAPPED must be "warn" or "refuse" (got ${JSON.stringify(raw)})`,
  };
}
