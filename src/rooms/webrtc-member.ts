/**
 * A WebRTC peer as a room participant: a WebRTC endpoint made in the room's group (so it mixes
 * without a stand-in), answered from the peer's offer, joined to the room; the participant
 * leaves when the endpoint closes (ICE/DTLS failure, silence: within 10 s, see
 * `media/webrtc/peer-liveness.ts`). Shared by the room page's WebSocket and WHIP/WHEP.
 *
 * @example
 * const m = await joinWithOffer(room, ctx.webrtc, { offer, kind: 'webrtc', displayName: 'Alice' });
 * send(m.answer);
 * await m.leave();
 */
import type { WebRtcEndpoint, WebRtcFactory } from '../media/webrtc/index.ts';
import type { Room } from './room.ts';
import type { ParticipantKind, ParticipantSnapshot } from './room-types.ts';

export interface WebRtcMember {
  participant: ParticipantSnapshot;
  endpoint: WebRtcEndpoint;
  answer: string;
  /** Leaves the room and closes the endpoint; idempotent. */
  leave(): Promise<void>;
}

export interface WebRtcJoin {
  offer: string;
  kind: ParticipantKind;
  displayName: string;
  hears?: boolean;
  speaks?: boolean;
  muted?: boolean;
  /** Forward video (VP8) between this peer and the room's other browsers (`video-router.ts`). */
  video?: boolean;
}

/**
 * @throws MediaError MEDIA_ERR_BAD_OPTION for an offer the endpoint refuses; RoomError
 * (ROOM_FULL, ROOM_CLOSED). Nothing is left behind when it throws.
 */
export async function joinWithOffer(room: Room, webrtc: WebRtcFactory, join: WebRtcJoin): Promise<WebRtcMember> {
  const endpoint = await webrtc({ group: room.group, video: join.video });
  let answer: string;
  let participant: ParticipantSnapshot;
  try {
    answer = await endpoint.answer(join.offer);
    participant = await room.join({
      kind: join.kind, displayName: join.displayName, endpoint: endpoint.legId,
      hears: join.hears, speaks: join.speaks, muted: join.muted,
    });
  } catch (err) {
    await endpoint.close('bad-sdp');
    throw err;
  }
  // Its camera and slots; the room removes them when the participant leaves, however it leaves.
  if (endpoint.video) room.video.add(participant.id, endpoint.video);
  endpoint.once('closed', () => void room.leave(participant.id, 'endpoint-gone').catch(() => false));
  const leave = async (): Promise<void> => {
    await room.leave(participant.id).catch(() => false);
    await endpoint.close('closed');
  };
  return { participant, endpoint, answer, leave };
}
