import type { Kysely } from 'kysely';

/**
 * Trunks located by DNS (RFC 3263) and reached over verified TLS (issue 12).
 * - `port` 0 and `transport` 'auto' now mean "not given" (the API shows null): without a port
 *   the trunk's SRV records are looked up, without a transport its NAPTR records. The columns
 *   stay NOT NULL (SQLite cannot relax that without rebuilding the table); existing rows keep
 *   their explicit port and transport, so they resolve exactly as before (A/AAAA only).
 * - `tls_verify` (1 = check the certificate chain and name, the default; 0 = skip, logged),
 *   `tls_ca` (PEM trusted in addition to the system CAs), `tls_fingerprint` (SHA-256 of the
 *   server's certificate, upper-case hex with colons: pinned, accepted whatever its chain).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('trunks').addColumn('tls_verify', 'integer', (c) => c.notNull().defaultTo(1)).execute();
  await db.schema.alterTable('trunks').addColumn('tls_ca', 'text').execute();
  await db.schema.alterTable('trunks').addColumn('tls_fingerprint', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('trunks').dropColumn('tls_fingerprint').execute();
  await db.schema.alterTable('trunks').dropColumn('tls_ca').execute();
  await db.schema.alterTable('trunks').dropColumn('tls_verify').execute();
}
