/**
 * One SIP-over-WebSocket connection (RFC 7118): each WebSocket message
 * carries exactly one SIP message (§5), in a text frame when it is UTF-8 and
 * a binary frame otherwise (§5.1). Content-Length is not needed for framing.
 */
import { isUtf8 } from 'node:buffer';
import type { WebSocket, RawData } from 'ws';
import { SipTransportError, TransportErrorCode } from './transport-errors.ts';
import type { CloseReason, MessageSource, SipConnection, TransportContext } from './transport-types.ts';

const CR = 0x0d;
const LF = 0x0a;
/** Answer to a CRLFCRLF ping sent inside a WS message (SIP.js keep-alive, RFC 5626 §3.5.1). */
const PONG = Buffer.from('\r\n', 'latin1');
/** RFC 6455 §7.4.1: 1001 "going away" for idle closes. */
const WS_GOING_AWAY = 1001;

export interface WsConnectionInit {
  readonly id: number;
  readonly protocol: 'ws' | 'wss';
  readonly ws: WebSocket;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
}

export class WsConnection implements SipConnection {
  readonly id: number;
  readonly protocol: 'ws' | 'wss';
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly outbound = false;
  lastActivity: number;
  idleExempt = false;
  closed = false;
  /** Cleared when a ping goes out, set by the pong; still clear at the next ping = dead peer. */
  private alive = true;
  private closeReason: CloseReason | null = null;
  private readonly ws: WebSocket;
  private readonly ctx: TransportContext;
  private readonly source: MessageSource;

  constructor(init: WsConnectionInit, ctx: TransportContext, onGone: (conn: WsConnection) => void) {
    this.id = init.id;
    this.protocol = init.protocol;
    this.remoteAddress = init.remoteAddress;
    this.remotePort = init.remotePort;
    this.localAddress = init.localAddress;
    this.localPort = init.localPort;
    this.ws = init.ws;
    this.ctx = ctx;
    this.lastActivity = ctx.now();
    this.source = Object.freeze({
      protocol: init.protocol,
      remoteAddress: init.remoteAddress,
      remotePort: init.remotePort,
      localAddress: init.localAddress,
      localPort: init.localPort,
      connectionId: init.id,
    });
    init.ws.on('message', (data: RawData) => this.onWsMessage(data));
    init.ws.on('pong', () => {
      this.alive = true;
      this.lastActivity = this.ctx.now();
    });
    init.ws.on('error', () => this.close('error'));
    init.ws.on('close', () => {
      this.closed = true;
      onGone(this);
      this.ctx.connectionClosed(this, this.closeReason ?? 'remote');
    });
  }

  send(data: Buffer): Promise<void> {
    if (this.closed) {
      return Promise.reject(new SipTransportError(TransportErrorCode.CONNECTION_CLOSED, `connection ${this.id} is closed`));
    }
    if (this.ws.bufferedAmount > this.ctx.limits.maxWriteBufferBytes) {
      this.close('backpressure');
      return Promise.reject(new SipTransportError(TransportErrorCode.CONNECTION_CLOSED, `connection ${this.id} is not reading`));
    }
    this.lastActivity = this.ctx.now();
    return new Promise((resolve, reject) => {
      this.ws.send(data, { binary: !isUtf8(data) }, (err) => {
        if (err) {
          reject(new SipTransportError(TransportErrorCode.WRITE_FAILED, `write on connection ${this.id} failed`, { cause: err }));
        } else {
          this.ctx.counters.messagesOut++;
          resolve();
        }
      });
    });
  }

  close(reason: CloseReason): void {
    if (this.closeReason === null) this.closeReason = reason;
    if (this.closed) return;
    this.closed = true;
    // Idle: a polite close handshake. Everything else (shutdown included) must not wait for the peer.
    if (reason === 'idle') this.ws.close(WS_GOING_AWAY);
    else this.ws.terminate();
  }

  /** Called every ping interval: a peer that did not answer the last ping is gone. */
  heartbeat(): void {
    if (this.closed) return;
    if (!this.alive) {
      this.close('keepalive');
      return;
    }
    this.alive = false;
    this.ws.ping();
  }

  private onWsMessage(data: RawData): void {
    this.lastActivity = this.ctx.now();
    const message = Buffer.isBuffer(data)
      ? data
      : Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.from(data);
    if (isKeepAlive(message)) {
      if (message.indexOf('\r\n\r\n') !== -1) {
        this.ctx.counters.keepAlivePings++;
        this.ws.send(PONG, { binary: false });
      }
      return;
    }
    this.ctx.counters.messagesIn++;
    this.ctx.deliver(message, this.source);
  }
}

function isKeepAlive(message: Buffer): boolean {
  for (let i = 0; i < message.length; i++) {
    if (message[i] !== CR && message[i] !== LF) return false;
  }
  return true;
}
