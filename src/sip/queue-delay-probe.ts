/**
 * How long a datagram waits before the server reads it: the sojourn time CoDel steers by,
 * measured by sending ourselves one through the same queue.
 *
 * A saturated thread shows it nowhere else. Node reads at most 32 datagrams per socket per
 * loop turn, so its timers run nearly on time while the kernel's receive queue (4 MiB here,
 * thousands of REGISTERs) grows; and a thread starved of CPU by other processes reads as not
 * busy. Clients see the queue at once: past 500 ms (T1) every request in it is sent again,
 * and the retransmissions join the queue. So the probe pings the SIP socket from a loopback
 * socket of its own on each tick of the lag ticker (`overload-probe.ts`: every 10 ms while the
 * server is busy, every 100 ms when quiet, no wake-up of its own); the ping lines up behind every
 * datagram already queued, and the time until the transport hands it back (`take`) is what a
 * request arriving with it waits, kernel queue and event-loop turn together.
 *
 * A ping is 12 octets: 8 random octets fixed per probe (no remote party can forge them; the
 * transport checks them only for datagrams from the probe's port) and a sequence number.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { bindUdp } from '../net/udp-bind.ts';

/** Octets in a ping: the probe's token, then the sequence number (uint32, big-endian). */
export const PING_BYTES = 12;
const TOKEN_BYTES = 8;
/** Pings remembered; an older one still out is taken for lost (a full receive queue drops it). */
const SLOTS = 64;
/** A ping still out after this long is forgotten (dropped by a full queue): its age stops counting. */
const LOST_MS = 5000;

export interface QueueDelayTarget {
  /** The SIP socket's bound address (a wildcard is pinged on the loopback address of its family). */
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

export class QueueDelayProbe {
  private readonly socket: Socket;
  private readonly token = randomBytes(TOKEN_BYTES);
  private readonly ping = Buffer.alloc(PING_BYTES);
  /** performance.now() at which each slot's ping left; 0 = none out. */
  private readonly sentAt = new Float64Array(SLOTS);
  private seq = 0;
  /** Lowest sojourn of the pings taken since the last sample (Infinity: none). */
  private lowest = Infinity;
  private closed = false;

  private constructor(socket: Socket, readonly port: number, private readonly to: { address: string; port: number }) {
    this.socket = socket;
    this.token.copy(this.ping, 0);
    // A ping that cannot be sent (the SIP socket closed first) is one the sample does not see.
    socket.on('error', () => undefined);
  }

  /** Opens a probe for the socket at `target`; null when no loopback socket of its family can be bound (IPv6 off). */
  static async open(target: QueueDelayTarget): Promise<QueueDelayProbe | null> {
    const v6 = target.family === 'IPv6';
    const loopback = v6 ? '::1' : '127.0.0.1';
    const address = target.address === '0.0.0.0' || target.address === '::' ? loopback : target.address;
    const socket = createSocket({ type: v6 ? 'udp6' : 'udp4' });
    try {
      await bindUdp(socket, loopback, 0);
    } catch {
      return null;
    }
    socket.unref();
    return new QueueDelayProbe(socket, socket.address().port, { address, port: target.port });
  }

  /** Sends one ping now (nothing once closed: the lag ticker may still tick after its transport closed). */
  send(): void {
    if (this.closed) return;
    const seq = (this.seq = (this.seq + 1) >>> 0);
    this.ping.writeUInt32BE(seq, TOKEN_BYTES);
    this.sentAt[seq % SLOTS] = performance.now();
    this.socket.send(this.ping, this.to.port, this.to.address);
  }

  /**
   * The transport's check of a datagram from the probe's port: true (and the datagram is
   * consumed) when it is one of our pings.
   */
  take(msg: Uint8Array): boolean {
    if (msg.length !== PING_BYTES) return false;
    for (let i = 0; i < TOKEN_BYTES; i++) if (msg[i] !== this.token[i]) return false;
    const seq = ((msg[8]! << 24) | (msg[9]! << 16) | (msg[10]! << 8) | msg[11]!) >>> 0;
    const slot = seq % SLOTS;
    const at = this.sentAt[slot]!;
    if (at === 0) return true;
    this.sentAt[slot] = 0;
    const sojourn = performance.now() - at;
    if (sojourn < this.lowest) this.lowest = sojourn;
    return true;
  }

  /**
   * The queue's delay since the previous call, ms: the lowest sojourn of the pings taken (a
   * burst the loop drains between two pings is not a standing queue), raised to the age of
   * the oldest ping still out (a queue that returned none is at least that long). 0 when no
   * ping came back or is out.
   */
  sample(): number {
    const now = performance.now();
    let oldest = 0;
    for (let i = 0; i < SLOTS; i++) {
      const at = this.sentAt[i]!;
      if (at === 0) continue;
      const age = now - at;
      if (age > LOST_MS) this.sentAt[i] = 0;
      else if (age > oldest) oldest = age;
    }
    const taken = this.lowest === Infinity ? 0 : this.lowest;
    this.lowest = Infinity;
    return Math.max(taken, oldest);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
  }
}
