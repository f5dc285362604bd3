/**
 * One TCP or TLS connection: frames incoming bytes into SIP messages
 * (stream-framer.ts), answers CRLF keep-alives and writes outgoing messages.
 */
import type { Socket } from 'node:net';
import { StreamFramer } from './stream-framer.ts';
import { socketAddress } from './transport-address.ts';
import type { StreamFramerSink } from './stream-framer.ts';
import { SipTransportError, TransportErrorCode } from './transport-errors.ts';
import type {
  CloseReason,
  MessageSource,
  SipConnection,
  TransportContext,
} from './transport-types.ts';

/** RFC 5626 §3.5.1: a CRLFCRLF ping is answered by a single CRLF pong. */
const PONG = Buffer.from('\r\n', 'latin1');

export interface StreamConnectionInit {
  readonly id: number;
  readonly protocol: 'tcp' | 'tls';
  readonly socket: Socket;
  /** Canonical remote address (for a dial: the target). */
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly outbound: boolean;
  /** Dial still in progress: writes wait for it. */
  readonly connecting?: Promise<void>;
}

export class StreamConnection implements SipConnection, StreamFramerSink {
  readonly id: number;
  readonly protocol: 'tcp' | 'tls';
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly outbound: boolean;
  localAddress = '';
  localPort = 0;
  lastActivity: number;
  idleExempt = false;
  closed = false;
  private readonly socket: Socket;
  private readonly ctx: TransportContext;
  private readonly framer: StreamFramer;
  private connecting: Promise<void> | null;
  private closeReason: CloseReason | null = null;
  /** Shared by every message of this flow (set once the local end is known). */
  private source: MessageSource;

  constructor(init: StreamConnectionInit, ctx: TransportContext) {
    this.id = init.id;
    this.protocol = init.protocol;
    this.remoteAddress = init.remoteAddress;
    this.remotePort = init.remotePort;
    this.outbound = init.outbound;
    this.socket = init.socket;
    this.ctx = ctx;
    this.lastActivity = ctx.now();
    this.framer = new StreamFramer(this, ctx.limits);
    this.connecting = init.connecting ?? null;
    this.source = this.makeSource();
    if (this.connecting !== null) {
      this.connecting.then(
        () => {
          this.connecting = null;
          this.source = this.makeSource();
        },
        () => this.close('error'),
      );
    }
    init.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    init.socket.on('error', () => this.close('error'));
    init.socket.on('end', () => this.close('remote'));
    init.socket.on('close', () => this.onClose());
  }

  /** Bytes of an incomplete message buffered, and the most ever buffered. */
  get buffered(): { bytes: number; highWater: number } {
    return { bytes: this.framer.bufferedBytes, highWater: this.framer.highWaterBytes };
  }

  send(data: Buffer): Promise<void> {
    if (this.closed) {
      return Promise.reject(closedError(this.id));
    }
    if (this.connecting !== null) return this.connecting.then(() => this.write(data));
    return this.write(data);
  }

  close(reason: CloseReason): void {
    if (this.closeReason === null) this.closeReason = reason;
    if (this.closed) return;
    this.closed = true;
    this.framer.stop();
    this.socket.destroy();
  }

  onMessage(message: Buffer): void {
    this.ctx.counters.messagesIn++;
    this.ctx.deliver(message, this.source);
  }

  onPing(): void {
    this.ctx.counters.keepAlivePings++;
    if (!this.closed) this.socket.write(PONG);
  }

  private onData(chunk: Buffer): void {
    this.lastActivity = this.ctx.now();
    if (this.framer.push(chunk) !== null) {
      // RFC 3261 §18.3: a stream without a usable Content-Length cannot be resynchronised.
      this.ctx.counters.framingErrors++;
      this.close('framing');
    }
  }

  private write(data: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(closedError(this.id));
    this.lastActivity = this.ctx.now();
    if (this.socket.writableLength > this.ctx.limits.maxWriteBufferBytes) {
      this.close('backpressure');
      return Promise.reject(closedError(this.id));
    }
    return new Promise<void>((resolve, reject) => {
      this.socket.write(data, (err) => {
        if (err) {
          reject(new SipTransportError(TransportErrorCode.WRITE_FAILED, `write on connection ${this.id} failed`, { cause: err }));
        } else {
          this.ctx.counters.messagesOut++;
          resolve();
        }
      });
    });
  }

  private onClose(): void {
    this.closed = true;
    this.framer.stop();
    this.ctx.connectionClosed(this, this.closeReason ?? 'remote');
  }

  private makeSource(): MessageSource {
    this.localAddress = socketAddress(this.socket.localAddress);
    this.localPort = this.socket.localPort ?? 0;
    return Object.freeze({
      protocol: this.protocol,
      remoteAddress: this.remoteAddress,
      remotePort: this.remotePort,
      localAddress: this.localAddress,
      localPort: this.localPort,
      connectionId: this.id,
    });
  }
}

function closedError(id: number): SipTransportError {
  return new SipTransportError(TransportErrorCode.CONNECTION_CLOSED, `connection ${id} is closed`);
}
