/**
 * A plain PCMU RTP leg in a room standing for a SIP phone: the test's UDP socket is its far
 * end, which talks a tone (or nothing) and captures what the room gives it.
 *
 * @example
 * const phone = await talkingRoomLeg(media, room, { freq: 700, packets: 400 });
 * … decodeUlaw(Buffer.concat(phone.rx.sources().flatMap((s) => s.payloads))) …
 * await phone.close();
 */
import type { MediaEngine } from '../../src/media/media-engine.ts';
import type { Room } from '../../src/rooms/index.ts';
import type { ParticipantSnapshot } from '../../src/rooms/room-types.ts';
import { startRtpReceiver, type RtpReceiver } from './rtp-receiver.ts';
import { sendRtp } from './rtp-sender.ts';
import { linearToUlaw, makeTone } from './audio-analysis.ts';

export const PCMU = { pt: 0, name: 'PCMU', clockRate: 8000, channels: 1, fmtp: null, telephoneEventPt: null, ptime: 20 } as const;

export interface RoomLeg {
  rx: RtpReceiver;
  legId: number;
  participant: ParticipantSnapshot;
  /** Resolves when the far end has sent its packets. */
  talking: Promise<unknown>;
  /** Waits for the talking to end, leaves the room, releases the leg and the socket. */
  close(): Promise<void>;
}

export async function talkingRoomLeg(media: MediaEngine, room: Room, o: { freq: number; packets: number; displayName?: string; host?: string; amplitude?: number }): Promise<RoomLeg> {
  const host = o.host ?? '127.0.0.1';
  const rx = await startRtpReceiver({ capture: true });
  const leg = await media.createLeg({ group: room.group });
  await media.setCodec(leg.id, PCMU);
  await media.setRemote(leg.id, { address: host, rtpPort: rx.port });
  const participant = await room.join({ kind: 'sip', displayName: o.displayName ?? `leg ${o.freq}`, endpoint: leg.id });
  const tone = makeTone({ freq: o.freq, seconds: 1, rate: 8000, amplitude: o.amplitude ?? 0.4 });
  const talking = sendRtp({ host, port: leg.rtpPort, socket: rx.socket, ssrc: 9, count: o.packets, payload: (i) => Buffer.from(Array.from(tone.subarray((i % 50) * 160, ((i % 50) + 1) * 160), linearToUlaw)) });
  return {
    rx, legId: leg.id, participant, talking,
    async close() {
      await talking;
      await room.leave(participant.id).catch(() => false);
      await media.releaseLeg(leg.id);
      await rx.close();
    },
  };
}
