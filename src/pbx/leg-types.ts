/**
 * The seam between a call and its parties. A call is a small coordinator of legs joined by a
 * bridge; each leg owns its signalling state (a SIP dialog today; later a WebRTC peer, a
 * player, a recorder or a room member) and its media endpoint in the media engine. New
 * features add a leg kind or a bridge behaviour, never methods on `Call`.
 */
import type { LegMedia } from './anchor-sdp.ts';

/** Kinds of leg; the union grows with `webrtc`, `player`, `recorder`, `room-member`. */
export type LegKind = 'sip-uas' | 'sip-uac';

/** What the API and logs may know of a leg: plain data, no handles. */
export interface LegSnapshot {
  id: string;
  kind: LegKind;
  /** Call-ID of the leg's dialog (SIP legs), else null. */
  sipCallId: string | null;
  /** `transport:address:port` of the signalling peer, null when not known yet. */
  peer: string | null;
  /** The leg's endpoint in the media engine. */
  mediaLegId: number;
  /** Negotiated codec of the leg (`PCMA/8000`), null before the answer. */
  codec: string | null;
}

export interface CallLeg {
  readonly id: string;
  readonly kind: LegKind;
  /** The leg's media endpoint and its SDP state (changed only by `anchorSdp`). */
  readonly media: LegMedia;
  /**
   * Ends this leg's part of the call the way its signalling wants (BYE, CANCEL or a final
   * error response); idempotent. The call decides the cause; the leg only carries it out.
   */
  hangup(cause: string): void;
  /** The Call-ID of this leg's SIP dialog (what `snapshot().sipCallId` says, without the snapshot). */
  readonly sipCallId: string;
  snapshot(): LegSnapshot;
}

/** `PCMA/8000` for a leg's codec, as CDRs and the API show it. */
export function codecLabel(media: LegMedia): string | null {
  const c = media.codec;
  return c ? `${c.name}/${c.clockRate}` : null;
}
