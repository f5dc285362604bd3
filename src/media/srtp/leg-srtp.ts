/**
 * SRTP of one relay leg: the context that unprotects what the endpoint sends (its key, from its
 * SDP) and the one that protects what we send it (our key, from our SDP). Set through
 * `MediaEngine.setSrtp`; a leg without it is plain RTP and pays one null check per packet.
 */
import { SrtpContext } from './srtp-context.ts';
import type { SrtpStats } from './srtp-context.ts';
import { findSrtpSuite } from './srtp-suites.ts';
import type { SrtpSuiteName } from './srtp-suites.ts';

/** Keys of a leg as SDES carries them: master key followed by master salt (`inline:`). */
export interface SrtpKeys {
  suite: SrtpSuiteName;
  /** The endpoint's key: unprotects what it sends us. */
  rxKey: Uint8Array;
  /** Our key: protects what we send it. */
  txKey: Uint8Array;
}

/** `stats(legId).srtp`: the suite and the receive-side failures (dropped, never relayed). */
export interface LegSrtpStats {
  suite: SrtpSuiteName;
  /** SRTP + SRTCP packets that failed authentication. */
  authFailures: number;
  replays: number;
  malformed: number;
  /** Packets unprotected / protected (RTP and RTCP together). */
  unprotected: number;
  protected: number;
}

export class LegSrtp {
  readonly rx: SrtpContext;
  readonly tx: SrtpContext;
  unprotected = 0;
  protected = 0;
  /** Tick-time view of the counters for checkAuthFailing: no clock read per packet. */
  private seenFailures = 0;
  private seenUnprotected = 0;
  private failingSince = -1;
  private reported = false;

  constructor(readonly keys: SrtpKeys) {
    const suite = findSrtpSuite(keys.suite);
    if (suite === undefined) throw new RangeError(`unknown SRTP suite ${keys.suite}`);
    this.rx = SrtpContext.fromMasterKey(suite, ...split(keys.rxKey, suite.keyLength));
    this.tx = SrtpContext.fromMasterKey(suite, ...split(keys.txKey, suite.keyLength));
  }

  /** Same suite and keys: a re-INVITE repeating them keeps the contexts (ROC, replay state). */
  sameAs(keys: SrtpKeys): boolean {
    return keys.suite === this.keys.suite && equal(keys.rxKey, this.keys.rxKey) && equal(keys.txKey, this.keys.txKey);
  }

  /** Receive-side failures of both streams, for the worker's dropped total. */
  get dropped(): number {
    const s: SrtpStats = this.rx.stats;
    return s.authFailures + s.replays + s.malformed;
  }

  /**
   * Called every tick: true once when, for `timeoutMs`, packets failed authentication and none
   * passed (a peer with the wrong key, or someone injecting). A packet that passes resets it.
   */
  checkAuthFailing(now: number, timeoutMs: number): boolean {
    const failures = this.rx.stats.authFailures;
    if (this.unprotected !== this.seenUnprotected) {
      this.failingSince = -1;
      this.reported = false;
    } else if (failures !== this.seenFailures && this.failingSince < 0) {
      this.failingSince = now;
    }
    this.seenFailures = failures;
    this.seenUnprotected = this.unprotected;
    if (this.failingSince < 0 || this.reported || now - this.failingSince < timeoutMs) return false;
    this.reported = true;
    return true;
  }

  snapshot(): LegSrtpStats {
    const s = this.rx.stats;
    return { suite: this.keys.suite, authFailures: s.authFailures, replays: s.replays, malformed: s.malformed, unprotected: this.unprotected, protected: this.protected };
  }
}

function split(keySalt: Uint8Array, keyLength: number): [Buffer, Buffer] {
  const b = Buffer.from(keySalt.buffer, keySalt.byteOffset, keySalt.byteLength);
  return [b.subarray(0, keyLength), b.subarray(keyLength)];
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}
