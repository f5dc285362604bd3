/**
 * DTMF in the media graph: RFC 4733 telephone events, in-band detection, SIP INFO bodies.
 */
export {
  END_PACKET_COUNT,
  MAX_SEGMENT_DURATION,
  TELEPHONE_EVENT_LENGTH,
  TelephoneEvent,
  TelephoneEventReceiver,
  TelephoneEventSender,
  dtmfDigitOf,
  dtmfEventCode,
  readTelephoneEvent,
  writeTelephoneEvent,
} from './rfc4733.ts';
export type {
  TelephoneEventEnd,
  TelephoneEventReceiverOptions,
  TelephoneEventReport,
  TelephoneEventSenderOptions,
} from './rfc4733.ts';
export { InbandDtmfDetector } from './inband-detector.ts';
export type { InbandDtmfDetectorOptions } from './inband-detector.ts';
export { GoertzelBank, goertzelCoefficient, goertzelPower } from './goertzel.ts';
export {
  DEFAULT_INFO_DURATION_MS,
  DTMF_INFO_CONTENT_TYPES,
  DTMF_INFO_ERRORS,
  DtmfInfoError,
  MAX_INFO_DURATION_MS,
  MIN_INFO_DURATION_MS,
  formatDtmfRelay,
  parseDtmfInfo,
} from './info-body.ts';
export type { DtmfInfo, DtmfInfoErrorCode } from './info-body.ts';
