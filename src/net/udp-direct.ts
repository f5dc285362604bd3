/**
 * Per-datagram UDP I/O of the relay worker without `dgram.Socket`'s per-call layers.
 *
 * `socket.send(msg, port, address)` costs, before the `sendmsg` itself: argument normalisation
 * (an array for the buffer list, port and string validation, a health check), a lookup call and
 * an `afterDns` closure, an async-id scope, and a new native-backed `SendWrap` object — per
 * packet, all garbage a moment later. Receiving goes through `EventEmitter.emit('message')`.
 * On the relay's hot path that was ~40 % of the CPU per packet (bench/README.md, "media").
 *
 * So, where Node exposes them, we call the socket's libuv handle directly — the same call
 * `dgram` makes last (`handle.send(req, list, count, port, ip, hasCallback)`): the handle tries a
 * synchronous send first and answers `bytes + 1`; only when the kernel queue is full (EAGAIN) does
 * it keep `req` for an asynchronous send and answer 0, and only then do we hand the next
 * packet a fresh `req` (the queued one keeps its buffer alive through `req.list`). Receiving, the
 * handle's `onmessage` calls our function directly, with the `rinfo` it built anyway.
 *
 * The internals are checked once per thread (`SendWrap` from `process.binding('udp_wrap')`, the
 * socket's state symbol, the handle's `send`); when anything is missing — another Node major
 * changed them — every call falls back to the public `dgram` API, same behaviour, slower. The
 * relay only ever sends to IP literals, so skipping dgram's lookup changes nothing.
 * Callers may force the public API (`STROWGER_MEDIA_DIRECT_UDP=0` for the media workers,
 * `STROWGER_SIP_DIRECT_UDP=0` for SIP: comparison, or a Node that misbehaves).
 *
 * Shared by the SIP UDP transport and the media workers (`src/net/` knows nothing of either).
 */
import type dgram from 'node:dgram';

/** The part of the libuv UDP handle (node's `UDPWrap`) that dgram calls. */
interface UdpHandle {
  send(req: object, list: Uint8Array[], count: number, port: number, address: string, hasCallback: boolean): number;
  onmessage: (nread: number, handle: UdpHandle, buf: Buffer, rinfo: { address: string; port: number }) => void;
}

interface Internals {
  SendWrap: new () => { list?: Uint8Array[] };
  state: symbol;
}

let internals: Internals | null | undefined;

function probe(socket: dgram.Socket, enabled: boolean): Internals | null {
  if (!enabled) return null;
  if (internals !== undefined) return internals;
  internals = null;
  try {
    const binding = (process as unknown as { binding(name: string): { SendWrap?: Internals['SendWrap'] } }).binding('udp_wrap');
    const state = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
    const handle = state === undefined ? undefined : (socket as unknown as Record<symbol, { handle?: UdpHandle }>)[state]?.handle;
    if (typeof binding.SendWrap === 'function' && state !== undefined && typeof handle?.send === 'function' && typeof handle.onmessage === 'function') {
      internals = { SendWrap: binding.SendWrap, state };
    }
  } catch {
    internals = null;
  }
  return internals;
}

/** The request object and buffer list for the next direct send (one per thread: sends are synchronous). */
let req: { list?: Uint8Array[] } | null = null;
let list: Uint8Array[] = [];

/** True when this thread can send and receive through the handles (after the first bound socket). */
export function usingDirectUdp(): boolean {
  return internals != null;
}

/**
 * Sends `msg` to an IP literal. Answers a negative errno when the kernel refused it at once
 * (the datagram is lost), else 0 or more: sent, or queued for an asynchronous send whose
 * outcome is not reported (as with `socket.send` without a callback). A closed socket sends
 * nothing and answers 0.
 */
export type DirectSend = (msg: Uint8Array, port: number, address: string) => number;

/**
 * The sender of a bound socket: through its libuv handle when `enabled` and this Node has the
 * internals, else through `socket.send` (whose errors are not reported).
 */
export function directSender(socket: dgram.Socket, enabled = true): DirectSend {
  const found = probe(socket, enabled);
  if (found === null) return (msg, port, address) => { socket.send(msg, port, address); return 0; };
  const state = (socket as unknown as Record<symbol, { handle: UdpHandle | null }>)[found.state];
  const SendWrap = found.SendWrap;
  return (msg, port, address) => {
    const handle = state.handle;
    if (handle === null) return 0;
    if (req === null) {
      req = new SendWrap();
      list = [msg];
    } else {
      list[0] = msg;
    }
    // >= 1: sent synchronously (bytes + 1); 0: queued with `req`; < 0: failed (req untouched by
    // the handle, but never reused after an error, to be safe).
    const r = handle.send(req, list, 1, port, address, false);
    if (r < 1) {
      req.list = list;
      req = null;
    }
    return r;
  };
}

/** Calls `onDatagram(msg, address, port)` for every datagram the bound socket receives. */
export function onDatagram(socket: dgram.Socket, onDatagram: (msg: Buffer, address: string, port: number) => void, enabled = true): void {
  const found = probe(socket, enabled);
  const handle = found === null ? null : (socket as unknown as Record<symbol, { handle: UdpHandle | null }>)[found.state].handle;
  if (handle === null) {
    socket.on('message', (msg, rinfo) => onDatagram(msg, rinfo.address, rinfo.port));
    return;
  }
  const dgramOnMessage = handle.onmessage;
  handle.onmessage = (nread, h, buf, rinfo) => {
    if (nread < 0) dgramOnMessage(nread, h, buf, rinfo); // dgram turns it into an 'error' event
    else onDatagram(buf, rinfo.address, rinfo.port);
  };
}

/** What a borrower of the socket's descriptor needs of its libuv handle (native-relay.ts). */
export interface UdpFdHandle {
  /** The socket's file descriptor, -1 when closed. */
  readonly fd: number;
  /** Stops libuv reading the socket (the descriptor stays open, sends still work). */
  recvStop(): number;
  /** Resumes reading (datagrams queued meanwhile are delivered). */
  recvStart(): number;
}

/** The libuv handle of a bound socket, or null when this Node does not expose it (or `enabled` is false). */
export function udpFdHandle(socket: dgram.Socket, enabled = true): UdpFdHandle | null {
  const found = probe(socket, enabled);
  if (found === null) return null;
  const handle = (socket as unknown as Record<symbol, { handle: Partial<UdpFdHandle> | null }>)[found.state].handle;
  if (handle === null || typeof handle.fd !== 'number' || handle.fd < 0 || typeof handle.recvStop !== 'function' || typeof handle.recvStart !== 'function') return null;
  return handle as UdpFdHandle;
}
