/**
 * Request checks a UAS core makes before its handler runs (RFC 3261 §8.2.1–§8.2.3, §16.3):
 * each returns the response to send, or null to go on.
 */
import type { SipMessage } from './message.ts';
import { copyString } from './copy-string.ts';

export interface CheckResult {
  status: number;
  reason?: string;
  headers?: Record<string, string>;
}

/** Methods RFC 3261 and its extensions define; others get 501, these get 405 when unhandled. */
export const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'INFO', 'REFER', 'MESSAGE', 'UPDATE',
]);

const SCHEMES: ReadonlySet<string> = new Set(['sip', 'sips', 'tel']);

/** §8.2.2.1: a Request-URI scheme we do not understand → 416. */
export function checkScheme(req: SipMessage): CheckResult | null {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(req.requestUriText);
  const scheme = m ? m[1]!.toLowerCase() : '';
  return SCHEMES.has(scheme) ? null : { status: 416, reason: 'Unsupported URI Scheme' };
}

/** §8.2.2.3 (and §16.3 step 4 for Proxy-Require, since we also route onward): unknown extensions → 420. */
export function checkRequire(req: SipMessage, supported: ReadonlySet<string>): CheckResult | null {
  if (req.method === 'ACK' || req.method === 'CANCEL') return null;
  const unsupported: string[] = [];
  for (const name of ['require', 'proxy-require']) {
    for (const v of req.getHeaders(name)) {
      const tag = v.trim().toLowerCase();
      if (tag && !supported.has(tag) && !unsupported.includes(tag)) unsupported.push(tag);
    }
  }
  return unsupported.length ? { status: 420, reason: 'Bad Extension', headers: { Unsupported: unsupported.join(', ') } } : null;
}

/** §8.2.3: a body of a type the method's handler cannot read → 415 with Accept. */
export function checkContentType(req: SipMessage, accept: ReadonlyMap<string, readonly string[]>): CheckResult | null {
  if (req.body.length === 0) return null;
  const allowed = accept.get(req.method);
  if (!allowed) return null;
  const type = (req.contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return allowed.includes(type) ? null : { status: 415, reason: 'Unsupported Media Type', headers: { Accept: allowed.join(', ') } };
}

/** Method dispatch: 501 for methods we do not know, 405 with Allow for known ones without a handler. */
export function checkMethod(req: SipMessage, handled: ReadonlySet<string>, allow: string): CheckResult | null {
  if (handled.has(req.method)) return null;
  if (!KNOWN_METHODS.has(req.method)) return { status: 501, reason: 'Not Implemented', headers: { Allow: allow } };
  return { status: 405, reason: 'Method Not Allowed', headers: { Allow: allow } };
}

/**
 * §8.2.2.2 merged requests: a request without To tag whose From tag, Call-ID and CSeq match a
 * transaction in progress but arrived on another branch (a fork that came back) → 482.
 */
export class MergedRequestDetector {
  private readonly inProgress = new Map<string, string>();

  /**
   * The key `req` is tracked under, or null when it is not (a To tag: in a dialog; no From
   * tag: nothing to match on). One flat string, not slices of the request: it is kept for the
   * transaction's life and must not keep the datagram's text.
   */
  static keyOf(req: SipMessage): string | null {
    if (req.toTag !== null) return null;
    const fromTag = req.fromTag;
    return fromTag === null ? null : copyString(`${fromTag}\u0000${req.callId}\u0000${req.cseq.seq}\u0000${req.method}`);
  }

  /** Returns a 482 result, or null and remembers the request (`key` from `keyOf`) until `done` is called with it. */
  check(key: string | null, branch: string): CheckResult | null {
    if (key === null) return null;
    const seen = this.inProgress.get(key);
    if (seen !== undefined && seen !== branch) return { status: 482, reason: 'Loop Detected' };
    this.inProgress.set(key, branch);
    return null;
  }

  done(key: string | null, branch: string): void {
    if (key !== null && this.inProgress.get(key) === branch) this.inProgress.delete(key);
  }

  get size(): number {
    return this.inProgress.size;
  }
}
