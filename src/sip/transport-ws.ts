/**
 * SIP over WebSocket (RFC 7118) on its own HTTP or HTTPS port. The handshake
 * must offer the "sip" subprotocol (§4.1); a handshake without it is refused
 * with 400, as RFC 6455 §4.2.2 allows a server that will not serve the
 * request, instead of opening a WebSocket we could never use for SIP. Plain
 * HTTP requests get 426 Upgrade Required. A WebSocket client cannot be
 * dialed (§5: the server only answers on existing connections).
 */
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { canonicalAddress, familyOf, socketAddress } from './transport-address.ts';
import { SipTransportError, TransportErrorCode } from './transport-errors.ts';
import type { SipTlsOptions } from './transport-tls.ts';
import { setServerCertificate, sniCallback, type CertPair } from './tls-sni.ts';
import { WsConnection } from './transport-ws-connection.ts';
import type { LocalEndpoint, SendTarget, SipTransport, TransportContext } from './transport-types.ts';

export const SIP_WS_SUBPROTOCOL = 'sip';

export interface WsTransportOptions {
  /** WS ping period; a peer that misses one pong is dropped. Default 30,000 ms; 0 disables. */
  readonly pingIntervalMs?: number;
  /** Largest WebSocket message accepted (RFC 6455 close 1009 above). Default maxHeaderBytes + maxBodyBytes. */
  readonly maxPayloadBytes?: number;
  /** Certificate for WSS. Required when protocol is 'wss'. */
  readonly tls?: SipTlsOptions;
  /**
   * Origins (RFC 6454 `scheme://host[:port]`, lower case) whose pages may open a SIP WebSocket;
   * `*` allows any. Default (undefined): a browser page of the same host name as the WebSocket
   * URL's (any scheme and port, so the HTTP server's softphone page on :8080 reaches WSS on
   * :8443). A handshake without Origin is not from a browser page and is always allowed: the
   * check stops other sites' pages from using a visitor's browser, not SIP clients (RFC 6455 §10.2).
   */
  readonly allowedOrigins?: readonly string[];
}

export class WsTransport implements SipTransport {
  readonly protocol: 'ws' | 'wss';
  readonly local: LocalEndpoint;
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly ctx: TransportContext;
  private readonly connections = new Set<WsConnection>();
  private readonly pingTimer: ReturnType<typeof setInterval> | null;
  private readonly allowedOrigins: readonly string[] | undefined;

  private constructor(
    protocol: 'ws' | 'wss',
    server: Server,
    local: LocalEndpoint,
    options: WsTransportOptions,
    ctx: TransportContext,
  ) {
    this.protocol = protocol;
    this.server = server;
    this.local = local;
    this.ctx = ctx;
    this.allowedOrigins = options.allowedOrigins;
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: options.maxPayloadBytes ?? ctx.limits.maxHeaderBytes + ctx.limits.maxBodyBytes,
      handleProtocols: (offered) => (offered.has(SIP_WS_SUBPROTOCOL) ? SIP_WS_SUBPROTOCOL : false),
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
    const every = options.pingIntervalMs ?? 30_000;
    this.pingTimer = every > 0 ? setInterval(() => this.heartbeat(), every) : null;
    this.pingTimer?.unref();
  }

  /**
   * Listens for SIP over WS or WSS.
   *
   * @example
   * ```ts
   * const wss = await WsTransport.listen('wss', '0.0.0.0', 8443, { tls: { cert, key } }, layerContext);
   * ```
   */
  static async listen(
    protocol: 'ws' | 'wss',
    address: string,
    port: number,
    options: WsTransportOptions,
    ctx: TransportContext,
  ): Promise<WsTransport> {
    let server: Server;
    if (protocol === 'wss') {
      const tls = options.tls;
      if (tls?.cert === undefined || tls.key === undefined) throw new Error('a WSS listener needs tls.cert and tls.key');
      server = createHttpsServer({ cert: tls.cert, key: tls.key, ca: tls.ca, SNICallback: sniCallback(tls.sniCerts ?? []) });
    } else {
      server = createHttpServer();
    }
    server.on('request', (_req, res) => {
      res.writeHead(426, { Upgrade: 'websocket', Connection: 'close', 'Content-Type': 'text/plain' });
      res.end('SIP over WebSocket endpoint (RFC 7118): upgrade with subprotocol "sip"\n');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: address, port, ipv6Only: familyOf(canonicalAddress(address)) === 'IPv6' }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', () => undefined);
    const bound = server.address();
    if (bound === null || typeof bound === 'string') throw new Error('ws server has no address');
    const local: LocalEndpoint = {
      address: socketAddress(bound.address),
      port: bound.port,
      family: bound.family === 'IPv6' ? 'IPv6' : 'IPv4',
    };
    return new WsTransport(protocol, server, local, options, ctx);
  }

  send(target: SendTarget, data: Buffer): Promise<void> {
    const address = canonicalAddress(target.address);
    const open = address === '' ? undefined : this.ctx.table.find(this.protocol, address, target.port);
    if (open === undefined) {
      return Promise.reject(
        new SipTransportError(
          TransportErrorCode.NO_CONNECTION,
          `no ${this.protocol} connection from ${target.address}:${target.port} (WebSocket clients cannot be dialed)`,
        ),
      );
    }
    return open.send(data);
  }

  /** New certificate for new WSS handshakes; false for plain WS. */
  setCertificate(pair: CertPair): boolean {
    return setServerCertificate(this.server, pair);
  }

  async close(): Promise<void> {
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    for (const conn of this.connections) conn.close('local');
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    this.wss.close();
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    if (!originAllowed(req.headers.origin, req.headers.host, this.allowedOrigins)) {
      refuse(socket, 403, 'Forbidden', `Origin ${req.headers.origin} may not open SIP WebSockets here`);
      return;
    }
    if (!offersSip(req.headers['sec-websocket-protocol'])) {
      refuse(socket, 400, 'Bad Request', 'the WebSocket handshake must offer subprotocol "sip" (RFC 7118 section 4.1)');
      return;
    }
    const remoteAddress = socketAddress(req.socket.remoteAddress);
    const remotePort = req.socket.remotePort ?? 0;
    const id = this.ctx.table.admit(remoteAddress);
    if (id === 0) {
      this.ctx.counters.connectionsRejected++;
      refuse(socket, 503, 'Service Unavailable', 'connection limit reached');
      return;
    }
    let upgraded = false;
    // ws answers a malformed handshake itself and never calls back: give the slot back then.
    socket.once('close', () => {
      if (!upgraded) this.ctx.table.release(id);
    });
    this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      upgraded = true;
      const conn = new WsConnection(
        {
          id,
          protocol: this.protocol,
          ws,
          remoteAddress,
          remotePort,
          localAddress: socketAddress(req.socket.localAddress),
          localPort: req.socket.localPort ?? 0,
        },
        this.ctx,
        (gone) => this.connections.delete(gone),
      );
      this.connections.add(conn);
      this.ctx.table.add(conn);
      this.ctx.counters.connectionsAccepted++;
    });
  }

  private heartbeat(): void {
    for (const conn of this.connections) conn.heartbeat();
  }
}

/** True when the comma-separated Sec-WebSocket-Protocol offer contains "sip". */
export function offersSip(header: string | string[] | undefined): boolean {
  if (header === undefined) return false;
  const text = Array.isArray(header) ? header.join(',') : header;
  return text.split(',').some((token) => token.trim() === SIP_WS_SUBPROTOCOL);
}

/** The Origin policy of {@link WsTransportOptions.allowedOrigins}. */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: readonly string[] | undefined): boolean {
  if (origin === undefined) return true;
  const o = origin.trim().toLowerCase();
  if (allowed !== undefined) return allowed.includes('*') || allowed.includes(o);
  if (host === undefined) return false;
  try {
    return new URL(o).hostname === new URL(`http://${host.toLowerCase()}`).hostname;
  } catch {
    return false; // `null` (a sandboxed page, a file:) or garbage
  }
}

function refuse(socket: Duplex, status: number, reason: string, body: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${Buffer.byteLength(body) + 1}\r\n\r\n${body}\n`,
  );
}
