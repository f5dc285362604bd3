/**
 * What a call shard (`call-shard-worker.ts`) does not carry, and hands to the main thread with
 * the INVITE's bytes: calls that need what only the main thread has.
 *
 * - before authentication: a caller over WebSocket (its WebRTC endpoint and connection live on
 *   the main thread); an offer with `a=zrtp-hash` (ZRTP runs there); a number the main thread
 *   answers itself (the voicemail menu, rooms and the room IVR, the call gateway's app numbers);
 *   an INVITE with Replaces naming no call of this shard;
 * - after routing: voicemail (as the target or the fallback) and WebRTC callees.
 *
 * The shard's transaction for the INVITE ends without a final answer (a 100 may have left);
 * the main thread adopts the Call-ID, so the rest of the call goes there. An INVITE with
 * Replaces the main thread does not hold either goes on from there to the shard holding the
 * replaced dialog ({@link createMainHandOff}).
 */
import type { IncomingRequest } from '../sip/endpoint.ts';
import { replacesOfRequest } from '../sip/replaces-dialog.ts';
import type { Db } from '../store/db.ts';
import type { SecretBox } from '../store/secret-box.ts';
import { findCallNumber } from '../store/call-numbers.ts';
import type { CallHandOff } from './b2bua.ts';
import type { RouteDecision } from './call-router.ts';
import { webRtcSides } from './webrtc-legs.ts';
import { MAIN } from './call-shard-route.ts';

export interface HandOffDeps {
  db: Db;
  box: SecretBox;
  voicemailNumber: string | undefined;
  /** True for user parts that reach rooms or the room IVR. */
  isRoomNumber(user: string): boolean;
  /** Posts the request to thread `owner`. */
  post(data: Buffer, source: IncomingRequest['source'], owner: number): void;
}

const ZRTP_HASH = /^a=zrtp-hash:/im;

function dialedOf(r: IncomingRequest): string {
  const uri = r.msg.requestUri;
  return uri.scheme === 'tel' ? (uri.opaque ?? uri.host) : (uri.user ?? '');
}

export function createCallHandOff(deps: HandOffDeps): CallHandOff & { readonly count: number } {
  let count = 0;
  const give = (r: IncomingRequest): true => {
    count++;
    deps.post(r.msg.toBuffer(), r.source, MAIN);
    r.tx.terminate();
    return true;
  };
  const mainAnswers = async (dialed: string): Promise<boolean> => {
    if (dialed === '') return false;
    if (dialed === deps.voicemailNumber || deps.isRoomNumber(dialed)) return true;
    if (await findCallNumber(deps.db, deps.box, dialed)) return true;
    return !dialed.startsWith('+') && (await findCallNumber(deps.db, deps.box, `+${dialed}`)) !== undefined;
  };
  return {
    get count() { return count; },
    async early(r, hasCall) {
      const protocol = r.source.protocol;
      if (protocol === 'ws' || protocol === 'wss') return give(r);
      if (r.msg.body.length > 0 && ZRTP_HASH.test(r.msg.body.toString('latin1'))) return give(r);
      const replaces = replacedCallId(r);
      if (replaces !== null && !hasCall(replaces)) return give(r);
      if (await mainAnswers(dialedOf(r))) return give(r);
      return false;
    },
    routed(r, decision: RouteDecision) {
      if (decision.kind !== 'dial') return false;
      if (decision.local !== undefined || decision.fallback !== undefined) return give(r);
      const [caller, callee] = webRtcSides(r.msg.body, decision.targets);
      return caller || callee ? give(r) : false;
    },
  };
}

/** The Call-ID an INVITE's Replaces header names; null without one, or a malformed one (the B2BUA answers 400 as without shards). */
function replacedCallId(r: IncomingRequest): string | null {
  try {
    return replacesOfRequest(r.msg)?.callId ?? null;
  } catch {
    return null;
  }
}

/** What the main thread's hand-off needs of the shards (`CallShards.forwardReplaces`). */
export interface ReplacesForwarder {
  forwardReplaces(data: Buffer, source: IncomingRequest['source'], callId: string, replacedCallId: string): boolean;
}

/**
 * The main thread's hand-off: an INVITE with Replaces (RFC 3891) naming a dialog of no call here
 * goes on to the shard the replaced Call-ID belongs to, which carries that call. Everything
 * else stays.
 */
export function createMainHandOff(shards: ReplacesForwarder): CallHandOff {
  return {
    async early(r, hasCall) {
      const replaced = replacedCallId(r);
      if (replaced === null || hasCall(replaced)) return false;
      if (!shards.forwardReplaces(r.msg.toBuffer(), r.source, r.msg.callId, replaced)) return false;
      r.tx.terminate();
      return true;
    },
    routed: () => false,
  };
}
