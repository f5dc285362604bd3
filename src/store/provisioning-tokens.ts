/**
 * Provisioning tokens: long random secrets in a phone's provisioning URL. Stored as SHA-256
 * (256 random bits need no slow hash; a lookup by hash is one index probe), so the plaintext
 * exists only in the answer that created it.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ProvisioningTokenRow } from './schema.ts';
import { isoNow } from './time.ts';
import type { Db } from './db.ts';

export type TokenState = 'active' | 'expired' | 'revoked';

export interface ProvisioningToken {
  id: number;
  device_id: number;
  token_prefix: string;
  state: TokenState;
  expires_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
  use_count: number;
  created_at: string;
}

/** 32 random bytes, base64url: 43 characters, URL-safe. */
const TOKEN_BYTES = 32;
const PREFIX_LENGTH = 6;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function tokenState(row: Pick<ProvisioningTokenRow, 'revoked_at' | 'expires_at'>, now = Date.now()): TokenState {
  if (row.revoked_at !== null) return 'revoked';
  return Date.parse(row.expires_at) <= now ? 'expired' : 'active';
}

export function toProvisioningToken(row: ProvisioningTokenRow, now = Date.now()): ProvisioningToken {
  return {
    id: row.id, device_id: row.device_id, token_prefix: row.token_prefix, state: tokenState(row, now),
    expires_at: row.expires_at, revoked_at: row.revoked_at, last_used_at: row.last_used_at,
    use_count: row.use_count, created_at: row.created_at,
  };
}

/** Creates a token; returns the row and the plaintext, which is not stored anywhere. */
export async function createToken(db: Db, t: { deviceId: number; expiresInMs: number; createdBy: number | null; now?: number }): Promise<{ row: ProvisioningTokenRow; token: string }> {
  const token = randomBytes(TOKEN_BYTES).toString('base64url');
  const now = t.now ?? Date.now();
  const row = await db.insertInto('provisioning_tokens').values({
    device_id: t.deviceId,
    token_hash: hashToken(token),
    token_prefix: token.slice(0, PREFIX_LENGTH),
    expires_at: isoNow(now + t.expiresInMs),
    created_by: t.createdBy,
    created_at: isoNow(now),
  }).returningAll().executeTakeFirstOrThrow();
  return { row, token };
}

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** The token's row; undefined for an unknown token and, without a query, for anything not shaped like one. */
export async function findTokenByPlaintext(db: Db, token: string): Promise<ProvisioningTokenRow | undefined> {
  if (!TOKEN_SHAPE.test(token)) return undefined;
  return db.selectFrom('provisioning_tokens').selectAll().where('token_hash', '=', hashToken(token)).executeTakeFirst();
}

export async function findTokenById(db: Db, id: number): Promise<ProvisioningTokenRow | undefined> {
  return db.selectFrom('provisioning_tokens').selectAll().where('id', '=', id).executeTakeFirst();
}

/** A page of tokens, newest first; `deviceIds` non-null restricts to those devices. */
export async function listTokens(db: Db, deviceIds: readonly number[] | null, limit: number, offset: number): Promise<{ rows: ProvisioningTokenRow[]; total: number }> {
  if (deviceIds !== null && deviceIds.length === 0) return { rows: [], total: 0 };
  let q = db.selectFrom('provisioning_tokens');
  if (deviceIds !== null) q = q.where('device_id', 'in', deviceIds);
  const [rows, count] = await Promise.all([
    q.selectAll().orderBy('id', 'desc').limit(limit).offset(offset).execute(),
    q.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n) };
}

/** Revokes a token (idempotent: a revoked token keeps its first revocation time). */
export async function revokeToken(db: Db, id: number): Promise<ProvisioningTokenRow | undefined> {
  await db.updateTable('provisioning_tokens').set({ revoked_at: isoNow() })
    .where('id', '=', id).where('revoked_at', 'is', null).execute();
  return findTokenById(db, id);
}

export async function recordTokenUse(db: Db, id: number): Promise<void> {
  await db.updateTable('provisioning_tokens')
    .set((eb) => ({ use_count: eb('use_count', '+', 1), last_used_at: isoNow() }))
    .where('id', '=', id).execute();
}
