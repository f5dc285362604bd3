/**
 * Why a backup archive was refused. Each reason has a stable code the API returns in
 * `error.details.reason`, so a client (or an operator reading logs) can tell a truncated
 * download from a tampered file or an archive made with another secret key.
 */
export const BACKUP_ERRORS = {
  backup_missing_file: 'no file in the "file" field',
  backup_corrupt: 'the archive is not a readable tar.gz',
  backup_unsafe_entry: 'the archive holds an unsafe or unexpected entry',
  backup_manifest_invalid: 'manifest.json is missing or malformed',
  backup_incompatible: 'the backup was made by an incompatible version',
  backup_checksum_mismatch: 'a file does not match its checksum in the manifest',
  backup_row_invalid: 'a table row does not parse or does not fit the schema',
  backup_wrong_key: 'the backup was sealed with a different STROWGER_SECRET_KEY',
  backup_too_large: 'the archive unpacks to more than the allowed size',
  backup_busy: 'another restore is running',
} as const;

export type BackupErrorCode = keyof typeof BACKUP_ERRORS;

export class BackupError extends Error {
  constructor(readonly code: BackupErrorCode, detail: string, options?: { cause?: unknown }) {
    super(`${BACKUP_ERRORS[code]}: ${detail}`, options);
    this.name = 'BackupError';
  }
}
