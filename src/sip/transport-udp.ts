/**
 * SIP over UDP (RFC 3261 §18): one `dgram` socket per address family and
 * port, one SIP message per datagram. Datagrams above `maxDatagramBytes` are
 * dropped (§18.1.1 leaves large messages to TCP), as are CRLF-only
 * keep-alives; leading CRLFs are skipped (§7.5) without copying.
 *
 * Datagrams go through the socket's libuv handle (`src/net/udp-direct.ts`): `dgram.send` costs a
 * lookup call, closures, an async-id scope and a native request object per message on top of
 * the `sendmsg`, and receiving an `EventEmitter` dispatch — a large share of a REGISTER's CPU.
 *
 * Datagrams are sent in groups: `send` queues, and the queue goes out back to back once the
 * event loop's poll phase is over (`setImmediate`), i.e. after the whole burst libuv read. The
 * peer is then woken once per burst instead of once per message: a `sendmsg` to a peer asleep in
 * `epoll_wait` paid ~24 µs of system time on a virtual machine (the wake-up crosses CPUs), one
 * to a peer already awake ~5 µs. The added delay is the rest of the burst's processing.
 */
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { directSender, onDatagram, udpFdHandle, type DirectSend } from '../net/udp-direct.ts';
import { bindUdp } from '../net/udp-bind.ts';
import { canonicalAddress, familyOf, socketAddress } from './transport-address.ts';
import { SipTransportError, TransportErrorCode } from './transport-errors.ts';
import { QueueDelayProbe } from './queue-delay-probe.ts';
import type { LocalEndpoint, SendTarget, SipTransport, TransportContext, TransportCounters, TransportLimits } from './transport-types.ts';

/** Requested SO_RCVBUF/SO_SNDBUF of SIP UDP sockets. */
export const UDP_SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

const CR = 0x0d;
const LF = 0x0a;

/** What a UDP transport uses of its layer (a send-only one of a registrar shard has nothing more). */
export interface UdpContext {
  readonly limits: Pick<TransportLimits, 'maxDatagramBytes'>;
  readonly counters: Pick<TransportCounters, 'messagesIn' | 'messagesOut' | 'datagramsDropped'>;
  deliver: TransportContext['deliver'];
}

/** A datagram waiting for the end of the burst, and its sender's promise. */
interface Queued {
  data: Uint8Array;
  port: number;
  address: string;
  resolve(): void;
  reject(err: Error): void;
}

export class UdpTransport implements SipTransport {
  readonly protocol = 'udp';
  readonly local: LocalEndpoint;
  private readonly socket: Socket;
  private readonly ctx: UdpContext;
  private readonly sendTo: DirectSend;
  private queue: Queued[] = [];
  private readonly flushQueue = (): void => this.flush();
  /** Pings itself through this socket's receive queue (overload control's queue delay), once asked. */
  private probe: QueueDelayProbe | null = null;
  /** The probe's source port: a datagram from it is looked at as a ping first (0: no probe). */
  private probePort = 0;
  private probeOpening: Promise<QueueDelayProbe | null> | undefined;
  private closed = false;

  private constructor(socket: Socket, local: LocalEndpoint, ctx: UdpContext, direct: boolean) {
    this.socket = socket;
    this.local = local;
    this.ctx = ctx;
    this.sendTo = directSender(socket, direct);
    onDatagram(socket, (msg, address, port) => this.onDatagram(msg, address, port), direct);
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
  static async bind(address: string, port: number, ctx: TransportContext, direct = true): Promise<UdpTransport> {
    const family = familyOf(canonicalAddress(address));
    const socket = createSocket({ type: family === 'IPv6' ? 'udp6' : 'udp4', ipv6Only: family === 'IPv6' });
    await bindUdp(socket, address, port);
    // A burst (a CPS step, a registration storm after an outage) must queue, not be dropped by
    // the kernel: a lost ACK or BYE leaves a call up until its timers run out. The kernel caps
    // this at net.core.rmem_max / wmem_max.
    for (const set of [(n: number) => socket.setRecvBufferSize(n), (n: number) => socket.setSendBufferSize(n)]) {
      try { set(UDP_SOCKET_BUFFER_BYTES); } catch { /* keep the OS default */ }
    }
    const bound = socket.address();
    return new UdpTransport(socket, { address: socketAddress(bound.address), port: bound.port, family }, ctx, direct);
  }

  /**
   * A send-only transport on a descriptor of a socket another thread reads (a registrar
   * shard's replies leave from the socket the request came in on): `fd` is this thread's own
   * duplicate, closed with the transport. Null when this Node does not expose the handle.
   */
  static adopt(fd: number, local: LocalEndpoint, ctx: UdpContext, direct = true): UdpTransport | null {
    const socket = createSocket({ type: local.family === 'IPv6' ? 'udp6' : 'udp4' });
    socket.bind({ fd });
    const handle = udpFdHandle(socket, direct);
    if (handle === null) { socket.close(); return null; }
    handle.recvStop();
    return new UdpTransport(socket, local, ctx, direct);
  }

  /** The socket's descriptor (-1 when this Node does not expose it): what {@link adopt} duplicates. */
  get fd(): number {
    return udpFdHandle(this.socket)?.fd ?? -1;
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
      if (this.queue.push({ data, port: target.port, address, resolve, reject }) === 1) setImmediate(this.flushQueue);
    });
  }

  /**
   * A probe of the time datagrams wait in this socket before they are read (opened once, closed
   * with the transport); null when it cannot be opened. Only a transport that reads its socket
   * can answer it (not one {@link adopt}ed).
   */
  queueDelayProbe(): Promise<QueueDelayProbe | null> {
    this.probeOpening ??= QueueDelayProbe.open(this.local).then((probe) => {
      if (this.closed) {
        probe?.close();
        return null;
      }
      this.probe = probe;
      this.probePort = probe?.port ?? 0;
      return probe;
    });
    return this.probeOpening;
  }

  close(): Promise<void> {
    this.closed = true;
    this.probe?.close();
    this.flush();
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  /** Sends the queued datagrams in order. */
  private flush(): void {
    const queue = this.queue;
    if (queue.length === 0) return;
    this.queue = [];
    for (const q of queue) {
      // A datagram the kernel queued (full send buffer) counts as sent: UDP promises no more, and
      // the transaction layer's retransmissions cover a loss.
      const r = this.sendTo(q.data, q.port, q.address);
      if (r < 0) {
        const cause = Object.assign(new Error(`sendmsg: errno ${-r}`), { errno: r, syscall: 'send' });
        q.reject(new SipTransportError(TransportErrorCode.WRITE_FAILED, `udp send to ${q.address}:${q.port} failed`, { cause }));
        continue;
      }
      this.ctx.counters.messagesOut++;
      q.resolve();
    }
  }

  private onDatagram(msg: Buffer, remoteAddress: string, remotePort: number): void {
    if (remotePort === this.probePort && this.probe!.take(msg)) return;
    let start = 0;
    while (start < msg.length && (msg[start] === CR || msg[start] === LF)) start++;
    if (start === msg.length || msg.length > this.ctx.limits.maxDatagramBytes) {
      this.ctx.counters.datagramsDropped++;
      return;
    }
    this.ctx.counters.messagesIn++;
    this.ctx.deliver(start === 0 ? msg : msg.subarray(start), {
      protocol: 'udp',
      remoteAddress: socketAddress(remoteAddress),
      remotePort,
      localAddress: this.local.address,
      localPort: this.local.port,
    });
  }
}
