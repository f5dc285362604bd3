/**
 * Which side of a new call is a browser, and its WebRTC endpoint in place of a plain leg: a caller
 * whose offer is WebRTC (`UDP/TLS/RTP/SAVPF`, or a fingerprint with ICE), a callee reached only
 * through SIP over WebSocket bindings (JsSIP and friends speak nothing but WebRTC media). The
 * endpoint terminates ICE and DTLS-SRTP; the other side gets plain RTP and the bridge transcodes
 * when the codecs differ (Opus ↔ G.711), so a browser can call a desk phone.
 */
import type { LegInfo, MediaEngine } from '../media/index.ts';
import { isWebRtcSdp, type WebRtcFactory } from '../media/webrtc/index.ts';
import type { LegEndpoint } from './anchor-sdp.ts';
import type { CallTarget } from './call-router.ts';

const WEB_TRANSPORTS = new Set(['ws', 'wss']);

/** [caller, callee]: which sides need a WebRTC endpoint. */
export function webRtcSides(offer: Buffer, targets: readonly CallTarget[]): [boolean, boolean] {
  let caller = false;
  try {
    caller = offer.length > 0 && isWebRtcSdp(offer.toString('utf8'));
  } catch {
    caller = false; // unparsable: the anchoring answers 400 as for any phone
  }
  const callee = targets.length > 0 && targets.every((t) => t.kind === 'contact' && WEB_TRANSPORTS.has(t.binding.transport.toLowerCase()));
  return [caller, callee];
}

/**
 * The call's two endpoints with each WebRTC side's plain leg replaced by an endpoint placed next
 * to the other leg. On failure every endpoint made here is released and the error rethrown.
 */
export async function withWebRtcEndpoints(
  factory: WebRtcFactory | undefined, media: Pick<MediaEngine, 'releaseLeg'>, legs: readonly [LegInfo, LegInfo], sides: readonly [boolean, boolean],
): Promise<[LegEndpoint, LegEndpoint]> {
  const out: [LegEndpoint, LegEndpoint] = [legs[0], legs[1]];
  if (!factory) return out;
  const made: LegEndpoint[] = [];
  try {
    for (const i of [0, 1] as const) {
      if (!sides[i]) continue;
      const ep = await factory({ near: legs[1 - i]!.id });
      const entry: LegEndpoint = { id: ep.legId, address: ep.leg.address, rtpPort: ep.leg.rtpPort, webrtc: ep };
      made.push(entry);
      await media.releaseLeg(legs[i]!.id);
      out[i] = entry;
    }
  } catch (err) {
    for (const e of made) await e.webrtc?.close('call setup failed');
    throw err;
  }
  return out;
}
