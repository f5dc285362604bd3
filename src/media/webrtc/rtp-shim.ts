/**
 * The loopback UDP hop between a werift peer (this thread) and its media-engine leg (a relay
 * worker): the leg's remote is this socket, so to the engine a WebRTC peer is an ordinary RTP
 * endpoint with rtcp-mux. Decrypted RTP from the peer goes to the leg; RTP the leg sends comes
 * back here and goes to the peer. RTCP from the engine is dropped: werift reports for the
 * peer connection itself (SR/RR over SRTCP).
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { isIPv6 } from 'node:net';

export class RtpShim {
  /** Packets (and payload bytes) carried each way, for stats. */
  toEngine = 0;
  fromEngine = 0;
  private closed = false;

  private constructor(private readonly socket: dgram.Socket, readonly address: string, private readonly legPort: number) {}

  /** Binds a socket on `address` (where the engine's legs are reachable) for the leg at `legPort`. */
  static async open(address: string, legPort: number): Promise<RtpShim> {
    const socket = dgram.createSocket(isIPv6(address) ? 'udp6' : 'udp4');
    socket.bind(0, address);
    await once(socket, 'listening');
    return new RtpShim(socket, address, legPort);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Calls `handler` with each RTP packet the engine leg sends (RTCP filtered out, RFC 5761 §4). */
  onRtp(handler: (packet: Buffer) => void): void {
    this.socket.on('message', (msg, rinfo) => {
      if (rinfo.port !== this.legPort || msg.length < 12) return;
      const pt = msg[1]! & 0x7f;
      if (pt >= 64 && pt <= 95) return; // RTCP packet types 192–223 with the marker bit folded in
      this.fromEngine++;
      handler(msg);
    });
  }

  /** Sends an RTP packet of the peer to the engine leg. */
  toLeg(packet: Buffer): void {
    if (this.closed) return;
    this.toEngine++;
    this.socket.send(packet, this.legPort, this.address);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
  }
}
