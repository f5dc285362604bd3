/**
 * Transport-neutral types of the SIP transport layer (RFC 3261 §18).
 *
 * Everything above the transport layer (transactions, dialogs, registrar) sees
 * raw `Buffer`s plus a {@link MessageSource} for what arrived and a
 * {@link SendTarget} for what leaves; it never touches sockets.
 */

/** Transport protocols of RFC 3261 §18 and RFC 7118 (lower case, as in Via `SIP/2.0/<proto>`). */
import type { ConnectionTable } from './transport-connection-table.ts';

export type TransportProtocol = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

/** Connection-oriented protocols: messages are framed and flows have ids. */
export type StreamProtocol = Exclude<TransportProtocol, 'udp'>;

export type AddressFamily = 'IPv4' | 'IPv6';

/** Where a transport listens. */
export interface LocalEndpoint {
  readonly address: string;
  readonly port: number;
  readonly family: AddressFamily;
}

/**
 * Where a message came from. For stream transports one frozen object is
 * shared by every message of the connection (no per-message allocation), so
 * treat it as read-only.
 */
export interface MessageSource {
  readonly protocol: TransportProtocol;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** Set for stream transports: the flow the message arrived on (RFC 5626 §3.2 "flow"). */
  readonly connectionId?: number;
}

/**
 * Where to send a message. `address` is an IP literal (brackets allowed for
 * IPv6): resolving names (RFC 3263) happens above this layer.
 */
export interface SendTarget {
  readonly protocol: TransportProtocol;
  readonly address: string;
  readonly port: number;
  /** Prefer this connection (the flow a request arrived on, RFC 3261 §18.2.2). */
  readonly connectionId?: number;
  /** Server name for TLS SNI and certificate checks when dialing a new TLS connection. */
  readonly serverName?: string;
  /** How a new TLS connection checks this server (default: the layer's `tls` options). */
  readonly tls?: TlsClientPolicy;
  /** UDP: send from the socket bound to this local port (replies leave where requests came in). */
  readonly localPort?: number;
}

/**
 * Certificate checks for one TLS server we dial (a trunk), RFC 5922: by default the chain must
 * lead to a system CA (or `ca`) and name `serverName`.
 */
export interface TlsClientPolicy {
  /** PEM CA(s) trusted besides the system CAs. */
  readonly ca?: string;
  /** false: accept any certificate (the caller logs that it asked for this). Default true. */
  readonly verify?: boolean;
  /** Pinned SHA-256 fingerprint (`AA:BB:…`): the certificate must be exactly this one, whatever its chain. */
  readonly fingerprint256?: string;
}

/** Why a connection closed; passed to `onConnectionClosed`. */
export type CloseReason =
  | 'remote' // peer closed (FIN / WS close)
  | 'error' // socket error
  | 'idle' // no traffic for idleTimeoutMs
  | 'framing' // stream framing violation (RFC 3261 §18.3)
  | 'limit' // connection limit hit
  | 'keepalive' // WS ping not answered
  | 'backpressure' // peer does not read what we write
  | 'local'; // closed by us (shutdown, closeConnection)

/** Read-only view of a connection, safe to hand out to upper layers. */
export interface ConnectionInfo {
  readonly id: number;
  readonly protocol: StreamProtocol;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** True when we dialed it, false when the peer connected to us. */
  readonly outbound: boolean;
}

/** A live stream connection (TCP, TLS, WS or WSS) as the connection table sees it. */
export interface SipConnection extends ConnectionInfo {
  /** Monotonic ms of the last byte in or out (CRLF keep-alives and WS pongs count). */
  lastActivity: number;
  /** Exempt from the idle timeout (e.g. a flow bound to a registration, RFC 5626). */
  idleExempt: boolean;
  readonly closed: boolean;
  /** Resolves when the bytes are handed to the kernel; rejects with a {@link SipTransportError}. */
  send(data: Buffer): Promise<void>;
  close(reason: CloseReason): void;
}

/** One listening transport: a UDP socket, a TCP/TLS server or a WS/WSS server. */
export interface SipTransport {
  readonly protocol: TransportProtocol;
  readonly local: LocalEndpoint;
  /** Send without a usable `connectionId` (the layer resolves ids first). */
  send(target: SendTarget, data: Buffer): Promise<void>;
  close(): Promise<void>;
  /** TLS and WSS listeners: present this certificate to new handshakes (hot reload). */
  setCertificate?(pair: { cert: string | Buffer; key: string | Buffer }): boolean;
}

/** What a transport gets from its layer; implemented by {@link TransportLayer}. */
export interface TransportContext {
  readonly limits: TransportLimits;
  readonly table: ConnectionTable;
  readonly counters: TransportCounters;
  /** Monotonic milliseconds (idle accounting). */
  now(): number;
  /** A complete message arrived. */
  deliver(data: Buffer, source: MessageSource): void;
  /** A connection in `table` closed: the layer removes it and reports it once. */
  connectionClosed(conn: SipConnection, reason: CloseReason): void;
}

/** Limits shared by all transports of a layer. */
export interface TransportLimits {
  /** Largest accepted UDP datagram (RFC 768 caps at 65,535). */
  readonly maxDatagramBytes: number;
  /** Cap on a header section (start line + headers + CRLFCRLF) on streams. */
  readonly maxHeaderBytes: number;
  /** Largest Content-Length accepted on streams; also bounds a WS message with maxHeaderBytes. */
  readonly maxBodyBytes: number;
  /** Unsent bytes queued on one connection before it is dropped as a slow reader. */
  readonly maxWriteBufferBytes: number;
  readonly connectTimeoutMs: number;
}

/** Plain counters; {@link TransportLayer.stats} returns a snapshot. */
export interface TransportCounters {
  messagesIn: number;
  messagesOut: number;
  datagramsDropped: number;
  framingErrors: number;
  connectionsAccepted: number;
  connectionsDialed: number;
  connectionsRejected: number;
  keepAlivePings: number;
  sendFailures: number;
}
