/**
 * One call leg inside a relay worker: its RTP/RTCP sockets, the signalled remote, the latches
 * and the counters, plus the per-packet forwarding to the bridged leg. Sockets are injected as
 * {@link UdpPort} so the forwarding rules are testable without the network.
 *
 * Hot path (`receiveRtp`/`receiveRtcp`): O(1), no allocation in our code — counters are number
 * fields, the RTP header goes into one scratch object per thread, and the received Buffer is
 * sent on with its header rewritten in place (dgram allocates one Buffer per datagram; we add
 * no copy): PT byte, and SSRC/sequence/timestamp into the sink leg's one outgoing stream
 * ({@link RtpOutStream}), so that switching what feeds a leg never breaks its stream.
 */
import type { LegCodec } from './leg-codec.ts';
import { isRtcpMuxed, rtcpSenderSsrc } from './rtcp-check.ts';
import type { LegId, LegStats, MediaDirection, RemoteTarget, StreamStats } from './relay-protocol.ts';
import { RtpHeader, readRtpHeader } from './rtp-header.ts';
import { RtpOutStream } from './rtp-out-stream.ts';
import { SourceLatch } from './source-latch.ts';
import type { LegSrtp } from './srtp/leg-srtp.ts';
import { isZrtpPacket } from './zrtp/zrtp-packet.ts';

/**
 * ZRTP packets handed on per leg and second (token bucket): a handshake is about ten packets
 * plus retransmissions, so anything beyond this is a flood, dropped in the worker rather than
 * posted to the main thread.
 */
const ZRTP_BURST = 64;
const ZRTP_PER_SECOND = 32;

/** The part of `dgram.Socket` the relay uses. */
export interface UdpPort {
  send(msg: Uint8Array, port: number, address: string): void;
}

/** Counters and latch of one stream (RTP or RTCP) of a leg. */
export class StreamCounters {
  packetsIn = 0;
  bytesIn = 0;
  packetsOut = 0;
  bytesOut = 0;
  /** Monotonic ms of the last accepted packet, -1 when none. */
  lastInAt = -1;
  droppedInvalid = 0;
  droppedUnrouted = 0;
  readonly latch: SourceLatch;

  constructor(latchWindowMs: number, relatchAfterMs: number) {
    this.latch = new SourceLatch(latchWindowMs, relatchAfterMs);
  }

  snapshot(timeOrigin: number): StreamStats {
    const latch = this.latch;
    return {
      packetsIn: this.packetsIn,
      bytesIn: this.bytesIn,
      packetsOut: this.packetsOut,
      bytesOut: this.bytesOut,
      lastPacketAt: this.lastInAt < 0 ? null : Math.round(timeOrigin + this.lastInAt),
      latched: latch.latched ? { address: latch.address, port: latch.port } : null,
      droppedForeign: latch.dropped,
      droppedInvalid: this.droppedInvalid,
      droppedUnrouted: this.droppedUnrouted,
    };
  }
}

/** Scratch header shared by every leg of the thread: packets are handled one at a time. */
const scratch = new RtpHeader();

/**
 * A zero-decode route from one leg to another: the packet leaves with its payload as received,
 * the payload type byte rewritten when the two legs negotiated different numbers for the same
 * codec (or for telephone-event), SSRC/sequence/timestamp rewritten into the sink's stream.
 */
export interface PassEdge {
  readonly to: RelayLeg;
  /** PT to write on audio packets, -1 to keep the received one. */
  readonly audioPt: number;
  /** PT to write on telephone-event packets, -1 to keep the received one */
  readonly eventPt: number;
}

/** Where the graph takes the RTP of a leg it decodes or whose DTMF it listens to. */
export interface RtpInbound {
  /** An accepted audio packet; the payload is `msg[offset, offset + h.payloadLength)`. */
  audio(h: RtpHeader, msg: Buffer, offset: number, now: number): void;
  /** An accepted telephone-event packet (RFC 4733). */
  event(h: RtpHeader, msg: Buffer, offset: number, now: number): void;
  /**
   * Someone hears this leg's audio (decode path). False when only its DTMF is listened to:
   * then the leg is not "listened to" for the RTP timeout.
   */
  readonly listening: boolean;
}

/** Builds the pass-through route `from` -> `to`, with the PT rewrites their codecs need. */
export function passEdge(from: RelayLeg, to: RelayLeg): PassEdge {
  const a = from.codec;
  const b = to.codec;
  return {
    to,
    audioPt: a !== null && b !== null && a.pt !== b.pt ? b.pt : -1,
    eventPt: a !== null && b !== null && b.telephoneEventPt !== null && a.telephoneEventPt !== b.telephoneEventPt ? b.telephoneEventPt : -1,
  };
}

export class RelayLeg {
  /** Bridge partner (set by `bridgeLegs` or the graph's `bridge`), for stats and transfers. */
  peer: RelayLeg | null = null;
  /** What we negotiated with this leg's endpoint; null = pass-through only, any PT accepted. */
  codec: LegCodec | null = null;
  /** Zero-decode routes of this leg's RTP (usually zero or one). */
  passEdges: PassEdge[] = [];
  /** Decode path / DTMF listener of this leg's RTP, null when nobody decodes it. */
  inbound: RtpInbound | null = null;
  /** RTP whose payload type was not negotiated on this leg (never forwarded). */
  droppedUnknownPt = 0;
  direction: MediaDirection = 'sendrecv';
  /** We forward what the endpoint sends (direction sendrecv or recvonly). */
  receives = true;
  /** We send to the endpoint (direction sendrecv or sendonly). */
  sends = true;
  remote: RemoteTarget | null = null;
  readonly rtp: StreamCounters;
  readonly rtcp: StreamCounters;
  socketErrors = 0;
  /**
   * What we send to this leg's endpoint: one SSRC, sequence and timeline whether the packets
   * are relayed (from whichever source) or ours (decode path, player, DTMF).
   */
  readonly out: RtpOutStream;
  /** Monotonic ms from which the RTP timeout counts (bridge, new remote, new direction). */
  armedAt = 0;
  /** The timeout event fired and RTP has not resumed since. */
  timedOut = false;
  /**
   * SDES keys of this leg, null for plain RTP. Received packets are unprotected before anything
   * else (a packet failing authentication is counted and dropped: never latched, never relayed);
   * sent packets are protected last, after every header rewrite.
   */
  srtp: LegSrtp | null = null;
  /**
   * Where ZRTP packets (RFC 6189 §5: version bits 00 and the 'ZRTP' cookie, multiplexed on the
   * RTP port) go when ZRTP runs on this leg; null: they are counted as invalid like any
   * non-RTP datagram. They bypass SRTP both ways: ZRTP is what sets up the keys.
   */
  zrtp: ((msg: Buffer) => void) | null = null;
  zrtpIn = 0;
  zrtpOut = 0;
  /** ZRTP packets over the rate limit (dropped in the worker). */
  zrtpDropped = 0;
  private zrtpTokens = ZRTP_BURST;
  private zrtpFilledAt = 0;

  constructor(
    readonly id: LegId,
    readonly rtpPort: number,
    readonly rtpSocket: UdpPort,
    readonly rtcpSocket: UdpPort,
    latchWindowMs: number,
    relatchAfterMs: number,
    random: () => number = Math.random,
  ) {
    this.out = new RtpOutStream(random);
    this.rtp = new StreamCounters(latchWindowMs, relatchAfterMs);
    this.rtcp = new StreamCounters(latchWindowMs, relatchAfterMs);
  }

  /**
   * A datagram arrived on our RTP port. RTCP on the same port (RFC 5761 rtcp-mux) is told apart
   * by its packet type and handled as RTCP, whether or not mux was signalled: the check costs
   * one comparison and RTP payload types 64-95 are barred from mux-capable sessions anyway.
   */
  receiveRtp(msg: Buffer, address: string, port: number, now: number): void {
    if (isRtcpMuxed(msg)) {
      this.receiveRtcp(msg, address, port, now);
      return;
    }
    const s = this.rtp;
    s.packetsIn++;
    s.bytesIn += msg.length;
    // RTP is version 2 (first byte 0x80-0xbf): one comparison keeps ZRTP off the hot path.
    if (msg[0] < 0x40) {
      this.receiveNonRtp(msg, now);
      return;
    }
    const srtp = this.srtp;
    if (srtp !== null) {
      const plain = srtp.rx.unprotectRtp(msg);
      if (plain === null) return; // counted in srtp.rx.stats
      srtp.unprotected++;
      msg = plain;
    }
    const offset = readRtpHeader(msg, scratch);
    if (offset < 0) {
      s.droppedInvalid++;
      return;
    }
    // Nothing is known of this endpoint's media until its SDP arrived (e.g. a callee that starts
    // sending right after its 200 OK, before we processed it): its packets cannot be latched,
    // typed or routed yet, and relaying them raw would hand the other party a codec it never
    // negotiated.
    if (this.remote === null) {
      s.droppedUnrouted++;
      return;
    }
    if (!s.latch.accept(address, port, scratch.ssrc, now)) return;
    s.lastInAt = now;
    const pt = scratch.payloadType;
    const codec = this.codec;
    let isEvent = false;
    if (codec !== null) {
      if (pt === codec.telephoneEventPt) isEvent = true;
      else if (pt !== codec.pt) {
        // Not negotiated on this leg: never forwarded, whatever the other side accepts.
        this.droppedUnknownPt++;
        return;
      }
    }
    if (!this.receives) {
      s.droppedUnrouted++;
      return;
    }
    let routed = false;
    const edges = this.passEdges;
    const byte1 = msg[1];
    for (let i = 0; i < edges.length; i++) {
      const e = edges[i];
      const to = e.to;
      if (!to.sends) continue;
      const newPt = isEvent ? e.eventPt : e.audioPt;
      // Rewritten in place: dgram tries a synchronous send first, so with several edges each
      // sees its own header (a queued send under EAGAIN could see a later one; rare, harmless).
      msg[1] = newPt >= 0 ? (byte1 & 0x80) | newPt : byte1;
      to.out.relay(msg, scratch, isEvent, now, to.codec === null ? 8000 : to.codec.clockRate);
      if (to.transmitRtp(msg)) routed = true;
    }
    const inbound = this.inbound;
    if (inbound !== null) {
      if (isEvent) {
        inbound.event(scratch, msg, offset, now);
        routed = true;
      } else if (inbound.listening) {
        inbound.audio(scratch, msg, offset, now);
        routed = true;
      }
    }
    if (!routed) s.droppedUnrouted++;
  }

  /** Version-0 datagrams on the RTP port: ZRTP to its handler when enabled, else invalid. */
  private receiveNonRtp(msg: Buffer, now: number): void {
    const zrtp = this.zrtp;
    if (zrtp === null || !isZrtpPacket(msg)) {
      this.rtp.droppedInvalid++;
      return;
    }
    this.zrtpTokens = Math.min(ZRTP_BURST, this.zrtpTokens + ((now - this.zrtpFilledAt) * ZRTP_PER_SECOND) / 1000);
    this.zrtpFilledAt = now;
    if (this.zrtpTokens < 1) {
      this.zrtpDropped++;
      return;
    }
    this.zrtpTokens--;
    this.zrtpIn++;
    zrtp(msg);
  }

  /** Sends a ZRTP packet to our endpoint, where RTP goes, never SRTP-protected. */
  transmitZrtp(msg: Buffer): boolean {
    const latch = this.rtp.latch;
    const remote = this.remote;
    if (!latch.latched && remote === null) return false;
    this.rtpSocket.send(msg, latch.latched ? latch.port : remote!.rtpPort, latch.latched ? latch.address : remote!.address);
    this.zrtpOut++;
    this.rtp.packetsOut++;
    this.rtp.bytesOut += msg.length;
    return true;
  }

  /** A datagram arrived on our RTCP port (or was demultiplexed off the RTP port). */
  receiveRtcp(msg: Buffer, address: string, port: number, now: number): void {
    const s = this.rtcp;
    s.packetsIn++;
    s.bytesIn += msg.length;
    const srtp = this.srtp;
    if (srtp !== null) {
      const plain = srtp.rx.unprotectRtcp(msg);
      if (plain === null) return;
      srtp.unprotected++;
      msg = plain;
    }
    const ssrc = rtcpSenderSsrc(msg);
    if (ssrc < 0) {
      s.droppedInvalid++;
      return;
    }
    if (!s.latch.accept(address, port, ssrc, now)) return;
    s.lastInAt = now;
    // RTCP ignores the direction: RFC 3264 §5.1 keeps RTCP flowing on held/inactive streams.
    // It follows the zero-decode route only: on the decode path the streams are ours, and
    // reports about someone else's SSRCs would mislead the receiver.
    const edges = this.passEdges;
    if (edges.length === 0) {
      s.droppedUnrouted++;
      return;
    }
    const to = edges[0].to;
    to.out.relaySenderReport(msg);
    if (!to.transmitRtcp(msg)) s.droppedUnrouted++;
  }

  /** Sends RTP to our endpoint: the latched source, else the SDP address. */
  transmitRtp(msg: Buffer): boolean {
    const latch = this.rtp.latch;
    let address: string;
    let port: number;
    if (latch.latched) {
      address = latch.address;
      port = latch.port;
    } else if (this.remote !== null) {
      address = this.remote.address;
      port = this.remote.rtpPort;
    } else {
      return false;
    }
    if (this.srtp !== null) {
      msg = this.srtp.tx.protectRtp(msg);
      this.srtp.protected++;
    }
    this.rtpSocket.send(msg, port, address);
    this.rtp.packetsOut++;
    this.rtp.bytesOut += msg.length;
    return true;
  }

  /**
   * Sends RTCP to our endpoint: the RTCP latch, else (rtcp-mux) the RTP latch, else the SDP
   * RTCP address. With rtcp-mux it leaves from our RTP socket, where the endpoint expects it.
   */
  transmitRtcp(msg: Buffer): boolean {
    const remote = this.remote;
    const mux = remote !== null && remote.rtcpMux;
    let latch = this.rtcp.latch;
    if (!latch.latched && mux) latch = this.rtp.latch;
    let address: string;
    let port: number;
    if (latch.latched) {
      address = latch.address;
      port = latch.port;
    } else if (remote !== null) {
      address = remote.address;
      port = remote.rtcpPort;
    } else {
      return false;
    }
    if (this.srtp !== null) {
      msg = this.srtp.tx.protectRtcp(msg);
      this.srtp.protected++;
    }
    (mux ? this.rtpSocket : this.rtcpSocket).send(msg, port, address);
    this.rtcp.packetsOut++;
    this.rtcp.bytesOut += msg.length;
    return true;
  }

  /**
   * New signalled remote. The latches restart only when the address or a port changed: a
   * re-INVITE repeating the same SDP (session refresh, RFC 4028) must not reopen the window.
   */
  setRemote(remote: RemoteTarget, now: number): void {
    const old = this.remote;
    this.remote = remote;
    if (old === null || old.address !== remote.address || old.rtpPort !== remote.rtpPort) {
      this.rtp.latch.reset(remote.address, remote.rtpPort);
    }
    if (old === null || old.address !== remote.address || old.rtcpPort !== remote.rtcpPort) {
      this.rtcp.latch.reset(remote.address, remote.rtcpPort);
    }
    this.arm(now);
  }

  setDirection(direction: MediaDirection, now: number): void {
    this.direction = direction;
    this.receives = direction === 'sendrecv' || direction === 'recvonly';
    this.sends = direction === 'sendrecv' || direction === 'sendonly';
    this.arm(now);
  }

  /** Restarts the RTP timeout from `now`. */
  arm(now: number): void {
    this.armedAt = now;
    this.timedOut = false;
  }

  /**
   * Coarse timeout check, run every tick rather than per packet. Only a leg someone listens to
   * (relayed or decoded) that we expect RTP from (direction sendrecv/recvonly) can time out; it fires once, then again only after
   * RTP resumed and stopped anew.
   * @returns true when the timeout event must be emitted now.
   */
  checkTimeout(now: number, timeoutMs: number): boolean {
    if ((this.passEdges.length === 0 && (this.inbound === null || !this.inbound.listening)) || !this.receives) {
      this.timedOut = false;
      return false;
    }
    const since = Math.max(this.armedAt, this.rtp.lastInAt);
    if (now - since < timeoutMs) {
      this.timedOut = false;
      return false;
    }
    if (this.timedOut) return false;
    this.timedOut = true;
    return true;
  }

  snapshot(worker: number, timeOrigin: number, media: LegStats['media'], native = false): LegStats {
    return {
      id: this.id,
      worker,
      rtpPort: this.rtpPort,
      rtcpPort: this.rtpPort + 1,
      bridgedTo: this.peer === null ? null : this.peer.id,
      direction: this.direction,
      remote: this.remote === null ? null : { ...this.remote },
      rtp: this.rtp.snapshot(timeOrigin),
      rtcp: this.rtcp.snapshot(timeOrigin),
      socketErrors: this.socketErrors,
      media,
      srtp: this.srtp === null ? null : this.srtp.snapshot(),
      zrtp: this.zrtp === null ? null : { packetsIn: this.zrtpIn, packetsOut: this.zrtpOut, dropped: this.zrtpDropped },
      native,
    };
  }
}

/**
 * Bridges `a` and `b`. A leg already bridged elsewhere is detached from its old partner first,
 * so a transfer is a single `bridge` call.
 */
export function bridgeLegs(a: RelayLeg, b: RelayLeg, now: number): void {
  unbridgeLeg(a);
  unbridgeLeg(b);
  a.peer = b;
  b.peer = a;
  a.passEdges = [passEdge(a, b)];
  b.passEdges = [passEdge(b, a)];
  a.arm(now);
  b.arm(now);
}

/** Detaches `leg` and its partner (both stop forwarding). No-op when not bridged. */
export function unbridgeLeg(leg: RelayLeg): void {
  const peer = leg.peer;
  if (peer === null) return;
  peer.peer = null;
  leg.peer = null;
  peer.passEdges = [];
  leg.passEdges = [];
}
