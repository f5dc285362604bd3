/**
 * The SIP transport layer (RFC 3261 §18): owns every listening transport
 * (UDP, TCP, TLS, WS, WSS on IPv4 and IPv6), the shared connection table and
 * its limits, and the idle sweep. Upper layers see two things: `onMessage`
 * for each complete message and `send(target, data)`.
 *
 * Sending (§18.1.1, §18.2.2, RFC 5923): the flow named by `connectionId`
 * while it is alive; else an open connection to (protocol, address, port),
 * including one the peer opened to us (keyed by its source address:port);
 * else a new TCP/TLS connection. WS/WSS peers cannot be dialed.
 */
import { canonicalAddress, familyOf } from './transport-address.ts';
import { ConnectionTable } from './transport-connection-table.ts';
import { SipTransportError, TransportErrorCode } from './transport-errors.ts';
import { StreamTransport } from './transport-stream.ts';
import { listenTcp, tcpSocketFactory } from './transport-tcp.ts';
import { listenTls, tlsSocketFactory } from './transport-tls.ts';
import type { SipTlsOptions } from './transport-tls.ts';
import { UdpTransport } from './transport-udp.ts';
import { WsTransport } from './transport-ws.ts';
import { systemTimers } from './timers.ts';
import type { TimerHandle, Timers } from './timers.ts';
import type {
  AddressFamily,
  CloseReason,
  ConnectionInfo,
  MessageSource,
  SendTarget,
  SipConnection,
  SipTransport,
  TransportContext,
  TransportCounters,
  TransportLimits,
  TransportProtocol,
} from './transport-types.ts';

/** One listener: `{ protocol: 'udp', address: '::', port: 5060 }`. Port 0 picks a free port. */
export interface ListenSpec {
  readonly protocol: TransportProtocol;
  readonly address: string;
  readonly port: number;
}

export interface TransportLayerOptions {
  readonly listen: readonly ListenSpec[];
  /** Certificate and peer verification for TLS and WSS (see tls-self-signed.ts). */
  readonly tls?: SipTlsOptions;
  /** Close a connection after this long without traffic. Default 300,000 ms (5 min); 0 disables. */
  readonly idleTimeoutMs?: number;
  /** Default 10,000. */
  readonly maxConnections?: number;
  /** Default 100. */
  readonly maxConnectionsPerIp?: number;
  /** Default 65,535. */
  readonly maxDatagramBytes?: number;
  /** Default 65,536. */
  readonly maxHeaderBytes?: number;
  /** Default 1,048,576. */
  readonly maxBodyBytes?: number;
  /** Default 1,048,576. */
  readonly maxWriteBufferBytes?: number;
  /** Default 10,000 ms (well inside Timer B/F = 32 s, RFC 3261 §17.1.1.2). */
  readonly connectTimeoutMs?: number;
  /** WS ping period. Default 30,000 ms; 0 disables. */
  readonly wsPingIntervalMs?: number;
  /** Largest WS message. Default maxHeaderBytes + maxBodyBytes. */
  readonly wsMaxPayloadBytes?: number;
  /** Origins allowed to open WS/WSS (see `WsTransportOptions.allowedOrigins`). */
  readonly wsAllowedOrigins?: readonly string[];
  /** UDP through the socket's libuv handle (`src/net/udp-direct.ts`), not `dgram`'s per-call layers. Default true. */
  readonly directUdp?: boolean;
  /** Clock and timers for idle accounting (tests inject FakeTimers). */
  readonly timers?: Timers;
  readonly onMessage?: MessageHandler;
  readonly onConnectionClosed?: ConnectionClosedHandler;
}

export type MessageHandler = (data: Buffer, source: MessageSource) => void;
export type ConnectionClosedHandler = (connectionId: number, info: ClosedConnectionInfo) => void;

export interface ClosedConnectionInfo extends ConnectionInfo {
  readonly reason: CloseReason;
}

export interface TransportStats extends TransportCounters {
  readonly connections: number;
  readonly transports: number;
}

/**
 * @example
 * ```ts
 * const layer = new TransportLayer({
 *   listen: [{ protocol: 'udp', address: '0.0.0.0', port: 5060 }, { protocol: 'tcp', address: '0.0.0.0', port: 5060 }],
 * });
 * layer.onMessage = (data, source) => transactions.receive(data, source);
 * layer.onConnectionClosed = (id) => registrar.dropFlow(id);
 * await layer.start();
 * await layer.send({ protocol: 'udp', address: '192.0.2.7', port: 5060 }, bytes);
 * ```
 */
export class TransportLayer implements TransportContext {
  /** Every complete message. Exceptions thrown here are caught and passed to {@link onError}. */
  onMessage: MessageHandler;
  /** A TCP/TLS/WS/WSS connection closed (drop flow-bound registrations, RFC 5626 §5.2). */
  onConnectionClosed: ConnectionClosedHandler;
  /** An upper-layer handler threw. Default: console.error. */
  onError: (err: unknown) => void = (err) => console.error('sip transport handler failed', err);

  readonly limits: TransportLimits;
  readonly table: ConnectionTable;
  readonly counters: TransportCounters = {
    messagesIn: 0,
    messagesOut: 0,
    datagramsDropped: 0,
    framingErrors: 0,
    connectionsAccepted: 0,
    connectionsDialed: 0,
    connectionsRejected: 0,
    keepAlivePings: 0,
    sendFailures: 0,
  };
  private readonly options: TransportLayerOptions;
  private readonly timers: Timers;
  private readonly idleTimeoutMs: number;
  private readonly list: SipTransport[] = [];
  private readonly dialers = new Map<'tcp' | 'tls', StreamTransport>();
  /** Certificate and verification policy now (setCertificate replaces the pair). */
  private tls: SipTlsOptions | undefined;
  private sweepTimer: TimerHandle | null = null;
  private state: 'new' | 'started' | 'closed' = 'new';

  constructor(options: TransportLayerOptions) {
    this.options = options;
    this.tls = options.tls;
    this.timers = options.timers ?? systemTimers;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 300_000;
    this.onMessage = options.onMessage ?? (() => undefined);
    this.onConnectionClosed = options.onConnectionClosed ?? (() => undefined);
    this.limits = {
      maxDatagramBytes: options.maxDatagramBytes ?? 65_535,
      maxHeaderBytes: options.maxHeaderBytes ?? 65_536,
      maxBodyBytes: options.maxBodyBytes ?? 1_048_576,
      maxWriteBufferBytes: options.maxWriteBufferBytes ?? 1_048_576,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    };
    this.table = new ConnectionTable({
      maxConnections: options.maxConnections,
      maxConnectionsPerIp: options.maxConnectionsPerIp,
    });
  }

  /** Listening transports, in the order of `options.listen` (with the real ports). */
  get transports(): readonly SipTransport[] {
    return this.list;
  }

  /**
   * Hot reload: TLS and WSS listeners present `pair` to new handshakes, and new TLS dials
   * offer it as client certificate. Established connections are left as they are.
   * Returns how many listeners took it.
   */
  setCertificate(pair: { cert: string; key: string }): number {
    this.tls = { ...this.tls, cert: pair.cert, key: pair.key };
    // The next TLS dial builds its factory from the new options; open dialed connections stay in the table.
    this.dialers.delete('tls');
    let n = 0;
    for (const t of this.list) if (t.setCertificate?.(pair)) n++;
    return n;
  }

  /** Binds every listener; on failure closes what was bound and rejects. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`transport layer already ${this.state}`);
    this.state = 'started';
    try {
      for (const spec of this.options.listen) this.list.push(await this.open(spec));
    } catch (err) {
      await this.close();
      throw err;
    }
    this.scheduleSweep();
  }

  /**
   * Sends one message. Resolves when the bytes reached the kernel, rejects
   * with a {@link SipTransportError} (the transaction layer treats it as a
   * 503, RFC 3261 §8.1.3.1).
   */
  send(target: SendTarget, data: Buffer): Promise<void> {
    const result = this.route(target, data);
    result.catch(() => this.counters.sendFailures++);
    return result;
  }

  /** Snapshot of a live connection, or undefined. */
  connection(id: number): ConnectionInfo | undefined {
    const conn = this.table.get(id);
    return conn === undefined || conn.closed ? undefined : describe(conn);
  }

  /** Closes a connection (e.g. a registrar dropping a flow). Returns false if unknown. */
  closeConnection(id: number, reason: CloseReason = 'local'): boolean {
    const conn = this.table.get(id);
    if (conn === undefined) return false;
    conn.close(reason);
    return true;
  }

  /**
   * Keeps a connection open without traffic, e.g. the flow of a registration
   * whose UA sends no keep-alives (RFC 5626 §4.4 makes keep-alives optional).
   */
  setIdleExempt(id: number, exempt: boolean): boolean {
    const conn = this.table.get(id);
    if (conn === undefined) return false;
    conn.idleExempt = exempt;
    return true;
  }

  stats(): TransportStats {
    return { ...this.counters, connections: this.table.size, transports: this.list.length };
  }

  /** Closes every connection and listener. Idempotent. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.sweepTimer !== null) this.timers.clearTimeout(this.sweepTimer);
    this.sweepTimer = null;
    for (const conn of [...this.table.values()]) conn.close('local');
    await Promise.all(this.list.map((t) => t.close()));
  }

  // TransportContext, called by the transports.

  now(): number {
    return this.timers.now();
  }

  deliver(data: Buffer, source: MessageSource): void {
    try {
      this.onMessage(data, source);
    } catch (err) {
      this.onError(err);
    }
  }

  connectionClosed(conn: SipConnection, reason: CloseReason): void {
    if (!this.table.remove(conn)) return;
    try {
      this.onConnectionClosed(conn.id, { ...describe(conn), reason });
    } catch (err) {
      this.onError(err);
    }
  }

  private route(target: SendTarget, data: Buffer): Promise<void> {
    if (this.state !== 'started') {
      return Promise.reject(new SipTransportError(TransportErrorCode.CLOSED, 'transport layer is not running'));
    }
    if (target.connectionId !== undefined) {
      const conn = this.table.get(target.connectionId);
      // A dead flow falls through to address-based delivery (RFC 3261 §18.2.2).
      if (conn !== undefined && !conn.closed) return conn.send(data);
    }
    const address = canonicalAddress(target.address);
    if (address === '' || !(target.port > 0 && target.port < 65_536)) {
      return Promise.reject(
        new SipTransportError(
          TransportErrorCode.INVALID_TARGET,
          `${target.address}:${target.port} is not an IP address and port (resolve names first, RFC 3263)`,
        ),
      );
    }
    if (target.protocol !== 'udp') {
      // Reuse any open flow to that remote end, whichever transport accepted or dialed it (RFC 5923).
      const open = this.table.find(target.protocol, address, target.port);
      if (open !== undefined) return open.send(data);
    }
    const transport = this.pick(target.protocol, familyOf(address), target.localPort);
    if (transport === undefined) {
      return Promise.reject(
        new SipTransportError(TransportErrorCode.UNSUPPORTED, `no ${target.protocol} transport for ${target.address}`),
      );
    }
    return transport.send(target, data);
  }

  /** Same protocol; for UDP same family (and local port when asked); TCP/TLS fall back to a dialer. */
  private pick(protocol: TransportProtocol, family: AddressFamily, localPort?: number): SipTransport | undefined {
    let sameFamily: SipTransport | undefined;
    let any: SipTransport | undefined;
    for (const t of this.list) {
      if (t.protocol !== protocol) continue;
      if (t.local.family === family) {
        if (localPort === undefined || t.local.port === localPort) return t;
        sameFamily ??= t;
      }
      any ??= t;
    }
    if (sameFamily !== undefined) return sameFamily;
    if (protocol === 'udp') return undefined;
    if (any !== undefined) return any;
    if (protocol === 'tcp' || protocol === 'tls') return this.dialer(protocol);
    return undefined;
  }

  private dialer(protocol: 'tcp' | 'tls'): StreamTransport {
    let dialer = this.dialers.get(protocol);
    if (dialer === undefined) {
      const factory = protocol === 'tcp' ? tcpSocketFactory : tlsSocketFactory(this.tls ?? {});
      dialer = StreamTransport.dialer(factory, this);
      this.dialers.set(protocol, dialer);
    }
    return dialer;
  }

  private open(spec: ListenSpec): Promise<SipTransport> {
    switch (spec.protocol) {
      case 'udp':
        return UdpTransport.bind(spec.address, spec.port, this, this.options.directUdp ?? true);
      case 'tcp':
        return listenTcp(spec.address, spec.port, this);
      case 'tls':
        return listenTls(spec.address, spec.port, this.tls ?? {}, this);
      case 'ws':
      case 'wss':
        return WsTransport.listen(
          spec.protocol,
          spec.address,
          spec.port,
          {
            tls: this.tls,
            pingIntervalMs: this.options.wsPingIntervalMs,
            maxPayloadBytes: this.options.wsMaxPayloadBytes,
            allowedOrigins: this.options.wsAllowedOrigins,
          },
          this,
        );
    }
  }

  /** One timer for all connections: cheaper than a timer per flow refreshed on every packet. */
  private scheduleSweep(): void {
    if (this.idleTimeoutMs <= 0 || this.state !== 'started') return;
    const every = Math.min(Math.max(Math.floor(this.idleTimeoutMs / 4), 10), 5_000);
    this.sweepTimer = this.timers.setTimeout(() => {
      this.sweepIdle();
      this.scheduleSweep();
    }, every);
  }

  /** Closes connections idle for idleTimeoutMs. Public for tests driving a fake clock. */
  sweepIdle(): number {
    const idle = this.table.idle(this.timers.now(), this.idleTimeoutMs);
    for (const conn of idle) conn.close('idle');
    return idle.length;
  }
}

/**
 * Where a response to a message from `source` goes (RFC 3261 §18.2.2): the
 * same flow, else the source address and port, leaving UDP from the socket
 * the request arrived on. (A Via `received`/`rport`/`maddr` override is the
 * transaction user's business: it builds its own target then.)
 *
 * @example
 * ```ts
 * layer.onMessage = (data, source) => transactions.receive(parse(data), replyTarget(source));
 * ```
 */
export function replyTarget(source: MessageSource): SendTarget {
  return {
    protocol: source.protocol,
    address: source.remoteAddress,
    port: source.remotePort,
    connectionId: source.connectionId,
    localPort: source.protocol === 'udp' ? source.localPort : undefined,
  };
}

function describe(conn: SipConnection): ConnectionInfo {
  return {
    id: conn.id,
    protocol: conn.protocol,
    remoteAddress: conn.remoteAddress,
    remotePort: conn.remotePort,
    localAddress: conn.localAddress,
    localPort: conn.localPort,
    outbound: conn.outbound,
  };
}
