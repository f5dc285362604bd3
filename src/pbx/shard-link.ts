/**
 * How a SIP worker thread (registrar shard, call shard) sends: UDP on its own duplicates of the
 * main thread's socket descriptors (`UdpTransport.adopt`, native `dupFd`), so a datagram costs
 * the main thread nothing; streams (and UDP when the addon is missing) through the main
 * thread, which owns the connections and the sockets.
 */
import type { Logger } from 'pino';
import type { EndpointTransports } from '../sip/endpoint.ts';
import type { LocalEndpoint, SendTarget } from '../sip/transport-types.ts';
import { UdpTransport } from '../sip/transport-udp.ts';
import { canonicalAddress, familyOf } from '../sip/transport-address.ts';
import { loadNativeRelay } from '../media/native-relay.ts';

const SENT = Promise.resolve();

/**
 * Send-only transports on duplicates of `sockets`. Empty when the native addon (which
 * duplicates descriptors) or a socket is unavailable: everything then goes through the main thread.
 */
export function adoptUdp(sockets: ReadonlyArray<{ fd: number; local: LocalEndpoint }>, maxDatagramBytes: number, log: Logger): UdpTransport[] {
  if (sockets.length === 0) return [];
  const { addon, reason } = loadNativeRelay();
  if (addon === null) { log.info({ reason }, 'SIP worker sends through the main thread'); return []; }
  const ctx = { limits: { maxDatagramBytes }, counters: { messagesIn: 0, messagesOut: 0, datagramsDropped: 0 }, deliver: () => undefined };
  const out: UdpTransport[] = [];
  for (const { fd, local } of sockets) {
    const own = addon.dupFd(fd);
    const t = own < 0 ? null : UdpTransport.adopt(own, local, ctx);
    if (t === null) {
      log.info({ fd, errno: own < 0 ? -own : undefined }, 'SIP worker sends through the main thread');
      for (const u of out) void u.close();
      return [];
    }
    out.push(t);
  }
  return out;
}

/**
 * The endpoint's transports in a worker: UDP out on the adopted socket of the target's family
 * (and local port), the rest handed to `viaMain`. `beforeUdp` runs before each datagram leaves
 * (a worker flushes what the main thread must know first). `onMessage` is the endpoint's to fill.
 */
export function workerLink(udp: readonly UdpTransport[], viaMain: (target: SendTarget, data: Buffer) => void, beforeUdp: () => void = () => undefined): EndpointTransports {
  return {
    send: (target, data) => {
      if (target.protocol === 'udp' && udp.length > 0) {
        const family = familyOf(canonicalAddress(target.address));
        const t = udp.find((u) => u.local.family === family && (target.localPort === undefined || u.local.port === target.localPort));
        if (t !== undefined) {
          beforeUdp();
          return t.send(target, data);
        }
      }
      viaMain(target, data);
      return SENT;
    },
    onMessage: () => undefined,
  };
}
