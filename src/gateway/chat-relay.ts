/**
 * The room chat as a gateway's API consumers see it: while the room's relay is on (seed 000
 * `GET /chat?toggle=`, on by default) every message posted in the gateway's room — by browsers,
 * `POST /chat`, `sendChat` — is kept (the last {@link KEEP}) and `/gateway/status` lists them as
 * `chat_messages`; consumers poll and skip the `id`s they have seen. Messages posted while the
 * relay is off are not kept.
 */
import type { Room } from '../rooms/room.ts';
import type { ChatMessage } from '../rooms/room-types.ts';

export const KEEP = 50;

export class ChatRelay {
  private readonly kept: ChatMessage[] = [];
  private readonly onChat = (m: ChatMessage): void => {
    if (!this.enabled()) return;
    this.kept.push(m);
    if (this.kept.length > KEEP) this.kept.shift();
  };

  constructor(private readonly room: Room, private readonly enabled: () => boolean) {
    room.on('chat', this.onChat);
  }

  messages(): ChatMessage[] {
    return [...this.kept];
  }

  detach(): void {
    this.room.off('chat', this.onChat);
  }
}
