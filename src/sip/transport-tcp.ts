/**
 * SIP over TCP (RFC 3261 §18). Framing, reuse and limits live in
 * transport-stream.ts; this file only creates plain sockets.
 */
import { connect, createServer } from 'node:net';
import { StreamTransport } from './transport-stream.ts';
import type { StreamSocketFactory } from './transport-stream.ts';
import type { TransportContext } from './transport-types.ts';

export const tcpSocketFactory: StreamSocketFactory = {
  protocol: 'tcp',
  createServer: (onSocket) => createServer({ noDelay: true }, onSocket),
  dial: (address, target) => ({
    socket: connect({ host: address, port: target.port, noDelay: true }),
    readyEvent: 'connect',
  }),
};

/**
 * Listens for SIP over TCP.
 *
 * @example
 * ```ts
 * const tcp = await listenTcp('127.0.0.1', 5060, layerContext);
 * ```
 */
export function listenTcp(address: string, port: number, ctx: TransportContext): Promise<StreamTransport> {
  return StreamTransport.listen(tcpSocketFactory, address, port, ctx);
}
