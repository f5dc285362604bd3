/**
 * A registrar shard's view of the main thread's {@link SipGuard}: the guard counts every
 * digest failure (so a lock or an enumeration ban sees all shards' failures, and the API lists
 * and lifts them in one place); the shard reports its outcomes and keeps a copy of the username
 * locks the guard announces, to answer `403` itself. A lock reaches the shard one message after
 * the failure that started it: a burst may get a few more `401`s than a single thread gives.
 */
import type { GuardDecisions, SipBan, SipBanChange } from './sip-guard.ts';

const userKey = (address: string, username: string) => `${address}\u0000${username}`;

export class ShardGuard implements GuardDecisions {
  /** address + username → when the lock ends. */
  private readonly locks = new Map<string, number>();

  constructor(
    /** Told of each digest outcome, for the main thread's guard. */
    private readonly report: (ok: boolean, ip: string, username: string | null) => void,
    locks: readonly SipBan[] = [],
    private readonly now: () => number = Date.now,
  ) {
    for (const ban of locks) this.apply({ kind: 'ban', ban });
  }

  isLocked(ip: string, username: string | null | undefined): boolean {
    if (this.locks.size === 0 || username == null) return false;
    const key = userKey(ip, username);
    const until = this.locks.get(key);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.locks.delete(key);
    return false;
  }

  /** Counted by the main thread, which logs and announces a lock it starts: none is returned here. */
  recordFailure(ip: string, username: string | null = null): SipBan | null {
    this.report(false, ip, username);
    return null;
  }

  recordSuccess(ip: string, username: string): void {
    this.report(true, ip, username);
  }

  /** A change the main thread's guard announced; address bans are enforced there, before a message reaches a shard. */
  apply(change: SipBanChange): void {
    const { ban } = change;
    if (ban.username === null) return;
    const key = userKey(ban.address, ban.username);
    if (change.kind === 'ban') this.locks.set(key, ban.expiresAt);
    else this.locks.delete(key);
  }
}
