/** ZRTP (RFC 6189): the endpoint state machine and the service that runs it on media legs. */
export { ZrtpEndpoint } from './zrtp-endpoint.ts';
export type { ZrtpCache, ZrtpEndpointOptions, ZrtpSecure, ZrtpState, ZrtpTimers } from './zrtp-endpoint.ts';
export { ZrtpService, ZrtpNotSecureError } from './zrtp-service.ts';
export type { ZrtpEngine, ZrtpServiceOptions, ZrtpSessionSnapshot, ZrtpTotals, ZrtpVerifiableCache } from './zrtp-service.ts';
export type { RetainedSecrets } from './zrtp-keys.ts';
export { MemoryZrtpCache } from './zrtp-memory-cache.ts';
export { isZrtpPacket } from './zrtp-packet.ts';
