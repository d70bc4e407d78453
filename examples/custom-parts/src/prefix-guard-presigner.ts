import { PresignPipelineError, type ObjectRef, type PresignOptions, type Presigner } from '@presign-pipeline/core';

// #region presigner
/**
 * A {@link Presigner} that wraps another and signs only keys under `prefix`. A key list from a file can name
 * any key, and the role signs whatever it can read: this keeps a run to the keys it is meant for. A refused key
 * is an item error (counted, reported, left out of the manifest); the run goes on.
 *
 * It keeps the inner presigner's fast path (`presignSync`) and its credentials' expiry, so wrapping costs nothing.
 */
export function prefixGuardPresigner(inner: Presigner, prefix: string): Presigner {
  if (typeof prefix !== 'string' || prefix === '')
    throw new TypeError('prefixGuardPresigner: prefix must be a non-empty string');
  const check = (object: ObjectRef): void => {
    if (!object.key.startsWith(prefix)) {
      throw new PresignPipelineError('PRESIGN_FAILED', `key is outside ${prefix}`, { key: object.key });
    }
  };
  const guarded: Presigner = {
    async presign(object: ObjectRef, options: PresignOptions): Promise<string> {
      check(object);
      return inner.presign(object, options);
    },
  };
  const { presignSync, credentialsExpiration } = inner;
  if (presignSync !== undefined) {
    guarded.presignSync = (object, options) => {
      check(object);
      return presignSync.call(inner, object, options);
    };
  }
  if (credentialsExpiration !== undefined) guarded.credentialsExpiration = () => credentialsExpiration.call(inner);
  return guarded;
}
// #endregion presigner
