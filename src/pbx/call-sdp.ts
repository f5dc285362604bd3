/**
 * SDP handling of an anchored call leg: read where the peer wants media, and rewrite an SDP
 * so the other side sends its media to our relay port instead (c=, m=, a=rtcp, o=).
 * Only the first audio stream is anchored; other streams are disabled (port 0) in what we
 * pass on, which RFC 3264 §8.2 allows and keeps media from bypassing the relay.
 */
import { randomInt } from 'node:crypto';
import { parseSdp, serializeSdp, cloneSdp, effectiveConnection, rewriteConnection, getAttribute, parseRtcp, codecs, isOnHold, hasAttribute, type SessionDescription } from '../sdp/index.ts';

export interface MediaTarget {
  address: string;
  rtpPort: number;
  rtcpPort: number | undefined;
  rtcpMux: boolean;
  /** First codec of the stream (e.g. PCMA/8000): what the peer prefers or answered. */
  codec: string | null;
  hold: boolean;
}

/** Our o= line for one leg: a stable session id and a version bumped per new SDP (RFC 3264 §8). */
export class SdpOrigin {
  readonly sessionId = String(randomInt(1, 2 ** 47));
  private version = randomInt(1, 2 ** 20);

  next(): string {
    return String(this.version++);
  }
}

export function readSdp(body: Buffer): SessionDescription {
  return parseSdp(body.toString('utf8'));
}

export function mediaTarget(sd: SessionDescription): MediaTarget | null {
  const media = sd.media.find((m) => m.type === 'audio' && m.port !== 0);
  if (!media) return null;
  const conn = effectiveConnection(sd, media);
  if (!conn) return null;
  const rtcpAttr = getAttribute(media, 'rtcp');
  const rtcp = rtcpAttr ? parseRtcp(rtcpAttr) : null;
  const first = codecs(media)[0];
  return {
    address: conn.address,
    rtpPort: media.port,
    rtcpPort: rtcp?.port,
    rtcpMux: hasAttribute(media, 'rtcp-mux'),
    codec: first ? `${first.name}/${first.clockRate}` : null,
    hold: isOnHold(sd, media),
  };
}

/** The SDP to send to the other side: media pointed at our relay leg. */
export function rewriteSdp(sd: SessionDescription, relay: { address: string; rtpPort: number }, origin: SdpOrigin): string {
  const out = cloneSdp(sd);
  let anchored = false;
  const ports = out.media.map((m) => {
    if (!anchored && m.type === 'audio' && m.port !== 0) { anchored = true; return relay.rtpPort; }
    m.port = 0;
    return 0;
  });
  rewriteConnection(out, { address: relay.address, ports });
  out.origin = {
    username: 'strowger', sessionId: origin.sessionId, sessionVersion: origin.next(),
    netType: 'IN', addrType: relay.address.includes(':') ? 'IP6' : 'IP4', address: relay.address,
  };
  return serializeSdp(out);
}
