/** Codecs of the media graph: G.711, G.722, Opus, the resampler and the SDP registry. */
export type { AudioCodec, AudioDecoder, AudioEncoder, CodecInfo, CodecParams } from './types.ts';
export { PCMU, PCMA, LINEAR_TO_ULAW, LINEAR_TO_ALAW, ULAW_TO_LINEAR, ALAW_TO_LINEAR, g711Compress, g711Expand } from './g711.ts';
export { G722, G722Encoder, G722Decoder } from './g722.ts';
export { OPUS, OpusEncoder, OpusDecoder, OPUS_RATES, OPUS_COMPLEXITY, OPUS_NB_COMPLEXITY, opusComplexity } from './opus.ts';
export type { OpusEncoderSettings } from './opus.ts';
export { Resampler, RESAMPLER_RATES } from './resampler.ts';
export { FadeConcealer, FADE_MS } from './fade-concealer.ts';
export { parseFmtp, fmtpFlag, fmtpInt } from './fmtp.ts';
export { SUPPORTED_CODECS, OPUS_FMTP, TELEPHONE_EVENT_FMTP, findCodec, codecCapabilities } from './registry.ts';
