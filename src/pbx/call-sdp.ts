/**
 * SDP bookkeeping of an anchored call leg: where its peer wants media, and our o= line towards
 * that peer. The anchoring itself (one function for every offer and answer) is `anchor-sdp.ts`.
 */
import { randomInt } from 'node:crypto';

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
