/**
 * The resume token of an inventory run: which data file and how many of its rows the run got through. It is opaque
 * to callers, versioned (`inv1.`), and short (well under 4 KB: the data file is named by its index and its MD5, not its
 * key). @internal
 */

import { PresignPipelineError } from '../errors.js';
import type { InventoryManifest } from './manifest.js';

/** A position in an inventory: rows `[0, row)` of file `file` and every file before it are done. */
export interface InventoryPosition {
  readonly file: number;
  readonly row: number;
}

/** The prefix that tags an inventory resume token (and its version). */
export const INVENTORY_TOKEN_PREFIX = 'inv1.';

/** Encodes a position; `md5` names the data file so a token cannot resume a different inventory by accident. */
export function encodeInventoryToken(position: InventoryPosition, md5: string): string {
  const json = JSON.stringify({ f: position.file, r: position.row, m: md5 });
  return INVENTORY_TOKEN_PREFIX + Buffer.from(json, 'utf8').toString('base64url');
}

function invalidToken(problem: string): PresignPipelineError {
  return new PresignPipelineError('INVALID_RESUME_TOKEN', `inventory resume token ${problem}`);
}

/** True for a string that looks like an inventory resume token (its tag), whether or not it is valid. */
export function isInventoryToken(value: string): boolean {
  return value.startsWith(INVENTORY_TOKEN_PREFIX);
}

/** Decodes a token's position, without a manifest to check it against. */
export function decodeInventoryToken(token: string): InventoryPosition & { md5: string } {
  if (!isInventoryToken(token)) throw invalidToken(`must start with ${INVENTORY_TOKEN_PREFIX}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token.slice(INVENTORY_TOKEN_PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    throw invalidToken('is not one this source wrote (not base64url JSON)');
  }
  const p = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const file = p.f;
  const row = p.r;
  if (typeof file !== 'number' || !Number.isSafeInteger(file) || file < 0)
    throw invalidToken('has no valid file index');
  if (typeof row !== 'number' || !Number.isSafeInteger(row) || row < 0) throw invalidToken('has no valid row offset');
  if (typeof p.m !== 'string') throw invalidToken('has no data file checksum');
  return { file, row, md5: p.m };
}

/** Decodes a token and checks it points into `manifest`. */
export function resumePosition(token: string, manifest: InventoryManifest): InventoryPosition {
  const position = decodeInventoryToken(token);
  const file = manifest.files[position.file];
  if (file === undefined || file.md5 !== position.md5) {
    throw invalidToken(`points to data file ${position.file}, which this manifest does not list (another inventory?)`);
  }
  return { file: position.file, row: position.row };
}
