/** One way of getting an S3 endpoint that was tried and did not work. */
export interface S3EndpointAttempt {
  /** Which way was tried. */
  readonly kind: S3EndpointKind;
  /** Why it did not give an endpoint, in words a person can act on. */
  readonly reason: string;
}

/** Where the endpoint comes from: a server already running, a MinIO container, or a local moto_server process. */
export type S3EndpointKind = 'external' | 'minio' | 'moto';

/**
 * The brand `@presign-pipeline/core` recognises its errors by (`instanceof PresignPipelineError`,
 * `isPresignPipelineError`). Set here rather than by extending core's class: this package does not depend on core,
 * whose own tests depend on it.
 */
const PRESIGN_PIPELINE_ERROR = Symbol.for('presign-pipeline.error');

/**
 * Thrown by `startS3Endpoint` when no way of getting an S3 endpoint works.
 * The message lists why each one failed and how to get one. It belongs to core's `PresignPipelineError` family, with
 * code `NO_ENDPOINT`: `error instanceof PresignPipelineError` and `isPresignPipelineError(error)` are true.
 */
export class S3EndpointUnavailableError extends Error {
  /** The `PresignPipelineError` code of this error. */
  readonly code = 'NO_ENDPOINT';
  /** Every way that was tried, in order, with its reason. */
  readonly attempts: readonly S3EndpointAttempt[];

  /** @param attempts every way that was tried, in order, with why it failed. */
  constructor(attempts: readonly S3EndpointAttempt[]) {
    const lines = attempts.map((a) => `  - ${a.kind}: ${a.reason}`);
    super(
      [
        'No S3 endpoint is available for the tests. Tried, in order:',
        ...lines,
        'Get one by any of: setting S3_ENDPOINT_URL to a running S3-compatible server;',
        "starting a container runtime (Docker, Podman) for MinIO; or installing moto: pip install 'moto[server]'.",
      ].join('\n'),
    );
    this.name = 'S3EndpointUnavailableError';
    this.attempts = attempts;
    Object.defineProperty(this, PRESIGN_PIPELINE_ERROR, { value: true });
  }
}
