/** WebRTC endpoints: a werift peer as a media-engine leg (see `webrtc-endpoint.ts`). */
export { createWebRtcEndpoint, WebRtcEndpoint } from './webrtc-endpoint.ts';
export type { WebRtcEndpointOptions, WebRtcEndpointStats, WebRtcEndpointEvents, WebRtcCloseReason, DtlsSrtpState } from './webrtc-endpoint.ts';
export { isWebRtcSdp, plainView, shapeLocal } from './sdp-view.ts';
export { WEBRTC_AUDIO_CODECS, legCodecOf } from './webrtc-codecs.ts';
export type { WebRtcCodec } from './webrtc-codecs.ts';
export type { PeerGoneReason, PeerLivenessOptions } from './peer-liveness.ts';
export { createWebRtcFactory } from './webrtc-factory.ts';
export { WebRtcVideo, VideoSlot, weriftVideoCodecs } from './webrtc-video.ts';
export { isVp8KeyframeStart } from './vp8-keyframe.ts';
export type { ForwardSlot, VideoPeer } from './webrtc-video.ts';
export type { WebRtcFactory } from './webrtc-factory.ts';
