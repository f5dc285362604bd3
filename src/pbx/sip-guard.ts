/**
 * Hardening at the SIP edge, like fail2ban in front of a PBX, scoped to what the failures show
 * (issue 12): every phone behind one office NAT shares an address, so one phone with a wrong
 * password must not silence the others.
 *
 * - Repeated digest failures for one username from one address lock that username at that
 *   address: its requests get `403` until the lock ends; other users there keep working.
 * - Failures for many different usernames from one address (enumeration, as sipvicious
 *   `svwar`/`svcrack` do) ban the address: nothing from it is answered until the ban ends.
 * - Trusted networks (CIDRs) are never locked or banned.
 * - Requests whose User-Agent names a known attack tool are dropped silently (they learn
 *   nothing, not even that a SIP server is there) and counted.
 *
 * State is in memory, per node; a restart lifts every ban.
 */
import { BlockList, isIPv6 } from 'node:net';

export interface SipGuardOptions {
  /** Failed digest attempts for one username from one address within `windowMs` before that username is locked there. Default 10. */
  maxFailures?: number;
  /** Distinct usernames failing from one address within `windowMs` before the address is banned. Default 10. */
  maxUsernames?: number;
  /** Default 60 000. */
  windowMs?: number;
  /** Length of an address ban. Default 600 000. */
  banMs?: number;
  /** Length of a username lock. Default 600 000. */
  userBanMs?: number;
  /** CIDRs (`10.0.0.0/8`, `2001:db8::/32`) or addresses never locked or banned. */
  trustedNetworks?: readonly string[];
  now?: () => number;
  /** Substrings of User-Agent values to drop (case-insensitive). Default {@link DEFAULT_SCANNER_AGENTS}. */
  scannerAgents?: readonly string[];
  /** Addresses whose failures are tracked at once (older ones are forgotten first). Default 100 000. */
  maxTrackedIps?: number;
}

/** What digest authentication asks of a guard: the main thread's {@link SipGuard}, or a shard's view of it. */
export type GuardDecisions = Pick<SipGuard, 'isLocked' | 'recordFailure' | 'recordSuccess'>;

/** A ban or lock that started (`ban`) or was lifted before its time (`lift`). */
export type SipBanChange = { kind: 'ban' | 'lift'; ban: SipBan };

/**
 * The classic SIP attack tools' User-Agents: sipvicious (`friendly-scanner` is its default
 * disguise), sipcli, VaxSIPUserAgent, sip-scan, iWar, SIPScan, smap, sundayddr, pplsip.
 * Not `sipsak`: a common admin tool for checking a server (issue 12).
 */
export const DEFAULT_SCANNER_AGENTS: readonly string[] = [
  'friendly-scanner', 'sipvicious', 'sipcli', 'vaxsipuseragent', 'sip-scan', 'iwar', 'sipscan', 'smap', 'sundayddr', 'pplsip',
];

/** Why a ban was set; stable strings for the API and logs. */
export type SipBanReason = 'repeated_failures' | 'username_enumeration';

/** An address ban (`username` null) or a username locked at an address. */
export interface SipBan {
  readonly id: number;
  readonly address: string;
  readonly username: string | null;
  readonly reason: SipBanReason;
  /** Epoch ms. */
  readonly createdAt: number;
  readonly expiresAt: number;
  /** Failures (or distinct usernames for enumeration) that triggered it. */
  readonly count: number;
}

interface Tracked {
  windowStart: number;
  /** Failures per username within the window ('' = credentials without a username). */
  users: Map<string, number>;
}

const userKey = (address: string, username: string) => `${address}\u0000${username}`;

export class SipGuard {
  private readonly tracked = new Map<string, Tracked>();
  private readonly addressBans = new Map<string, SipBan>();
  private readonly userBans = new Map<string, SipBan>();
  private readonly maxFailures: number;
  private readonly maxUsernames: number;
  private readonly windowMs: number;
  private readonly banMs: number;
  private readonly userBanMs: number;
  private readonly trusted: BlockList | null;
  private readonly now: () => number;
  private readonly scanners: readonly string[];
  private readonly maxTracked: number;
  private nextId = 1;
  /** Bans and locks set since start. */
  bans = 0;
  /** Requests dropped for their User-Agent since start. */
  scannerDrops = 0;
  /** Told of every ban that starts and every early lift (registrar shards keep a copy of the locks). */
  onChange: ((change: SipBanChange) => void) | undefined;

  constructor(opts: SipGuardOptions = {}) {
    this.maxFailures = opts.maxFailures ?? 10;
    this.maxUsernames = opts.maxUsernames ?? 10;
    this.windowMs = opts.windowMs ?? 60_000;
    this.banMs = opts.banMs ?? 600_000;
    this.userBanMs = opts.userBanMs ?? 600_000;
    this.now = opts.now ?? Date.now;
    this.scanners = (opts.scannerAgents ?? DEFAULT_SCANNER_AGENTS).map((s) => s.toLowerCase()).filter((s) => s !== '');
    this.maxTracked = opts.maxTrackedIps ?? 100_000;
    this.trusted = opts.trustedNetworks?.length ? trustedList(opts.trustedNetworks) : null;
  }

  /** True while `ip` is banned (drop everything from it). Per message: one map lookup. */
  isBanned(ip: string): boolean {
    if (this.addressBans.size === 0) return false;
    const b = this.addressBans.get(ip);
    if (b === undefined) return false;
    if (b.expiresAt > this.now()) return true;
    this.addressBans.delete(ip);
    return false;
  }

  /** True while `username` is locked at `ip`. */
  isLocked(ip: string, username: string | null | undefined): boolean {
    if (this.userBans.size === 0 || username == null) return false;
    const key = userKey(ip, username);
    const b = this.userBans.get(key);
    if (b === undefined) return false;
    if (b.expiresAt > this.now()) return true;
    this.userBans.delete(key);
    return false;
  }

  /** True for trusted addresses (never locked or banned). */
  isTrusted(ip: string): boolean {
    return this.trusted !== null && this.trusted.check(ip, isIPv6(ip) ? 'ipv6' : 'ipv4');
  }

  /** True (and counted) when the User-Agent names a scanner on the list. */
  isScanner(userAgent: string | null): boolean {
    if (!userAgent || this.scanners.length === 0) return false;
    const ua = userAgent.toLowerCase();
    for (const s of this.scanners) if (ua.includes(s)) { this.scannerDrops++; return true; }
    return false;
  }

  /**
   * Records a failed digest attempt for `username` (null when the credentials named none)
   * from `ip`. Returns the ban this failure starts, if any: a lock of the username at the
   * address, or a ban of the address when too many usernames failed from it.
   */
  recordFailure(ip: string, username: string | null = null): SipBan | null {
    if (this.isTrusted(ip)) return null;
    const now = this.now();
    let t = this.tracked.get(ip);
    if (t === undefined) {
      if (this.tracked.size >= this.maxTracked) this.prune(now);
      t = { windowStart: now, users: new Map() };
      this.tracked.set(ip, t);
    } else if (now - t.windowStart > this.windowMs) {
      t.windowStart = now;
      t.users.clear();
    }
    const user = username ?? '';
    const n = (t.users.get(user) ?? 0) + 1;
    t.users.set(user, n);
    if (t.users.size >= this.maxUsernames && !this.isBanned(ip)) {
      const count = t.users.size;
      this.tracked.delete(ip);
      return this.add(this.addressBans, ip, { address: ip, username: null, reason: 'username_enumeration', count }, now, this.banMs);
    }
    if (n >= this.maxFailures && !this.isLocked(ip, user)) {
      t.users.delete(user);
      return this.add(this.userBans, userKey(ip, user), { address: ip, username: user, reason: 'repeated_failures', count: n }, now, this.userBanMs);
    }
    return null;
  }

  /** A successful authentication: earlier failures of `username` at `ip` are forgiven. */
  recordSuccess(ip: string, username: string): void {
    this.tracked.get(ip)?.users.delete(username);
  }

  /** Bans and locks in force, oldest first. */
  list(): SipBan[] {
    const now = this.now();
    const out: SipBan[] = [];
    for (const m of [this.addressBans, this.userBans]) {
      for (const [k, b] of m) if (b.expiresAt > now) out.push(b); else m.delete(k);
    }
    return out.sort((a, b) => a.id - b.id);
  }

  /** Lifts a ban or lock (and forgets the failures behind it); false when no such ban is in force. */
  lift(id: number): boolean {
    for (const m of [this.addressBans, this.userBans]) {
      for (const [k, b] of m) {
        if (b.id !== id) continue;
        m.delete(k);
        this.onChange?.({ kind: 'lift', ban: b });
        const t = this.tracked.get(b.address);
        if (b.username === null) this.tracked.delete(b.address);
        else t?.users.delete(b.username);
        return b.expiresAt > this.now();
      }
    }
    return false;
  }

  /** Addresses banned now (for the status page). */
  bannedIps(): string[] {
    return this.list().filter((b) => b.username === null).map((b) => b.address);
  }

  /** Usernames locked at an address now. */
  lockedUsers(): number {
    return this.list().filter((b) => b.username !== null).length;
  }

  private add(m: Map<string, SipBan>, key: string, b: Omit<SipBan, 'id' | 'createdAt' | 'expiresAt'>, now: number, ms: number): SipBan {
    const ban: SipBan = { id: this.nextId++, ...b, createdAt: now, expiresAt: now + ms };
    m.set(key, ban);
    this.bans++;
    this.onChange?.({ kind: 'ban', ban });
    return ban;
  }

  private prune(now: number): void {
    for (const [ip, t] of this.tracked) if (now - t.windowStart > this.windowMs) this.tracked.delete(ip);
    if (this.tracked.size >= this.maxTracked) {
      const first = this.tracked.keys().next();
      if (!first.done) this.tracked.delete(first.value);
    }
  }
}

/**
 * A BlockList from CIDRs or single addresses; throws a RangeError naming a bad entry.
 *
 * @example
 * trustedList(['10.0.0.0/8', '192.0.2.7', '2001:db8::/32']);
 */
export function trustedList(networks: readonly string[]): BlockList {
  const list = new BlockList();
  for (const n of networks) {
    const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(n.trim());
    const address = m?.[1] ?? '';
    const family = isIPv6(address) ? 'ipv6' : /^\d{1,3}(\.\d{1,3}){3}$/.test(address) ? 'ipv4' : null;
    const max = family === 'ipv6' ? 128 : 32;
    const prefix = m?.[2] === undefined ? max : Number(m[2]);
    if (family === null || prefix > max || (family === 'ipv4' && address.split('.').some((o) => Number(o) > 255))) {
      throw new RangeError(`not an address or CIDR: "${n}"`);
    }
    list.addSubnet(address, prefix, family);
  }
  return list;
}
