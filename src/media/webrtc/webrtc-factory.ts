/**
 * The server's way to make WebRTC endpoints: the media engine plus the ICE settings from the
 * configuration (`STROWGER_WEBRTC_ADDRESSES`, `STROWGER_WEBRTC_PORTS`), so the PBX and rooms
 * only say where the leg belongs.
 *
 * @example
 * const webrtc = createWebRtcFactory(engine, { iceAddresses: ['203.0.113.5'] });
 * const ep = await webrtc({ group: callId });
 */
import type { MediaEngine } from '../media-engine.ts';
import type { LegId } from '../relay-protocol.ts';
import { createWebRtcEndpoint, type WebRtcEndpoint, type WebRtcEndpointOptions } from './webrtc-endpoint.ts';

export type WebRtcFactory = (placement: { group?: string; near?: LegId; video?: boolean }) => Promise<WebRtcEndpoint>;

export function createWebRtcFactory(engine: MediaEngine, settings: Omit<WebRtcEndpointOptions, 'group' | 'near'>): WebRtcFactory {
  return (placement) => createWebRtcEndpoint(engine, { ...settings, ...placement });
}
