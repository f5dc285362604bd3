/** The options and collaborators of a {@link ZrtpEndpoint} (`zrtp-endpoint.ts`). */
import type { KeyAgreementName } from './zrtp-crypto.ts';
import type { RetainedSecrets } from './zrtp-keys.ts';
import type { ZrtpSecure } from './zrtp-result.ts';

/** Clock and timers (the SIP layer's `Timers` fits). */
export interface ZrtpTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Retained secrets per peer ZID (§4.9); the store persists them, tests keep them in a Map. */
export interface ZrtpCache {
  load(peerZid: Buffer): Promise<RetainedSecrets>;
  save(peerZid: Buffer, secrets: RetainedSecrets): Promise<void>;
}

export interface ZrtpEndpointOptions {
  /** Our 96-bit ZID (§4.9), the same for every stream of this node. */
  zid: Buffer;
  send(packet: Buffer): void;
  cache: ZrtpCache;
  timers: ZrtpTimers;
  /**
   * The exchange completed. A responder awaits it before sending Conf2ACK, so the SRTP keys are
   * in place before the initiator starts sending SRTP (RFC 6189 §4.6).
   */
  onSecure(result: ZrtpSecure): void | Promise<void>;
  onFailed(reason: string, code: number | null): void;
  /** Our Hellos went unanswered (§6: T1 exhausted); a later Hello from the peer still starts the exchange. */
  onNoPeer?(): void;
  /** Key agreements we accept, in preference order. Default EC25 then DH3k. */
  keyAgreements?: KeyAgreementName[];
  /** Never send a Commit (the P flag, §5.2): the peer must initiate. Default false. */
  passive?: boolean;
  clientId?: string;
}

export type ZrtpState = 'discovery' | 'commit-sent' | 'wait-dhpart2' | 'wait-confirm1' | 'wait-confirm2' | 'wait-conf2ack' | 'secure' | 'failed' | 'no-peer';
