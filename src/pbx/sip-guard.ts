/**
 * Hardening at the SIP edge: sources that fail digest auth too often are banned (no answer
 * at all for the ban period, like fail2ban in front of a PBX), and requests from known
 * scanners are dropped silently so they learn nothing.
 */

export interface SipGuardOptions {
  /** Failed digest attempts from one IP within `windowMs` before a ban. Default 10. */
  maxFailures?: number;
  windowMs?: number;
  banMs?: number;
  now?: () => number;
  /** Lower-case substrings of User-Agent values to drop. */
  scannerAgents?: readonly string[];
  maxTrackedIps?: number;
}

export const DEFAULT_SCANNER_AGENTS: readonly string[] = [
  'friendly-scanner', 'sipvicious', 'sipcli', 'sip-scan', 'sipsak', 'iwar', 'sundayddr', 'vaxsipuseragent', 'pplsip', 'smap',
];

interface Entry {
  count: number;
  windowStart: number;
  bannedUntil: number;
}

export class SipGuard {
  private readonly entries = new Map<string, Entry>();
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly banMs: number;
  private readonly now: () => number;
  private readonly scanners: readonly string[];
  private readonly maxTracked: number;
  bans = 0;
  scannerDrops = 0;

  constructor(opts: SipGuardOptions = {}) {
    this.maxFailures = opts.maxFailures ?? 10;
    this.windowMs = opts.windowMs ?? 60_000;
    this.banMs = opts.banMs ?? 600_000;
    this.now = opts.now ?? Date.now;
    this.scanners = opts.scannerAgents ?? DEFAULT_SCANNER_AGENTS;
    this.maxTracked = opts.maxTrackedIps ?? 100_000;
  }

  isBanned(ip: string): boolean {
    const e = this.entries.get(ip);
    return e !== undefined && e.bannedUntil > this.now();
  }

  isScanner(userAgent: string | null): boolean {
    if (!userAgent) return false;
    const ua = userAgent.toLowerCase();
    for (const s of this.scanners) if (ua.includes(s)) { this.scannerDrops++; return true; }
    return false;
  }

  /** Records a failed digest attempt; returns true when this failure starts a ban. */
  recordFailure(ip: string): boolean {
    const now = this.now();
    let e = this.entries.get(ip);
    if (!e) {
      if (this.entries.size >= this.maxTracked) this.prune(now);
      e = { count: 0, windowStart: now, bannedUntil: 0 };
      this.entries.set(ip, e);
    }
    if (now - e.windowStart > this.windowMs) { e.count = 0; e.windowStart = now; }
    e.count++;
    if (e.count >= this.maxFailures && e.bannedUntil <= now) {
      e.bannedUntil = now + this.banMs;
      e.count = 0;
      this.bans++;
      return true;
    }
    return false;
  }

  bannedIps(): string[] {
    const now = this.now();
    return [...this.entries].filter(([, e]) => e.bannedUntil > now).map(([ip]) => ip);
  }

  private prune(now: number): void {
    for (const [ip, e] of this.entries) {
      if (e.bannedUntil <= now && now - e.windowStart > this.windowMs) this.entries.delete(ip);
    }
    if (this.entries.size >= this.maxTracked) {
      const first = this.entries.keys().next();
      if (!first.done) this.entries.delete(first.value);
    }
  }
}
