/**
 * The legs of the active calls as the encryption routes show them: the signalling transport
 * of each leg (from its snapshot's peer) and its SRTP as the relay runs it (from the leg's
 * media counters), or as a WebRTC endpoint's DTLS-SRTP session runs it — what is on the wire, not what is configured.
 */
import type { LegMediaView } from '../../pbx/b2bua.ts';
import type { CallDirectory } from '../../pbx/call-directory.ts';

export interface LegEncryption {
  callId: string;
  side: 'a' | 'b';
  kind: string;
  /** `udp`, `tcp`, `tls`, `ws`, `wss`, or null for a leg without SIP signalling (voicemail, a player). */
  signalling: string | null;
  srtp: LegMediaView['srtp'];
  /** DTLS-SRTP of a WebRTC leg as its endpoint runs it (null: not a WebRTC leg). */
  dtls: LegMediaView['dtls'];
  /** RTP packets received on the leg (to tell a leg that carries media from one that does not yet). */
  packetsIn: number;
  /** The leg has a media endpoint in the relay (false: gone, or not created). */
  mediaPresent: boolean;
  /** The leg's endpoint in the media engine (ZRTP sessions are keyed by it). */
  mediaLegId: number;
}

export async function encryptedLegs(b2bua: Pick<CallDirectory, 'listCalls' | 'describeCall'>): Promise<{ active: number; legs: LegEncryption[] }> {
  const calls = await b2bua.listCalls();
  const views = await Promise.all(calls.map((c) => b2bua.describeCall(c.id, { media: true })));
  const legs: LegEncryption[] = [];
  for (const v of views) {
    if (!v) continue;
    for (const side of ['a', 'b'] as const) {
      const leg = v.legs[side];
      const media = v.media[side];
      legs.push({
        callId: v.id, side, kind: leg.kind,
        signalling: leg.peer === null ? null : leg.peer.split(':')[0]!.toLowerCase(),
        srtp: media?.srtp ?? null, dtls: media?.dtls ?? null, packetsIn: media?.packetsIn ?? 0, mediaPresent: media !== null && media !== undefined, mediaLegId: leg.mediaLegId,
      });
    }
  }
  return { active: calls.length, legs };
}
