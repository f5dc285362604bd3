/**
 * A fake phone's media socket on 127.0.0.1 for relay tests over real UDP (media-relay,
 * media-srtp): records every datagram it gets, sends RTP (20 ms ptime, 160-octet PCMU
 * payloads whose bytes depend on SSRC and sequence) and RTCP receiver reports.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeRtpHeader } from '../../src/media/rtp-writer.ts';

const HOST = '127.0.0.1';
const PTIME_MS = 20;

/** A fake SIP phone's media socket: records every datagram it gets. */
export class Endpoint {
  readonly received: Buffer[] = [];
  private constructor(readonly socket: dgram.Socket) {
    socket.on('message', (msg) => this.received.push(msg));
  }

  static async open(): Promise<Endpoint> {
    const socket = dgram.createSocket('udp4');
    socket.bind(0, HOST);
    await once(socket, 'listening');
    return new Endpoint(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(msg: Buffer, port: number): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(msg, port, HOST, (err) => (err ? reject(err) : resolve())));
  }

  /** `count` RTP packets, one every 20 ms, each a fresh Buffer so received bytes can be compared. */
  async stream(port: number, ssrc: number, count: number): Promise<Buffer[]> {
    const sent: Buffer[] = [];
    for (let seq = 0; seq < count; seq++) {
      const pkt = rtpPacket(ssrc, seq);
      sent.push(pkt);
      await this.send(pkt, port);
      await sleep(PTIME_MS);
    }
    return sent;
  }

  async waitFor(count: number, timeoutMs = 2000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (this.received.length < count && Date.now() < end) await sleep(10);
  }

  close(): void {
    this.socket.close();
  }
}

export function rtpPacket(ssrc: number, seq: number): Buffer {
  const pkt = Buffer.alloc(12 + 160);
  writeRtpHeader(pkt, { marker: seq === 0, payloadType: 0, sequenceNumber: seq, timestamp: seq * 160, ssrc });
  for (let i = 12; i < pkt.length; i++) pkt[i] = (seq * 7 + i + ssrc) & 0xff;
  return pkt;
}

/** RTCP RR without report blocks (RFC 3550 §6.4.2), sender SSRC `ssrc`. */
export function receiverReport(ssrc: number): Buffer {
  const pkt = Buffer.from('80c9000100000000', 'hex');
  pkt.writeUInt32BE(ssrc, 4);
  return pkt;
}
