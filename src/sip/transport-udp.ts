/**
 * SIP over UDP (RFC 3261 §18): one `dgram` socket per address family and
 * port, one SIP message per datagram. Datagrams above `maxDatagramBytes` are
 * dropped (§18.1.1 leaves large messages to TCP), as are CRLF-only
 * keep-alives; leading CRLFs are skipped (§7.5) without copying.
 */
import { createSocket } from 'node:dgram';

/** Requested SO_RCVBUF/SO_SNDBUF of SIP UDP sockets. */
export const UDP_SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;
import type { RemoteInfo, Socket } from 'node:dgram';
import { canonicalAddress, familyOf, socketAddress } from './transport-address.ts';
import { SipTransportError, TransportErrorCode } from './transport-errors.ts';
import type { LocalEndpoint, SendTarget, SipTransport, TransportContext } from './transport-types.ts';

const CR = 0x0d;
const LF = 0x0a;

export class UdpTransport implements SipTransport {
  readonly protocol = 'udp';
  readonly local: LocalEndpoint;
  private readonly socket: Socket;
  private readonly ctx: TransportContext;

  private constructor(socket: Socket, local: LocalEndpoint, ctx: TransportContext) {
    this.socket = socket;
    this.local = local;
    this.ctx = ctx;
    socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => this.onDatagram(msg, rinfo));
    // ICMP port unreachable etc. surface here on some platforms; a datagram socket stays usable.
    socket.on('error', () => undefined);
  }

  /**
   * Binds a UDP socket on `address`:`port` (0 = any free port).
   *
   * @example
   * ```ts
   * const udp = await UdpTransport.bind('::', 5060, layerContext); // IPv6 only; bind '0.0.0.0' too
   * ```
   */
  static async bind(address: string, port: number, ctx: TransportContext): Promise<UdpTransport> {
    const family = familyOf(canonicalAddress(address));
    const socket = createSocket({ type: family === 'IPv6' ? 'udp6' : 'udp4', ipv6Only: family === 'IPv6' });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address, port }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    // A burst (a CPS step, a registration storm after an outage) must queue, not be dropped by
    // the kernel: a lost ACK or BYE leaves a call up until its timers run out. The kernel caps
    // this at net.core.rmem_max / wmem_max.
    for (const set of [(n: number) => socket.setRecvBufferSize(n), (n: number) => socket.setSendBufferSize(n)]) {
      try { set(UDP_SOCKET_BUFFER_BYTES); } catch { /* keep the OS default */ }
    }
    const bound = socket.address();
    return new UdpTransport(socket, { address: socketAddress(bound.address), port: bound.port, family }, ctx);
  }

  send(target: SendTarget, data: Buffer): Promise<void> {
    const address = canonicalAddress(target.address);
    if (address === '' || familyOf(address) !== this.local.family || !(target.port > 0 && target.port < 65_536)) {
      return Promise.reject(
        new SipTransportError(TransportErrorCode.INVALID_TARGET, `udp cannot send to ${target.address}:${target.port}`),
      );
    }
    if (data.length > this.ctx.limits.maxDatagramBytes) {
      return Promise.reject(
        new SipTransportError(
          TransportErrorCode.MESSAGE_TOO_LARGE,
          `datagram of ${data.length} bytes exceeds ${this.ctx.limits.maxDatagramBytes}`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      this.socket.send(data, target.port, address, (err) => {
        if (err) {
          reject(new SipTransportError(TransportErrorCode.WRITE_FAILED, `udp send to ${address}:${target.port} failed`, { cause: err }));
        } else {
          this.ctx.counters.messagesOut++;
          resolve();
        }
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private onDatagram(msg: Buffer, rinfo: RemoteInfo): void {
    let start = 0;
    while (start < msg.length && (msg[start] === CR || msg[start] === LF)) start++;
    if (start === msg.length || msg.length > this.ctx.limits.maxDatagramBytes) {
      this.ctx.counters.datagramsDropped++;
      return;
    }
    this.ctx.counters.messagesIn++;
    this.ctx.deliver(start === 0 ? msg : msg.subarray(start), {
      protocol: 'udp',
      remoteAddress: socketAddress(rinfo.address),
      remotePort: rinfo.port,
      localAddress: this.local.address,
      localPort: this.local.port,
    });
  }
}
