/**
 * Helpers the presign-pipeline packages share, so each exists once: the option errors of the error convention
 * (`TypeError`/`RangeError` with code `INVALID_OPTION`), the option checks that raise them, and the describing of
 * values and thrown things for messages and log lines, the rule of which S3 Inventory rows get a URL, and how long
 * URLs may live under the signing credentials (with the `expiry_capped` log line).
 *
 * `@presign-pipeline/core/internal` is for the other presign-pipeline packages only: it is not documented for users,
 * and any release may change it. minio-testing keeps its own copies (it does not depend on core, whose tests use it).
 * @internal
 * @module
 */
export { optionRangeError, optionTypeError } from './errors.js';
export { isLiveVersion } from './inventory/data-file.js';
export { codeOf, messageOf, nameOf } from './redact.js';
export { expiryCappedFields } from './reporters/json-log-reporter.js';
export { type EventListeners, listenTo } from './reporters/listen.js';
export { type UrlLifetime, urlLifetime } from './url-lifetime.js';
export {
  checkFiniteNumber,
  checkInteger,
  checkNonEmptyString,
  checkObject,
  checkOneOf,
  describeValue,
  typeOfValue,
} from './validate.js';
