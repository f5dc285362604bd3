/**
 * Transaction matching keys (RFC 3261 §17.1.3 and §17.2.3).
 *
 * Server side, RFC 3261 requests (top Via branch starts with z9hG4bK):
 *   branch + sent-by + method, where ACK counts as INVITE. CANCEL keeps its
 *   own method, so it gets its own transaction; {@link inviteKeyForCancel}
 *   finds the INVITE it targets (§9.2).
 * Server side, RFC 2543 requests (no magic cookie), §17.2.3 last paragraphs:
 *   Request-URI, From tag, Call-ID, CSeq number, top Via and method (ACK as
 *   INVITE); the To tag too, except for INVITE/ACK where the INVITE has none
 *   and the ACK carries ours: the layer compares that one against the tag
 *   of the response the transaction sent.
 * Client side: top Via branch + CSeq method of the response.
 *
 * Keys are strings so one Map lookup matches; the prefixes keep the two
 * server forms apart.
 */
import { BRANCH_MAGIC_COOKIE } from './header-via.ts';
import type { SipMessage } from './message.ts';

/** True when `branch` is an RFC 3261 branch. */
export function isRfc3261Branch(branch: string | null | undefined): branch is string {
  return branch !== null && branch !== undefined && branch.length > BRANCH_MAGIC_COOKIE.length && branch.startsWith(BRANCH_MAGIC_COOKIE);
}

/**
 * Server key of an RFC 3261 request: branch + sent-by + method (§17.2.3). `join`, not a
 * template: the key lives as long as the transaction (32 s after the final response on UDP)
 * and a template leaves a tree of cons strings holding slices of the whole request text; join
 * writes one flat string.
 */
export function rfc3261ServerKey(branch: string, host: string, port: number | null | undefined, method: string): string {
  return ['3261', branch, `${host}:${port ?? ''}`, method].join('|');
}

/**
 * Key of the server transaction `req` belongs to, computed as if its method
 * were `method` (default: its own, with ACK -> INVITE). Undefined when the
 * request has no Via. Throws SipParseError on malformed Via/CSeq/From.
 */
export function serverTransactionKey(req: SipMessage, method?: string): string | undefined {
  const via = req.topVia;
  if (via === null) return undefined;
  const m = method ?? (req.method === 'ACK' ? 'INVITE' : req.method);
  const branch = via.branch;
  if (isRfc3261Branch(branch)) return rfc3261ServerKey(branch, via.host, via.port, m);
  // `join` for a flat string, as in rfc3261ServerKey: the key outlives the request.
  const parts = ['2543', req.requestUriText, req.fromTag ?? '', req.callId, req.cseq.seq, req.getHeader('via'), m];
  if (m !== 'INVITE') parts.push(req.toTag ?? '');
  return parts.join('|');
}

/** True when a key was built from an RFC 2543 request (no magic cookie). */
export function isRfc2543Key(key: string): boolean {
  return key.startsWith('2543|');
}

/** Key of the INVITE server transaction a CANCEL targets (§9.2). */
export function inviteKeyForCancel(cancel: SipMessage): string | undefined {
  return serverTransactionKey(cancel, 'INVITE');
}

/**
 * Key of the client transaction a response belongs to (§17.1.3): branch of
 * the top Via and CSeq method. Undefined without Via or branch.
 */
export function clientTransactionKey(msg: SipMessage): string | undefined {
  const branch = msg.topVia?.branch;
  if (branch === null || branch === undefined || branch === '') return undefined;
  return `${branch}|${msg.cseq.method}`;
}

/** Key of a client transaction from its request (same shape as {@link clientTransactionKey}). */
export function clientKeyFor(branch: string, method: string): string {
  return `${branch}|${method}`;
}
