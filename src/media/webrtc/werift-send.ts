/**
 * Sends an RTP packet of the media engine through a werift sender with its payload type intact.
 *
 * werift's `sendRtp` stamps every packet with the sender's first negotiated codec (header
 * `payloadType = this.codec.payloadType`), which would turn RFC 4733 telephone-event into audio
 * and G.711 into "Opus" when the engine switches codec. The engine already chose the payload type
 * from the negotiated SDP, so we hand werift a codec of that payload type for the duration of
 * the synchronous part of its dispatch (it reads `codec` once, before its first `await`).
 * werift still owns SSRC, sequence/timestamp continuity, header extensions, SRTP and RTCP SR.
 */
import type { RTCRtpCodecParameters, RTCRtpSender } from 'werift';

/** The part of werift's sender this relies on (not in its public typings). */
interface DispatchingSender {
  codec: RTCRtpCodecParameters | undefined;
  dispatchRtp(rtp: Buffer): Promise<void>;
}

const byPt = new WeakMap<RTCRtpCodecParameters, Map<number, RTCRtpCodecParameters>>();

/** Resolves when werift has encrypted and sent the packet; never rejects (a failed send is a drop). */
export function sendRawRtp(sender: RTCRtpSender, packet: Buffer): Promise<void> {
  const s = sender as unknown as DispatchingSender;
  const codec = s.codec;
  if (!codec || packet.length < 12) return Promise.resolve();
  const pt = packet[1]! & 0x7f;
  let done: Promise<void>;
  if (pt === codec.payloadType) {
    done = s.dispatchRtp(packet);
  } else {
    let variants = byPt.get(codec);
    if (!variants) byPt.set(codec, (variants = new Map()));
    let variant = variants.get(pt);
    if (!variant) variants.set(pt, (variant = Object.assign(Object.create(Object.getPrototypeOf(codec)), codec, { payloadType: pt })));
    s.codec = variant;
    try {
      done = s.dispatchRtp(packet);
    } finally {
      s.codec = codec;
    }
  }
  return done.catch(() => undefined);
}
