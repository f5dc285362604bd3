/**
 * WHIP (RFC 9725) and WHEP sessions of this node's rooms: a publisher's WebRTC endpoint speaks
 * into the room and hears nothing; a player's hears the room's mix and says nothing. Each session
 * is a resource (`/whip/{room}/{id}`, `/whep/{room}/{id}`) its client DELETEs to leave; a
 * client that vanishes leaves within 10 s like any WebRTC participant.
 */
import { randomBytes } from 'node:crypto';
import type { WebRtcFactory } from '../media/webrtc/index.ts';
import type { RoomRegistry } from './room-registry.ts';
import { joinWithOffer, type WebRtcMember } from './webrtc-member.ts';

export type WhipKind = 'whip' | 'whep';

interface Session {
  kind: WhipKind;
  room: string;
  member: WebRtcMember;
}

export class WhipSessions {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly rooms: RoomRegistry, private readonly webrtc: WebRtcFactory) {}

  /**
   * Answers the client's offer and joins it to `room`: the session id and our answer.
   * @throws RoomError, MediaError (bad offer) — nothing is left behind.
   */
  async start(kind: WhipKind, roomName: string, offer: string, displayName: string): Promise<{ id: string; answer: string }> {
    const room = this.rooms.open(roomName);
    const member = await joinWithOffer(room, this.webrtc, {
      offer, kind, displayName, speaks: kind === 'whip', hears: kind === 'whep',
    });
    const id = randomBytes(12).toString('base64url');
    this.sessions.set(id, { kind, room: roomName, member });
    member.endpoint.once('closed', () => this.sessions.delete(id));
    return { id, answer: member.answer };
  }

  /** Ends a session (the client's DELETE). False when there is no such session of that kind in that room. */
  async stop(kind: WhipKind, roomName: string, id: string): Promise<boolean> {
    const session = this.sessions.get(id);
    if (session === undefined || session.kind !== kind || session.room !== roomName) return false;
    this.sessions.delete(id);
    await session.member.leave();
    return true;
  }

  get size(): number {
    return this.sessions.size;
  }

  async close(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => s.member.leave()));
    this.sessions.clear();
  }
}
