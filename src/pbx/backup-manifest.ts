/**
 * `manifest.json`, the table of contents of a backup archive:
 *
 *   {
 *     "format": "strowger-backup", "format_version": 1,
 *     "created_at": "2026-11-24T10:00:00.000Z", "app_version": "0.1.0",
 *     "engine": "sqlite", "migration": "2026-11-24-001-initial",
 *     "key_id": "3f2a…",                       // fingerprint of the secret key (not the key)
 *     "tables": { "users": { "file": "db/users.jsonl", "rows": 2, "sha256": "…" }, … },
 *     "files":  [ { "path": "media/vm/1.wav", "size": 1234, "sha256": "…" } ]
 *   }
 *
 * Every other entry of the archive must be listed here with its checksum.
 */
import { createHash } from 'node:crypto';

export const BACKUP_FORMAT = 'strowger-backup';
export const BACKUP_FORMAT_VERSION = 1;
export const MANIFEST_NAME = 'manifest.json';

export interface ManifestTable {
  file: string;
  rows: number;
  sha256: string;
}

export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
}

export interface Manifest {
  format: typeof BACKUP_FORMAT;
  format_version: number;
  created_at: string;
  app_version: string;
  engine: 'sqlite' | 'postgres';
  migration: string | null;
  key_id: string;
  tables: Record<string, ManifestTable>;
  files: ManifestFile[];
}

/**
 * Identifies the secret key without revealing it: sealed columns (system_config secrets,
 * device passwords) only open under the key that sealed them, so restore checks this first.
 */
export function secretKeyId(secretKey: Buffer): string {
  return createHash('sha256').update('strowger-backup-key-id\u0000').update(secretKey).digest('hex').slice(0, 16);
}

export const tableFile = (table: string) => `db/${table}.jsonl`;

const SHA256 = /^[0-9a-f]{64}$/;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** Checks the shape of a parsed manifest; returns the problem, or null when it is well-formed. */
export function manifestProblem(m: unknown): string | null {
  if (!isObject(m)) return 'not a JSON object';
  if (m.format !== BACKUP_FORMAT) return `format must be "${BACKUP_FORMAT}"`;
  if (!Number.isInteger(m.format_version)) return 'format_version must be an integer';
  for (const k of ['created_at', 'app_version', 'key_id'] as const) {
    if (typeof m[k] !== 'string') return `${k} must be a string`;
  }
  if (m.engine !== 'sqlite' && m.engine !== 'postgres') return 'engine must be "sqlite" or "postgres"';
  if (m.migration !== null && typeof m.migration !== 'string') return 'migration must be a string or null';
  if (!isObject(m.tables)) return 'tables must be an object';
  for (const [name, t] of Object.entries(m.tables)) {
    if (!isObject(t) || t.file !== tableFile(name) || !isCount(t.rows) || typeof t.sha256 !== 'string' || !SHA256.test(t.sha256)) {
      return `tables.${name} must be {file: "${tableFile(name)}", rows, sha256}`;
    }
  }
  if (!Array.isArray(m.files)) return 'files must be an array';
  for (const [i, f] of m.files.entries()) {
    if (!isObject(f) || typeof f.path !== 'string' || !isCount(f.size) || typeof f.sha256 !== 'string' || !SHA256.test(f.sha256)) {
      return `files[${i}] must be {path, size, sha256}`;
    }
  }
  return null;
}
