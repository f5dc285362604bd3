/**
 * The room page's WebSocket protocol (`/rooms/{name}/ws`, docs/ROOMS.md "Room page protocol"):
 * JSON text messages, one object each, told apart by `type`. The client's messages are TypeBox
 * schemas (checked before anything happens); the server's are plain types.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { ChatMessage, LeaveReason, ParticipantSnapshot } from '../room-types.ts';
import type { SlotAssignment } from '../video-router.ts';

const DisplayName = Type.String({ minLength: 1, maxLength: 64 });

export const ClientMessage = Type.Union([
  /** Join with the browser's complete offer (ICE candidates gathered: no trickle). */
  Type.Object({
    type: Type.Literal('join'),
    display_name: DisplayName,
    sdp: Type.String({ minLength: 1, maxLength: 64 * 1024 }),
    /** A room token; needed when STROWGER_ROOMS_REQUIRE_TOKEN=1. */
    token: Type.Optional(Type.String({ maxLength: 4096 })),
    muted: Type.Optional(Type.Boolean()),
  }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('mute'), muted: Type.Boolean() }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('chat'), text: Type.String({ minLength: 1, maxLength: 2000 }) }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('leave') }, { additionalProperties: false }),
]);
export type ClientMessage = Static<typeof ClientMessage>;

export type ProtocolErrorCode = 'bad_message' | 'not_joined' | 'already_joined' | 'token_required' | 'bad_sdp'
  | 'room_full' | 'room_limit' | 'room_closed' | 'bad_room' | 'unavailable' | 'internal_error';

export type ServerMessage =
  | { type: 'joined'; id: string; room: string; sdp: string; participants: ParticipantSnapshot[]; chat: ChatMessage[] }
  | { type: 'participant_joined'; participant: ParticipantSnapshot }
  | { type: 'participant_left'; participant: ParticipantSnapshot; reason: LeaveReason }
  | { type: 'participant_updated'; participant: ParticipantSnapshot }
  | { type: 'chat'; message: ChatMessage }
  /** Whom each of your video receive slots shows (after `joined`, then on every change). */
  | { type: 'video'; publishing: boolean; slots: SlotAssignment[] }
  | { type: 'error'; code: ProtocolErrorCode; message: string }
  | { type: 'left'; reason: string };

/** The message, or why it is not one. */
export function parseClientMessage(text: string): { ok: true; message: ClientMessage } | { ok: false; error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: 'not JSON' };
  }
  if (Value.Check(ClientMessage, value)) return { ok: true, message: value };
  // The variant the `type` names, so the error points at its field (a union only says "no match").
  const type = (value as { type?: unknown } | null)?.type;
  const variant = ClientMessage.anyOf.find((v) => v.properties.type.const === type);
  const first = variant ? [...Value.Errors(variant, value)][0] : undefined;
  return { ok: false, error: first ? `${first.path || '/'}: ${first.message}` : 'unknown message type' };
}
