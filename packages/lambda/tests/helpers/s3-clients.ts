import { S3Client } from '@aws-sdk/client-s3';

/**
 * A real S3Client aimed at a closed local port, for unit tests: a middleware added by the caller answers or refuses
 * every command, so nothing reaches the network. One attempt, and checksums only where S3 requires them.
 */
export function offlineS3Client(): S3Client {
  return new S3Client({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:9',
    forcePathStyle: true,
    credentials: { accessKeyId: 'unit', secretAccessKey: 'unit' },
    maxAttempts: 1,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Makes the n-th (1-based) call of an operation fail with an S3-style error of this name. */
export type InjectedFailures = Readonly<Record<string, { readonly call: number; readonly name: string }>>;

/**
 * Counts one call of operation `name` in `counts` and, when it is the call `failures` names, throws the error S3
 * would answer (a 503 server fault named as asked).
 */
export function countCall(counts: Record<string, number>, name: string, failures: InjectedFailures = {}): void {
  counts[name] = (counts[name] ?? 0) + 1;
  const failure = failures[name];
  if (failure === undefined || failure.call !== counts[name]) return;
  throw Object.assign(new Error(`Injected ${failure.name} on ${name} call ${counts[name]}`), {
    name: failure.name,
    $fault: 'server',
    $metadata: { httpStatusCode: 503 },
  });
}
