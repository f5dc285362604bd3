/**
 * How a room reaches an external conference system (an SFU, another Strowger): it publishes the
 * room's mix there and/or pulls that system's audio into the room. Each link is a room
 * participant here (`whip`: hears the room, says nothing; `whep`: says what it pulls) and a
 * session there. Implementations: `whip-whep-adapter.ts` (any WHIP/WHEP server).
 *
 * @example
 * const sfu: ConferenceAdapter = new WhipWhepAdapter({ webrtc, whipUrl, whepUrl, token });
 * const out = await sfu.publish(room);   // the room's mix → the SFU
 * const back = await sfu.pull(room);     // the SFU's audio → the room
 * await Promise.all([out.close(), back.close()]);
 */
import type { Room } from './room.ts';
import type { ParticipantSnapshot } from './room-types.ts';

export interface ConferenceLink {
  /** This link as a participant of the local room. */
  participant: ParticipantSnapshot;
  /** Where the remote system keeps the session (WHIP/WHEP: the resource URL), for logs. */
  remote: string;
  /** Resolves when the link ends, with why (closed here, remote gone, media failure). */
  readonly ended: Promise<string>;
  /** Ends the session at the remote system and leaves the room; idempotent. */
  close(): Promise<void>;
}

export interface ConferenceAdapter {
  /** Sends the room's mix (every participant) to the remote system. */
  publish(room: Room, options?: { displayName?: string }): Promise<ConferenceLink>;
  /** Brings the remote system's audio into the room as one participant. */
  pull(room: Room, options?: { displayName?: string }): Promise<ConferenceLink>;
}
