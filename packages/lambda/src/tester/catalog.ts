import { DEFAULTS } from '../config.js';

/** One field of the handler's event, as the tester documents it beside the editor. */
export interface EventFieldDoc {
  /** The field's name in the event. */
  readonly name: string;
  /** Its JSON type. */
  readonly type: string;
  /** The variable it falls back to, if any. */
  readonly env?: string;
  /** Its default when neither the event nor the environment gives it. */
  readonly default?: string;
  /** What it does. */
  readonly doc: string;
}

/** One environment variable the handler reads, with its default. */
export interface EnvVariableDoc {
  /** The variable's name. */
  readonly name: string;
  /** Its default, as text ('' for none). */
  readonly default: string;
  /** What it does. */
  readonly doc: string;
}

/** The event fields of the documented handler. */
export const EVENT_FIELDS: readonly EventFieldDoc[] = [
  {
    name: 'bucket',
    type: 'string',
    env: 'BUCKET_NAME',
    default: DEFAULTS.bucket,
    doc: 'The bucket to list; the manifest goes there too.',
  },
  {
    name: 'prefix',
    type: 'string',
    env: 'PREFIX',
    default: DEFAULTS.prefix,
    doc: 'Keys under this prefix ending in .pdf (any case) are presigned.',
  },
  {
    name: 'expiry_seconds',
    type: 'integer',
    env: 'URL_EXPIRY_SECONDS',
    default: String(DEFAULTS.expirySeconds),
    doc: 'Lifetime of each URL, 1..604800.',
  },
  {
    name: 'page_size',
    type: 'integer',
    default: String(DEFAULTS.pageSize),
    doc: 'Keys per ListObjectsV2 page, 1..1000.',
  },
  { name: 'concurrency', type: 'integer', default: String(DEFAULTS.concurrency), doc: 'Presign workers.' },
  { name: 'start_after', type: 'string', doc: 'Continue after this key: the next_start_after of an incomplete run.' },
];

/** The variables the tester lets a run override, with the handler's defaults. Credentials are never among them. */
export const ENV_VARIABLES: readonly EnvVariableDoc[] = [
  { name: 'BUCKET_NAME', default: DEFAULTS.bucket, doc: 'Bucket when the event names none.' },
  { name: 'PREFIX', default: DEFAULTS.prefix, doc: 'Prefix when the event gives none.' },
  {
    name: 'URL_EXPIRY_SECONDS',
    default: String(DEFAULTS.expirySeconds),
    doc: 'URL lifetime when the event gives none.',
  },
  { name: 'QUEUE_MAX', default: String(DEFAULTS.queueMax), doc: 'Most keys buffered between listing and presigning.' },
  {
    name: 'DEADLINE_MARGIN_MS',
    default: String(DEFAULTS.deadlineMarginMs),
    doc: 'Time kept free at the end of the invocation.',
  },
  { name: 'ON_EXPIRY_CAPPED', default: 'warn', doc: 'warn or refuse when credentials expire before the URLs would.' },
  { name: 'ALLOWED_BUCKETS', default: '', doc: 'Comma-separated buckets events may name (empty: any).' },
  {
    name: 'ALLOWED_PREFIXES',
    default: '',
    doc: 'Comma-separated prefixes an event prefix must start with (empty: any).',
  },
  {
    name: 'MANIFEST_SSE',
    default: '',
    doc: 'AES256, aws:kms or aws:kms:dsse for the manifest (empty: bucket default).',
  },
  {
    name: 'S3_PUBLIC_ENDPOINT_URL',
    default: '',
    doc: 'Host the URLs are signed for, when consumers reach S3 elsewhere.',
  },
];

const OVERRIDABLE = new Set(ENV_VARIABLES.map((variable) => variable.name));

/** True when the tester accepts an override of this variable. */
export function isOverridable(name: string): boolean {
  return OVERRIDABLE.has(name);
}

/** Example events to start from, given the bucket and prefix the tester was started with. */
export function exampleEvents(bucket: string, prefix: string): Array<{ name: string; event: unknown }> {
  return [
    { name: 'The seeded prefix', event: { bucket, prefix, expiry_seconds: 900 } },
    { name: 'Small pages (many LIST calls)', event: { bucket, prefix, page_size: 25, concurrency: 4 } },
    { name: 'Short-lived URLs', event: { bucket, prefix, expiry_seconds: 60 } },
    { name: 'Bad request: expiry beyond 7 days (400)', event: { bucket, prefix, expiry_seconds: 604801 } },
    { name: 'Empty prefix', event: { bucket, prefix: 'nothing-here/' } },
  ];
}
