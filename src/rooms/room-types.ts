/**
 * What a room is made of, as the rest of the node sees it: participants of several kinds (each
 * a media-engine endpoint), chat messages, and the events a room emits.
 */
import type { LegId } from '../media/relay-protocol.ts';
import type { VideoRouterStats } from './video-router.ts';

/** Who a participant is: how it reaches the room decides nothing in the mix, only in the listing. */
export type ParticipantKind = 'webrtc' | 'sip' | 'player' | 'recorder' | 'rtmp' | 'whip' | 'whep';

export interface JoinOptions {
  kind: ParticipantKind;
  /** Shown in the participant list and as the author of chat messages. */
  displayName: string;
  /**
   * The participant's media endpoint (a leg, player or recorder) in any worker. The endpoint
   * stays its owner's: the room never releases it, only the stand-in it may create for it.
   */
  endpoint: LegId;
  /** It is given the room's mix minus itself (legs, recorders, streamers). Default true. */
  hears?: boolean;
  /** Its audio goes into the mix (legs, players). Default true. */
  speaks?: boolean;
  /** Joins muted. Default false. */
  muted?: boolean;
}

/** A participant as the API shows it (a snapshot: plain data). */
export interface ParticipantSnapshot {
  id: string;
  kind: ParticipantKind;
  display_name: string;
  muted: boolean;
  hears: boolean;
  speaks: boolean;
  joined_at: string;
}

export interface ChatMessage {
  id: number;
  room: string;
  /** Display name of the author (a participant, or a gateway/API caller). */
  from: string;
  text: string;
  at: string;
}

export interface RoomSnapshot {
  name: string;
  created_at: string;
  participants: ParticipantSnapshot[];
  /** Video forwarding between browsers (counters since the room opened). */
  video: VideoRouterStats;
}

/** Why a participant left (what the API and logs report). */
export type LeaveReason = 'left' | 'kicked' | 'endpoint-gone' | 'room-closed';

export interface RoomEvents {
  joined: [participant: ParticipantSnapshot];
  left: [participant: ParticipantSnapshot, reason: LeaveReason];
  muted: [participant: ParticipantSnapshot];
  chat: [message: ChatMessage];
  /** A key a participant pressed (a SIP caller's DTMF, any transport), for gateways and pages. */
  dtmf: [participant: ParticipantSnapshot, digit: string];
  /** The active speaker changed (null: nobody speaks); see `speaker-detector.ts`. */
  speaker: [participant: ParticipantSnapshot | null];
  /** The room is gone (idle, closed by its owner, or its media worker died). */
  closed: [reason: string];
}
