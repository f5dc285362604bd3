/**
 * Test RTP receiver: binds a UDP port, counts packets per SSRC and checks sequence
 * continuity (RFC 3550 §6.4.1 / Appendix A.3 style: extended highest sequence, expected vs
 * received), optionally keeping the payloads. Used to prove media flowed through the relay.
 */
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { parseRtpPacket } from './rtp-packet.ts';

export interface RtpSourceStats {
  ssrc: number;
  packets: number;
  payloadBytes: number;
  payloadTypes: Set<number>;
  firstSequence: number;
  /** Extended (with 16-bit wrap cycles) highest sequence number seen. */
  highestSequence: number;
  /** highest - first + 1. */
  expected: number;
  /** expected - received (duplicates can make it negative; clamped at 0). */
  lost: number;
  /** Packets whose sequence was not previous + 1 (gaps and reordering). */
  discontinuities: number;
  duplicates: number;
  markers: number;
  /** Remote address:port the packets came from (last seen), for symmetric-RTP checks. */
  from: string;
  /** Payload copies, when the receiver was created with `capture: true`. */
  payloads: Buffer[];
}

export interface RtpReceiverOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  capture?: boolean;
}

export interface RtpReceiver {
  readonly socket: dgram.Socket;
  readonly host: string;
  readonly port: number;
  /** Datagrams that were not RTP v2 (e.g. RTCP is counted here only if its PT byte says so). */
  readonly invalid: number;
  /** Statistics per SSRC, in order of first appearance. */
  sources(): RtpSourceStats[];
  source(ssrc: number): RtpSourceStats | undefined;
  /** Total RTP packets over all SSRCs. */
  total(): number;
  /** Resolves once `total() >= count`; rejects after `timeoutMs` (default 5000) with the counts. */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts a receiver; `await r.close()` in a `finally`/`after` so no socket stays open. */
export async function startRtpReceiver(options: RtpReceiverOptions = {}): Promise<RtpReceiver> {
  const host = options.host ?? '127.0.0.1';
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(options.port ?? 0, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const stats = new Map<number, RtpSourceStats>();
  const seen = new Map<number, Set<number>>();
  let invalid = 0;
  let total = 0;
  const waiters = new Set<() => void>();

  socket.on('message', (msg, rinfo) => {
    const p = parseRtpPacket(msg);
    // RTCP SR/RR/SDES/BYE/APP (RFC 5761 §4: PT 200..204 with the marker bit) is not media.
    if (p === null || (msg[1] >= 200 && msg[1] <= 204)) {
      invalid++;
      return;
    }
    total++;
    let s = stats.get(p.ssrc);
    if (s === undefined) {
      s = {
        ssrc: p.ssrc,
        packets: 0,
        payloadBytes: 0,
        payloadTypes: new Set(),
        firstSequence: p.sequenceNumber,
        highestSequence: p.sequenceNumber,
        expected: 0,
        lost: 0,
        discontinuities: 0,
        duplicates: 0,
        markers: 0,
        from: '',
        payloads: [],
      };
      stats.set(p.ssrc, s);
      seen.set(p.ssrc, new Set());
    } else {
      // Extend the 16-bit number into the cycle closest to the highest seen so far.
      const cycle = s.highestSequence - (s.highestSequence & 0xffff);
      let extended = cycle + p.sequenceNumber;
      if (extended - s.highestSequence > 0x8000) extended -= 0x10000;
      else if (s.highestSequence - extended > 0x8000) extended += 0x10000;
      if (seen.get(p.ssrc)!.has(extended)) s.duplicates++;
      else if (extended !== s.highestSequence + 1) s.discontinuities++;
      if (extended > s.highestSequence) s.highestSequence = extended;
      p.sequenceNumber = extended;
    }
    const set = seen.get(p.ssrc)!;
    set.add(p.sequenceNumber);
    s.packets++;
    s.payloadBytes += p.payload.length;
    s.payloadTypes.add(p.payloadType);
    if (p.marker) s.markers++;
    s.from = `${rinfo.address}:${rinfo.port}`;
    s.expected = s.highestSequence - s.firstSequence + 1;
    s.lost = Math.max(0, s.expected - (s.packets - s.duplicates));
    if (options.capture === true) s.payloads.push(Buffer.from(p.payload));
    for (const w of waiters) w();
  });

  const address = socket.address() as AddressInfo;
  return {
    socket,
    host,
    port: address.port,
    get invalid() {
      return invalid;
    },
    sources: () => [...stats.values()],
    source: (ssrc) => stats.get(ssrc),
    total: () => total,
    waitFor(count, timeoutMs = 5000) {
      if (total >= count) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (total < count) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`RTP receiver on ${host}:${address.port}: got ${total} packets, need ${count}`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
