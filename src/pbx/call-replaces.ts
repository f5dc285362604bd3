/**
 * An INVITE with Replaces (RFC 3891) for a dialog of one of our calls: a phone takes over
 * that dialog's party (call pickup, an attended transfer completed between phones, RFC 5589
 * §7.2). The new INVITE's sender is authenticated like any INVITE (device digest or an inbound
 * trunk's address) before this runs.
 *
 * - The Replaces names the dialog as we see it (RFC 3891 §3): to-tag ours, from-tag the peer's.
 *   No such dialog → 481; a call that ended → 603; a confirmed dialog with `early-only` → 486;
 *   an early dialog we did not initiate (a caller still ringing here) → 481. Early dialogs
 *   towards callees are not indexed (only answered ones are), so they answer 481 too.
 * - Accepted: a media endpoint for the new party is created next to the other party's (the
 *   engine links workers when needed), the new INVITE's offer is answered by us with the other
 *   party's codec when offered (zero-decode relay; else transcoding), the new leg takes the
 *   replaced party's side (`CallTransfers.swap`: bridge, CDR of the pairing before with cause
 *   `replaced`, a new `call_id` for the rest), our 200 goes out once that is journaled, and the
 *   replaced dialog gets a BYE (§3). The other party's SDP with us does not change.
 * - An INVITE without an offer is refused with 488 (we answer offers; a late offer would need
 *   our offer in the 2xx and its answer in the ACK, which no Replaces sender we know uses).
 */
import type { Logger } from 'pino';
import type { IncomingRequest } from '../sip/endpoint.ts';
import { replacesDecision, replacesDialogKey, type Replaces } from '../sip/index.ts';
import type { MediaEngine } from '../media/media-engine.ts';
import type { Call } from './call.ts';
import { sdpFailure } from './call-outcome.ts';
import type { CallTransfers } from './call-transfer.ts';
import { answerOffer, createLegMedia } from './anchor-sdp.ts';
import { offerFamily } from './media-family.ts';
import { SipUasLeg } from './leg-sip-uas.ts';
import type { SipLegEnv } from './leg-sip.ts';
import type { SessionTimerDecision } from './session-timer.ts';

export interface ReplacesEnv {
  legEnv: SipLegEnv;
  media: Pick<MediaEngine, 'createLeg' | 'releaseLeg' | 'setRemote' | 'setCodec' | 'setSrtp'>;
  domain: string;
  log: Logger;
  transfers: CallTransfers;
  /** The call and side a dialog key (`Dialog.key`) belongs to. */
  findDialog(key: string): { call: Call; side: 'a' | 'b' } | undefined;
}

const REASONS: Record<number, string> = { 481: 'Call/Transaction Does Not Exist', 486: 'Busy Here', 491: 'Request Pending', 603: 'Decline' };

/** Who sent the INVITE with Replaces, as CDRs will name the new party. */
export interface ReplacingParty {
  name: string;
  deviceId: number | null;
}

/** Answers an INVITE carrying `replaces` (see the module comment). */
export async function inviteWithReplaces(env: ReplacesEnv, r: IncomingRequest, replaces: Replaces, who: ReplacingParty, sessionTimer: SessionTimerDecision): Promise<void> {
  const hit = env.findDialog(replacesDialogKey(replaces));
  const call = hit?.call;
  const state = !call ? null : call.state === 'answered' ? 'confirmed' : call.state === 'ended' ? 'terminated' : 'early';
  let status: number = replacesDecision(replaces, state === null ? null : { state, initiatedLocally: hit!.side === 'b' });
  // Early dialogs we initiated are never indexed (see the module comment): nothing to take over.
  if (status === 0 && state !== 'confirmed') status = 481;
  if (status === 0 && (call!.hold.pending || env.transfers.isPending(call!.id))) status = 491;
  if (status !== 0 || !hit || !call) { r.reply(status, REASONS[status]); return; }
  if (r.msg.body.length === 0) { r.reply(488, 'Not Acceptable Here', { headers: { Warning: `399 ${env.domain} "an INVITE with Replaces must carry an SDP offer"` } }); return; }
  const side = hit.side;
  const other = call.party(side === 'a' ? 'b' : 'a')!;
  const info = await env.media.createLeg({ near: other.media.endpoint.id, family: offerFamily(r.msg.body, 4) });
  const media = createLegMedia(info);
  let answer: string;
  try {
    answer = await answerOffer(env.media, r.msg.body, media, other.media.codec);
  } catch (err) {
    void env.media.releaseLeg(info.id).catch(() => {});
    const f = sdpFailure(err, env.domain);
    if (!f) throw err;
    r.reply(f.status, f.reason, { headers: f.headers });
    return;
  }
  const leg = new SipUasLeg(env.legEnv, { bindDialog: () => {}, failed: () => {} }, media, r);
  leg.sessionTimer = sessionTimer;
  let old;
  try {
    old = await env.transfers.swap(call, side, leg, who, 'system', 'replaced');
  } catch (err) {
    env.log.error({ err, call: call.id }, 'replaces: swap failed');
    void env.media.releaseLeg(info.id).catch(() => {});
    leg.reject(500);
    return;
  }
  if ((call.state as string) === 'ended') { leg.reject(487); return; }
  // `swap` made the leg report to the call: its dialog is indexed as it is created.
  leg.answer(answer);
  old.bye();
  env.log.info({ call: call.id, side, by: who.name, replaced: replaces.callId }, 'replaces: party replaced');
}
