/**
 * Every event field and environment variable the presign handler reads, with the forms it accepts and refuses. The
 * configuration table of docs/handler.md is rendered from these rows ({@link renderConfigTable}), and a test runs
 * each row's examples through the handler, so the documentation and the code cannot disagree.
 */
import type { PresignConfig } from './config.js';

/** One value of a row, and what the handler makes of it. */
export type FieldExample =
  | {
      /** The event field or variable the value goes in (one of the row's names). */
      readonly name: string;
      /** The value as the event or the environment carries it. */
      readonly value: unknown;
      /** The resolved value (the row's `property` of the configuration), or what it means in words. */
      readonly to: unknown;
      /** Other variables the example needs set. */
      readonly with?: Readonly<Record<string, string>>;
      /** Other event fields the example needs. */
      readonly withEvent?: Readonly<Record<string, unknown>>;
    }
  | {
      /** The event field or variable the value goes in (one of the row's names). */
      readonly name: string;
      /** The value as the event or the environment carries it. */
      readonly value: unknown;
      /** The status it is refused with. */
      readonly refused: 400 | 403;
      /** The field the refusal names, when not `name` itself. */
      readonly field?: string;
      /** Other variables the example needs set. */
      readonly with?: Readonly<Record<string, string>>;
      /** Other event fields the example needs. */
      readonly withEvent?: Readonly<Record<string, unknown>>;
    };

/** One row of the configuration table. */
export interface ConfigFieldRow {
  /** The event field, when the event may carry it. */
  readonly event?: string;
  /** The environment variables of the row. */
  readonly env?: readonly string[];
  /** The default, in words. */
  readonly default: string;
  /** What is accepted, in words. */
  readonly accepted: string;
  /** The configuration property the value lands in, so a test can check what each example resolves to. */
  readonly property?: keyof PresignConfig;
  /** Values and what becomes of them. */
  readonly examples: readonly FieldExample[];
}

const INVENTORY_MANIFEST = 's3://inventory-bucket/inventory/manifest.json';

/** `modified_after` / `modified_before`: an inventory run's LastModified window (src/freshness.ts). */
const MODIFIED_WINDOW_ROWS: readonly ConfigFieldRow[] = (['modified_after', 'modified_before'] as const).map(
  (name) => ({
    event: name,
    default: 'no cut-off',
    accepted:
      name === 'modified_after'
        ? 'with `inventory_manifest`: keep objects last modified at or after this instant, an ISO-8601 date (`2026-04-01`, midnight UTC) or timestamp with a zone (`2026-04-01T09:30:00Z`, `…+02:00`); digits past the millisecond round up to the next millisecond (LastModified has no finer ones). Event only (a fixed date in the environment would go stale); refused without `inventory_manifest` (a listing cannot filter by date) ([scaling](scaling.md#when-to-use-an-inventory))'
        : 'with `inventory_manifest`: keep objects last modified before this instant, in the same forms as `modified_after`, which it must follow',
    examples: [
      { name, value: null, to: 'no cut-off' },
      { name, value: '', to: 'no cut-off' },
      { name, value: '2026-04-01T09:30:00Z', refused: 400 },
      { name, value: 'yesterday', withEvent: { inventory_manifest: INVENTORY_MANIFEST }, refused: 400 },
      { name, value: '2026-02-30', withEvent: { inventory_manifest: INVENTORY_MANIFEST }, refused: 400 },
      { name, value: '2026-04-01T09:30:00', withEvent: { inventory_manifest: INVENTORY_MANIFEST }, refused: 400 },
      { name, value: 1_775_000_000, withEvent: { inventory_manifest: INVENTORY_MANIFEST }, refused: 400 },
      ...(name === 'modified_before'
        ? [
            {
              name,
              value: '2026-04-01',
              withEvent: { inventory_manifest: INVENTORY_MANIFEST, modified_after: '2026-04-02' },
              refused: 400 as const,
            },
          ]
        : []),
    ],
  }),
);

const NON_FINITE_EVENT = (name: string): FieldExample[] => [
  { name, value: Number.NaN, refused: 400 },
  { name, value: Number.POSITIVE_INFINITY, refused: 400 },
  { name, value: Number.NEGATIVE_INFINITY, refused: 400 },
];

/** The rows, in the order the table shows them. */
export const CONFIG_FIELDS: readonly ConfigFieldRow[] = [
  {
    event: 'bucket',
    env: ['BUCKET_NAME'],
    default: '`my-company-reports-bucket`',
    accepted: 'a valid S3 bucket name (a string)',
    property: 'bucket',
    examples: [
      { name: 'bucket', value: 'reports-2026', to: 'reports-2026' },
      { name: 'bucket', value: '', to: 'my-company-reports-bucket' },
      { name: 'bucket', value: null, to: 'my-company-reports-bucket' },
      { name: 'BUCKET_NAME', value: 'env-bucket', to: 'env-bucket' },
      { name: 'bucket', value: 42, refused: 400 },
      { name: 'bucket', value: Number.NaN, refused: 400 },
      { name: 'bucket', value: 'Not_A_Bucket', refused: 400 },
      { name: 'BUCKET_NAME', value: '', refused: 400 },
    ],
  },
  {
    event: 'prefix',
    env: ['PREFIX'],
    default: '`2026/04/`',
    accepted:
      'a string of at most 1024 bytes (no lone UTF-16 surrogate, which no S3 key can hold); empty in the environment lists the whole bucket',
    property: 'prefix',
    examples: [
      { name: 'prefix', value: 'reports/', to: 'reports/' },
      { name: 'prefix', value: '', to: '2026/04/' },
      { name: 'PREFIX', value: '', to: '' },
      { name: 'prefix', value: 3, refused: 400 },
      { name: 'prefix', value: ['a/'], refused: 400 },
      { name: 'prefix', value: Number.NaN, refused: 400 },
      { name: 'prefix', value: 'reports/\ud800', refused: 400 },
    ],
  },
  {
    event: 'expiry_seconds',
    env: ['URL_EXPIRY_SECONDS'],
    default: '900',
    accepted:
      "an integer 1..604800 (SigV4's seven days), or a string of it Python's `int()` reads written in ASCII digits (surrounding whitespace, a sign, `_` between digits; not the other scripts' digits `int()` also reads)",
    property: 'expirySeconds',
    examples: [
      { name: 'expiry_seconds', value: 60, to: 60 },
      { name: 'expiry_seconds', value: ' 900 ', to: 900 },
      { name: 'expiry_seconds', value: '1_000', to: 1000 },
      { name: 'expiry_seconds', value: 0, to: 900 },
      { name: 'expiry_seconds', value: false, to: 900 },
      { name: 'URL_EXPIRY_SECONDS', value: '120', to: 120 },
      { name: 'expiry_seconds', value: 9.5, refused: 400 },
      { name: 'expiry_seconds', value: '1e3', refused: 400 },
      { name: 'expiry_seconds', value: '\uff19\uff10\uff10', refused: 400 },
      { name: 'expiry_seconds', value: true, refused: 400 },
      { name: 'expiry_seconds', value: 604_801, refused: 400 },
      ...NON_FINITE_EVENT('expiry_seconds'),
      { name: 'URL_EXPIRY_SECONDS', value: 'NaN', refused: 400 },
      { name: 'URL_EXPIRY_SECONDS', value: 'Infinity', refused: 400 },
    ],
  },
  {
    event: 'page_size',
    default: '1000',
    accepted: 'an integer 1..1000, or an integer string',
    property: 'pageSize',
    examples: [
      { name: 'page_size', value: 10, to: 10 },
      { name: 'page_size', value: '250', to: 250 },
      { name: 'page_size', value: 0, to: 1000 },
      { name: 'page_size', value: 1001, refused: 400 },
      { name: 'page_size', value: 'ten', refused: 400 },
      ...NON_FINITE_EVENT('page_size'),
    ],
  },
  {
    event: 'concurrency',
    default: '4',
    accepted: 'an integer 1..256, or an integer string',
    property: 'concurrency',
    examples: [
      { name: 'concurrency', value: 8, to: 8 },
      { name: 'concurrency', value: '2', to: 2 },
      { name: 'concurrency', value: null, to: 4 },
      { name: 'concurrency', value: 1.5, refused: 400 },
      { name: 'concurrency', value: 257, refused: 400 },
      ...NON_FINITE_EVENT('concurrency'),
    ],
  },
  {
    event: 'start_after',
    default: 'from the start',
    accepted:
      'the `next_start_after` of an earlier run: a key under the prefix (event only; empty, `null` or another falsy value such as `0` or `false`: from the start)',
    property: 'startAfter',
    examples: [
      { name: 'start_after', value: '2026/04/0042.pdf', to: '2026/04/0042.pdf' },
      { name: 'start_after', value: '', to: undefined },
      { name: 'start_after', value: null, to: undefined },
      { name: 'start_after', value: 0, to: undefined },
      { name: 'start_after', value: false, to: undefined },
      { name: 'start_after', value: 'other/x.pdf', refused: 400 },
      { name: 'start_after', value: 5, refused: 400 },
      { name: 'start_after', value: Number.NaN, refused: 400 },
      { name: 'start_after', value: '2026/04/\ud800', refused: 400 },
    ],
  },
  {
    event: 'inventory_manifest',
    default: 'list the prefix',
    accepted:
      "`s3://bucket/key` of an S3 Inventory `manifest.json`: presign the inventory's keys instead of listing; the prefix, when given, filters them ([scaling](scaling.md#when-to-use-an-inventory))",
    examples: [
      { name: 'inventory_manifest', value: null, to: 'list the prefix' },
      { name: 'inventory_manifest', value: false, to: 'list the prefix' },
      { name: 'inventory_manifest', value: 'inventory/manifest.json', refused: 400 },
      { name: 'inventory_manifest', value: 's3://inventory-bucket/', refused: 400 },
      { name: 'inventory_manifest', value: 42, refused: 400 },
      { name: 'inventory_manifest', value: 's3://inventory-bucket/\udc00/manifest.json', refused: 400 },
      { name: 'inventory_manifest', value: Number.NaN, refused: 400 },
      {
        name: 'inventory_manifest',
        value: 's3://other-bucket/inventory/manifest.json',
        with: { ALLOWED_BUCKETS: 'my-company-reports-bucket' },
        refused: 403,
      },
    ],
  },
  {
    event: 'list_concurrency',
    env: ['LIST_CONCURRENCY'],
    default: '1',
    accepted:
      "ListObjectsV2 requests in flight, an integer 1..256 or an integer string: 1 lists sequentially (the reference's behaviour); more lists auto-partitioned, and a cut run answers `resume_token`",
    examples: [
      { name: 'list_concurrency', value: 16, to: '16 requests in flight' },
      { name: 'list_concurrency', value: '4', to: '4 requests in flight' },
      { name: 'list_concurrency', value: null, to: 'sequential' },
      { name: 'LIST_CONCURRENCY', value: '8', to: '8 requests in flight' },
      { name: 'list_concurrency', value: 257, refused: 400 },
      { name: 'list_concurrency', value: 1.5, refused: 400 },
      { name: 'list_concurrency', value: 'many', refused: 400 },
      ...NON_FINITE_EVENT('list_concurrency'),
      { name: 'LIST_CONCURRENCY', value: '0', refused: 400 },
      { name: 'LIST_CONCURRENCY', value: 'Infinity', refused: 400 },
    ],
  },
  {
    event: 'resume_token',
    default: 'from the start',
    accepted:
      "continue an earlier run cut at its deadline: the `resume_token` it answered (event only). With `inventory_manifest`, an inventory run's token (`inv1.…`); without, a concurrent listing's token (`v1.…`, same bucket and prefix; not with `start_after`). A token of the other kind is refused, naming the kind expected",
    examples: [
      { name: 'resume_token', value: null, to: 'from the start' },
      { name: 'resume_token', value: false, to: 'from the start' },
      { name: 'resume_token', value: 'inv1.abc', refused: 400 },
      { name: 'resume_token', value: 'page-2', refused: 400 },
      { name: 'resume_token', value: 'page-2', withEvent: { inventory_manifest: INVENTORY_MANIFEST }, refused: 400 },
      { name: 'resume_token', value: 7, withEvent: { inventory_manifest: INVENTORY_MANIFEST }, refused: 400 },
      { name: 'resume_token', value: Number.NaN, withEvent: { inventory_manifest: INVENTORY_MANIFEST }, refused: 400 },
    ],
  },
  ...MODIFIED_WINDOW_ROWS,
  {
    env: ['QUEUE_MAX'],
    default: '2000',
    accepted: 'keys buffered between listing and presigning, an integer 1..1000000',
    property: 'queueMax',
    examples: [
      { name: 'QUEUE_MAX', value: '50', to: 50 },
      { name: 'QUEUE_MAX', value: '0', refused: 400 },
      { name: 'QUEUE_MAX', value: 'lots', refused: 400 },
      { name: 'QUEUE_MAX', value: 'Infinity', refused: 400 },
    ],
  },
  {
    env: ['DEADLINE_MARGIN_MS'],
    default: '30000',
    accepted:
      'an integer ≥ 1000 (`MIN_DEADLINE_MARGIN_MS`): time kept free at the end of the invocation, never more than half of it',
    property: 'deadlineMarginMs',
    examples: [
      { name: 'DEADLINE_MARGIN_MS', value: '5000', to: 5000 },
      { name: 'DEADLINE_MARGIN_MS', value: '1000', to: 1000 },
      { name: 'DEADLINE_MARGIN_MS', value: '999', refused: 400 },
      { name: 'DEADLINE_MARGIN_MS', value: '0', refused: 400 },
      { name: 'DEADLINE_MARGIN_MS', value: 'NaN', refused: 400 },
      { name: 'DEADLINE_MARGIN_MS', value: '1e3', refused: 400 },
    ],
  },
  {
    env: ['S3_ENDPOINT_URL'],
    default: 'AWS',
    accepted:
      'an http(s) URL without credentials, query or fragment: the endpoint listed and written to, path-style (empty: AWS)',
    property: 'endpoint',
    examples: [
      { name: 'S3_ENDPOINT_URL', value: 'http://127.0.0.1:9000', to: 'http://127.0.0.1:9000' },
      { name: 'S3_ENDPOINT_URL', value: '', to: undefined },
      { name: 'S3_ENDPOINT_URL', value: 'minio:9000', refused: 400 },
    ],
  },
  {
    env: ['S3_PUBLIC_ENDPOINT_URL'],
    default: 'the endpoint',
    accepted: 'an http(s) URL: the endpoint URLs are signed for (the `publicEndpoint` option overrides it)',
    property: 'publicEndpoint',
    examples: [
      { name: 'S3_PUBLIC_ENDPOINT_URL', value: 'https://files.example.com', to: 'https://files.example.com' },
      { name: 'S3_PUBLIC_ENDPOINT_URL', value: 'http://u:p@host', refused: 400 },
    ],
  },
  {
    env: ['ALLOWED_BUCKETS', 'ALLOWED_PREFIXES'],
    default: 'no restriction',
    accepted:
      'comma-separated allow-lists; a bucket or prefix outside them gets 403. Set but naming nothing (`""`, `" , "`): nothing is allowed, every request gets 403 saying so (unset the variable to allow any)',
    examples: [
      { name: 'ALLOWED_BUCKETS', value: 'my-company-reports-bucket, other', to: 'the default bucket is allowed' },
      { name: 'ALLOWED_BUCKETS', value: 'other', refused: 403, field: 'BUCKET_NAME' },
      { name: 'ALLOWED_BUCKETS', value: ' , ', refused: 403, field: 'BUCKET_NAME' },
      { name: 'ALLOWED_PREFIXES', value: '', refused: 403, field: 'PREFIX' },
      { name: 'ALLOWED_PREFIXES', value: '2026/', to: 'the default prefix is allowed' },
      { name: 'ALLOWED_PREFIXES', value: 'archive/', refused: 403, field: 'PREFIX' },
    ],
  },
  {
    env: ['ON_EXPIRY_CAPPED'],
    default: '`warn`',
    accepted: '`warn` or `refuse` (any case), when the credentials die before `expiry_seconds` (block 8)',
    examples: [
      { name: 'ON_EXPIRY_CAPPED', value: 'REFUSE', to: 'refuse' },
      { name: 'ON_EXPIRY_CAPPED', value: 'maybe', refused: 400 },
    ],
  },
  {
    env: ['MANIFEST_SSE'],
    default: "the bucket's default",
    accepted: '`AES256`, `aws:kms` or `aws:kms:dsse`: server-side encryption of the manifest (empty: not set)',
    property: 'manifestEncryption',
    examples: [
      { name: 'MANIFEST_SSE', value: 'AES256', to: { serverSideEncryption: 'AES256' } },
      { name: 'MANIFEST_SSE', value: 'rot13', refused: 400 },
    ],
  },
  {
    env: ['MANIFEST_KMS_KEY_ID'],
    default: 'the `aws/s3` key',
    accepted: 'the KMS key for the `aws:kms` modes (refused with `AES256` or alone)',
    property: 'manifestEncryption',
    examples: [
      {
        name: 'MANIFEST_KMS_KEY_ID',
        value: 'alias/manifests',
        with: { MANIFEST_SSE: 'aws:kms' },
        to: { serverSideEncryption: 'aws:kms', kmsKeyId: 'alias/manifests' },
      },
      { name: 'MANIFEST_KMS_KEY_ID', value: 'alias/manifests', refused: 400 },
    ],
  },
  {
    env: ['IDEMPOTENCY_TABLE', 'IDEMPOTENCY_TTL_SECONDS', 'DYNAMODB_ENDPOINT_URL'],
    default: 'off, 3600, AWS',
    accepted:
      'deduplication (below): a DynamoDB table name (3 to 255 of `A-Za-z0-9_.-`, surrounding whitespace trimmed), a positive integer TTL in seconds, an absolute http(s) endpoint URL',
    examples: [
      { name: 'IDEMPOTENCY_TTL_SECONDS', value: 'a day', with: { IDEMPOTENCY_TABLE: 'jobs' }, refused: 400 },
      { name: 'IDEMPOTENCY_TABLE', value: 'dedup jobs', refused: 400 },
      { name: 'DYNAMODB_ENDPOINT_URL', value: '127.0.0.1:8000', with: { IDEMPOTENCY_TABLE: 'jobs' }, refused: 400 },
    ],
  },
  {
    env: ['AWS_MAX_ATTEMPTS'],
    default: '3',
    accepted: 'attempts per S3 request, read by the AWS SDK itself (`clientConfig.maxAttempts` wins)',
    examples: [],
  },
];

/** A value as the documentation shows it: event values as JavaScript literals (so `NaN` shows), strings quoted. */
export function showValue(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (value === undefined) return 'undefined';
  return JSON.stringify(value);
}

function exampleCell(row: ConfigFieldRow, refused: boolean): string {
  const cells = row.examples
    .filter((example) => 'refused' in example === refused)
    .map((example) => {
      const shown = `${example.name}=${showValue(example.value)}`;
      const others = Object.entries({ ...(example.withEvent ?? {}), ...(example.with ?? {}) });
      const needs = others.length === 0 ? '' : ` with ${others.map(([k, v]) => `${k}=${showValue(v)}`).join(', ')}`;
      if ('refused' in example) return `\`${shown}\`${needs}${example.refused === 403 ? ' (403)' : ''}`;
      const to = row.property === undefined && typeof example.to === 'string' ? example.to : showValue(example.to);
      return `\`${shown}\`${needs} → ${to}`;
    });
  return cells.length === 0 ? '—' : cells.join('; ').replaceAll('|', '\\|');
}

/** The configuration table of docs/handler.md, rendered from {@link CONFIG_FIELDS}. */
export function renderConfigTable(rows: readonly ConfigFieldRow[] = CONFIG_FIELDS): string {
  const lines = [
    '| event field | environment | default | accepted | examples (→ what it becomes) | refused (400 naming the field) |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const row of rows) {
    const event = row.event === undefined ? '' : `\`${row.event}\``;
    const env = (row.env ?? []).map((name) => `\`${name}\``).join(', ');
    lines.push(
      `| ${event} | ${env} | ${row.default} | ${row.accepted} | ${exampleCell(row, false)} | ${exampleCell(row, true)} |`,
    );
  }
  return lines.join('\n');
}
