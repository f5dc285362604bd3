/**
 * Session timers (RFC 4028) on the leg where we are the UAS: validate the caller's
 * Session-Expires against our Min-SE (422 when too small, §8.1), and, when the caller supports
 * timers, answer with the interval and let the caller refresh (refresher=uac, §9). A session
 * that is not refreshed in time is torn down by the non-refresher: us (§10).
 */
import type { SipMessage } from '../sip/message.ts';

export const DEFAULT_MIN_SE = 90;

export type SessionTimerDecision =
  | { kind: 'off' }
  | { kind: 'too_small'; minSe: number }
  | { kind: 'on'; interval: number; refresher: 'uac' | 'uas' };

function deltaSeconds(value: string | null): { seconds: number; refresher: string | null } | null {
  if (value === null) return null;
  const m = /^\s*(\d{1,10})\s*(?:;(.*))?$/.exec(value);
  if (!m) return null;
  const refresher = /(?:^|;)\s*refresher\s*=\s*(uac|uas)\s*(?:;|$)/i.exec(m[2] ?? '');
  return { seconds: Number(m[1]), refresher: refresher ? refresher[1]!.toLowerCase() : null };
}

function listsTag(msg: SipMessage, header: string, tag: string): boolean {
  return msg.getHeaders(header).some((v) => v.trim().toLowerCase() === tag);
}

/**
 * @param ourMinSe the smallest interval we accept (≥ 90 s per §4)
 * @param defaultInterval interval we grant when the caller supports timers but asked for none
 */
export function negotiateSessionTimer(invite: SipMessage, ourMinSe = DEFAULT_MIN_SE, defaultInterval = 1800): SessionTimerDecision {
  const se = deltaSeconds(invite.getHeader('session-expires'));
  const callerMinSe = deltaSeconds(invite.getHeader('min-se'))?.seconds ?? 0;
  const minSe = Math.max(ourMinSe, callerMinSe);
  if (se && se.seconds < minSe) return { kind: 'too_small', minSe };
  const supported = listsTag(invite, 'supported', 'timer') || listsTag(invite, 'require', 'timer');
  if (!supported) return { kind: 'off' };
  const interval = se ? se.seconds : Math.max(defaultInterval, minSe);
  // The caller refreshes unless it asked us to; we are then the one that must send refreshes.
  const refresher = se?.refresher === 'uas' ? 'uas' : 'uac';
  return { kind: 'on', interval, refresher };
}

/** Headers for our 2xx when timers are on (§9: Require: timer because the UAC supports it). */
export function sessionTimerHeaders(d: Extract<SessionTimerDecision, { kind: 'on' }>): Record<string, string> {
  return { 'Session-Expires': `${d.interval};refresher=${d.refresher}`, Require: 'timer' };
}

/** When the non-refresher gives up on a session (§10): SE minus min(32, SE/3) seconds. */
export function expiryDelayMs(interval: number): number {
  return (interval - Math.min(32, interval / 3)) * 1000;
}
