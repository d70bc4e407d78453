// Writes a small S3 Inventory report (CSV-gzip, as S3 delivers it) for tests: data files of quoted rows with
// URL-encoded keys, and a manifest.json naming them with their MD5.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/** Where the report goes and what it lists. */
export interface InventoryReport {
  /** The inventoried bucket (every row's Bucket). */
  readonly sourceBucket: string;
  /** The bucket the report is delivered to. */
  readonly destinationBucket: string;
  /** Folder of the report, e.g. `inventory/reports/daily/2026-04-02T01-00Z/`. */
  readonly folder: string;
  readonly keys: readonly string[];
  /** Keys per data file (a versioned report has more rows). Default 1000. */
  readonly rowsPerFile?: number;
  /**
   * A versioned report (`VersionId, IsLatest, IsDeleteMarker` in its schema): every key is the latest version, and
   * these keys also get an older version's row before it and, for those in `deleted`, a delete marker as latest.
   */
  readonly versions?: { readonly older: readonly string[]; readonly deleted: readonly string[] };
}

const PLAIN_SCHEMA = 'Bucket, Key, Size, LastModifiedDate';
const VERSIONED_SCHEMA = 'Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate';

/** The rows of one key, as quoted CSV fields: its older version first when it has one, as S3 Inventory lists them. */
function rowsOf(report: InventoryReport, key: string): string[][] {
  const plain = [report.sourceBucket, encodeKey(key), String(key.length), '2026-04-01T00:00:00.000Z'];
  const versions = report.versions;
  if (versions === undefined) return [plain];
  const row = (id: string, latest: boolean, marker: boolean): string[] => {
    const [bucket, encoded, size, modified] = plain as [string, string, string, string];
    return [bucket, encoded, id, String(latest), String(marker), marker ? '' : size, modified];
  };
  const rows: string[][] = [];
  if (versions.older.includes(key)) rows.push(row('v1', false, false));
  rows.push(versions.deleted.includes(key) ? row('v3', true, true) : row('v2', true, false));
  return rows;
}

/** URL-encodes a key as CSV inventories do (space as `+` is also accepted by readers; `%20` here). */
const encodeKey = (key: string): string => encodeURIComponent(key).replace(/%2F/g, '/');

/** Writes the data files and the manifest; returns the manifest's key. */
export async function writeInventory(s3: S3Client, report: InventoryReport): Promise<string> {
  const rowsPerFile = report.rowsPerFile ?? 1000;
  const files: { key: string; size: number; MD5checksum: string }[] = [];
  for (let start = 0; start < report.keys.length; start += rowsPerFile) {
    const rows = report.keys
      .slice(start, start + rowsPerFile)
      .flatMap((key) => rowsOf(report, key))
      .map((fields) => `${fields.map((field) => `"${field}"`).join(',')}\n`);
    const body = gzipSync(rows.join(''));
    const key = `${report.folder}data/part-${files.length}.csv.gz`;
    await s3.send(new PutObjectCommand({ Bucket: report.destinationBucket, Key: key, Body: body }));
    files.push({ key, size: body.length, MD5checksum: createHash('md5').update(body).digest('hex') });
  }
  const manifest = {
    sourceBucket: report.sourceBucket,
    destinationBucket: `arn:aws:s3:::${report.destinationBucket}`,
    version: '2016-11-30',
    creationTimestamp: '1775091600000',
    fileFormat: 'CSV',
    fileSchema: report.versions === undefined ? PLAIN_SCHEMA : VERSIONED_SCHEMA,
    files,
  };
  const manifestKey = `${report.folder}manifest.json`;
  await s3.send(
    new PutObjectCommand({ Bucket: report.destinationBucket, Key: manifestKey, Body: JSON.stringify(manifest) }),
  );
  return manifestKey;
}
