/**
 * Listening side and dialing side shared by TCP and TLS (RFC 3261 §18.1.1,
 * §18.2.2): accepts connections within the layer's limits, reuses open flows
 * and dials new ones. transport-tcp.ts and transport-tls.ts only say how to
 * create the server and the client socket.
 */
import type { Server, Socket } from 'node:net';
import { canonicalAddress, familyOf, socketAddress } from './transport-address.ts';
import { SipTransportError, TransportErrorCode } from './transport-errors.ts';
import { StreamConnection } from './transport-stream-connection.ts';
import type { LocalEndpoint, SendTarget, SipTransport, TransportContext } from './transport-types.ts';
import { setServerCertificate, type CertPair } from './tls-sni.ts';

/** How one stream protocol creates its sockets. */
export interface StreamSocketFactory {
  readonly protocol: 'tcp' | 'tls';
  /** A server that calls `onSocket` for each connection ready to carry SIP (after the TLS handshake). */
  createServer(onSocket: (socket: Socket) => void, ctx: TransportContext): Server;
  /**
   * A client socket to `address` (canonical IP); `readyEvent` fires when writes may flow, then
   * `accept` (if any) may still refuse the peer (a pinned TLS certificate that differs).
   */
  dial(address: string, target: SendTarget): { socket: Socket; readyEvent: 'connect' | 'secureConnect'; accept?: () => Error | undefined };
}

export class StreamTransport implements SipTransport {
  readonly protocol: 'tcp' | 'tls';
  readonly local: LocalEndpoint;
  private readonly factory: StreamSocketFactory;
  private readonly server: Server | null;
  private readonly ctx: TransportContext;

  private constructor(factory: StreamSocketFactory, server: Server | null, local: LocalEndpoint, ctx: TransportContext) {
    this.protocol = factory.protocol;
    this.factory = factory;
    this.server = server;
    this.local = local;
    this.ctx = ctx;
  }

  /** Listens on `address`:`port` (0 = any free port); IPv6 sockets are IPv6-only. */
  static async listen(
    factory: StreamSocketFactory,
    address: string,
    port: number,
    ctx: TransportContext,
  ): Promise<StreamTransport> {
    let transport: StreamTransport | null = null;
    const server = factory.createServer((socket) => {
      if (transport !== null) transport.accept(socket);
      else socket.destroy();
    }, ctx);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: address, port, ipv6Only: familyOf(canonicalAddress(address)) === 'IPv6' }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const bound = server.address();
    if (bound === null || typeof bound === 'string') throw new Error('stream server has no address');
    const local: LocalEndpoint = {
      address: socketAddress(bound.address),
      port: bound.port,
      family: bound.family === 'IPv6' ? 'IPv6' : 'IPv4',
    };
    transport = new StreamTransport(factory, server, local, ctx);
    // Late server errors (EMFILE on accept) must not crash the process; the socket is gone anyway.
    server.on('error', () => undefined);
    return transport;
  }

  /** A transport that only dials (no listener), e.g. TLS to a trunk without a TLS port of our own. */
  static dialer(factory: StreamSocketFactory, ctx: TransportContext): StreamTransport {
    return new StreamTransport(factory, null, { address: '', port: 0, family: 'IPv4' }, ctx);
  }

  send(target: SendTarget, data: Buffer): Promise<void> {
    const address = canonicalAddress(target.address);
    if (address === '' || !(target.port > 0 && target.port < 65_536)) {
      return Promise.reject(
        new SipTransportError(TransportErrorCode.INVALID_TARGET, `cannot send to ${target.address}:${target.port}`),
      );
    }
    const open = this.ctx.table.find(this.protocol, address, target.port);
    if (open !== undefined) return open.send(data);
    const id = this.ctx.table.admit(address);
    if (id === 0) {
      this.ctx.counters.connectionsRejected++;
      return Promise.reject(
        new SipTransportError(TransportErrorCode.LIMIT_REACHED, `connection limit reached for ${address}`),
      );
    }
    return this.dial(id, address, target).send(data);
  }

  /** New certificate for new TLS handshakes (see setServerCertificate); false for TCP or a dialer. */
  setCertificate(pair: CertPair): boolean {
    return setServerCertificate(this.server, pair);
  }

  /** Stops listening. Open connections belong to the layer's table and are closed by the layer. */
  close(): Promise<void> {
    const server = this.server;
    if (server === null) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    const address = socketAddress(socket.remoteAddress);
    const port = socket.remotePort;
    const id = address === '' || port === undefined ? 0 : this.ctx.table.admit(address);
    if (id === 0) {
      this.ctx.counters.connectionsRejected++;
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const conn = new StreamConnection(
      { id, protocol: this.protocol, socket, remoteAddress: address, remotePort: port!, outbound: false },
      this.ctx,
    );
    this.ctx.table.add(conn);
    this.ctx.counters.connectionsAccepted++;
  }

  /** Opens a connection under the admitted `id`; sends queue until it is ready. */
  private dial(id: number, address: string, target: SendTarget): StreamConnection {
    const { socket, readyEvent, accept } = this.factory.dial(address, target);
    const where = `${this.protocol}:${address}:${target.port}`;
    const connecting = new Promise<void>((resolve, reject) => {
      const fail = (cause?: unknown): void => {
        clearTimeout(timer);
        reject(new SipTransportError(TransportErrorCode.CONNECT_FAILED, `cannot connect to ${where}`, { cause }));
      };
      const timer = setTimeout(() => {
        fail(new Error(`no connection after ${this.ctx.limits.connectTimeoutMs} ms`));
        socket.destroy();
      }, this.ctx.limits.connectTimeoutMs);
      socket.once(readyEvent, () => {
        const refused = accept?.();
        if (refused !== undefined) {
          fail(refused);
          socket.destroy();
          return;
        }
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', fail);
      socket.once('close', () => fail());
    });
    const conn = new StreamConnection(
      { id, protocol: this.protocol, socket, remoteAddress: address, remotePort: target.port, outbound: true, connecting },
      this.ctx,
    );
    this.ctx.table.add(conn);
    this.ctx.counters.connectionsDialed++;
    return conn;
  }
}
