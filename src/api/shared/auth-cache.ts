/**
 * Short-lived memory of which credential (SHA-256 of a session token or API key) belongs to
 * which user, so an authenticated request costs no credential query and no `last_used_at`
 * write. Only the credential → user mapping is kept: the user row (role, email) is read as
 * of now for each request (on SQLite from the store's read cache, which any write clears),
 * so role changes apply at once.
 *
 * Revocations on this node (logout, key delete, password change, restore) drop entries
 * immediately; on other nodes of a cluster an entry lives at most `ttlMs` (default 2 s).
 */
import type { ApiKeyScope } from '../../store/api-keys.ts';

export interface CachedCredential {
  userId: number;
  via: 'session' | 'api_key';
  apiKeyId: number | null;
  scopes: ApiKeyScope[] | null;
  /** Entry expiry, epoch ms. */
  expiresAt: number;
}

export interface CredentialCacheOptions {
  ttlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

export class CredentialCache {
  private readonly entries = new Map<string, CachedCredential>();
  private readonly touched = new Map<number, number>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  readonly now: () => number;

  constructor(opts: CredentialCacheOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 2000;
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  get(hash: string): CachedCredential | undefined {
    const e = this.entries.get(hash);
    if (e === undefined) return undefined;
    if (e.expiresAt <= this.now()) {
      this.entries.delete(hash);
      return undefined;
    }
    return e;
  }

  /** Remembers a credential for `ttlMs`. */
  set(hash: string, c: Omit<CachedCredential, 'expiresAt'>): CachedCredential {
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    const e = { ...c, expiresAt: this.now() + this.ttlMs };
    this.entries.set(hash, e);
    return e;
  }

  /** True at most once per `intervalMs` per API key: when its `last_used_at` should be written. */
  shouldTouch(apiKeyId: number, intervalMs: number): boolean {
    const now = this.now();
    const last = this.touched.get(apiKeyId);
    if (last !== undefined && now - last < intervalMs) return false;
    if (this.touched.size >= this.maxEntries) this.touched.clear();
    this.touched.set(apiKeyId, now);
    return true;
  }

  delete(hash: string): void {
    this.entries.delete(hash);
  }

  /** Drops every credential of one user (password change: other sessions end). */
  deleteUser(userId: number): void {
    for (const [k, e] of this.entries) if (e.userId === userId) this.entries.delete(k);
  }

  clear(): void {
    this.entries.clear();
    this.touched.clear();
  }
}
