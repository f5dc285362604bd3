/**
 * SIP over TLS (RFC 3261 §18, §26.2.1; RFC 5630 for sips: semantics above us).
 * Framing, reuse and limits live in transport-stream.ts; this file only
 * creates TLS sockets. Certificates come from options, or from
 * tls-self-signed.ts for a server without a CA-issued certificate.
 */
import { isIP } from 'node:net';
import { checkServerIdentity, connect, createServer, rootCertificates } from 'node:tls';
import type { Socket } from 'node:net';
import { StreamTransport } from './transport-stream.ts';
import { sniCallback, type CertPair } from './tls-sni.ts';
import type { StreamSocketFactory } from './transport-stream.ts';
import type { TransportContext } from './transport-types.ts';

type Pem = string | Buffer;

export interface SipTlsOptions {
  /** PEM certificate (chain) presented as server, and as client when a server asks. Required to listen. */
  readonly cert?: Pem;
  /** PEM private key of `cert`. */
  readonly key?: Pem;
  /** Extra CAs trusted when verifying peers (e.g. a trunk's self-signed certificate). */
  readonly ca?: Pem | Pem[];
  /** Verify certificates of servers we dial (RFC 5922). Default true; false only for tests and known self-signed trunks. */
  readonly verifyPeer?: boolean;
  /** Ask connecting clients for a certificate (not required). Default false. */
  readonly requestClientCert?: boolean;
  /** Handshake must finish within this many ms. Default 10,000. */
  readonly handshakeTimeoutMs?: number;
  /** More certificates for listeners, presented to clients whose SNI names one of theirs (tls-sni.ts). */
  readonly sniCerts?: readonly CertPair[];
}

/** Socket factory for TLS with the given certificate and verification policy. */
export function tlsSocketFactory(options: SipTlsOptions): StreamSocketFactory {
  return {
    protocol: 'tls',
    createServer(onSocket, ctx) {
      if (options.cert === undefined || options.key === undefined) {
        throw new Error('a TLS listener needs tls.cert and tls.key');
      }
      const server = createServer(
        {
          cert: options.cert,
          key: options.key,
          ca: options.ca,
          requestCert: options.requestClientCert ?? false,
          // A client certificate is optional; identity is checked above us (digest auth).
          rejectUnauthorized: false,
          handshakeTimeout: options.handshakeTimeoutMs ?? 10_000,
          SNICallback: sniCallback(options.sniCerts ?? []),
        },
        (socket) => onSocket(socket as Socket),
      );
      // The per-IP limit applies after the handshake; the global one already before it
      // so a flood of half-open handshakes cannot exhaust file descriptors.
      server.on('connection', (raw: Socket) => {
        if (ctx.table.size >= ctx.table.maxConnections) {
          ctx.counters.connectionsRejected++;
          raw.destroy();
        }
      });
      return server;
    },
    dial(address, target) {
      const policy = target.tls;
      const pin = policy?.fingerprint256?.toUpperCase();
      // A pinned certificate is checked by its fingerprint alone (often self-signed: no chain to verify).
      const verify = pin === undefined && (policy?.verify ?? options.verifyPeer ?? true);
      // `ca` replaces Node's default roots, so a trunk's own CA is added to them, not instead.
      const ca = policy?.ca !== undefined ? [...rootCertificates, ...asList(options.ca), policy.ca] : options.ca;
      const name = target.serverName;
      const socket = connect({
        host: address,
        port: target.port,
        // SNI carries host names only (RFC 6066 §3); an IP literal is still checked against the certificate.
        servername: name !== undefined && isIP(name) === 0 ? name : undefined,
        rejectUnauthorized: verify,
        // The name checked is the one the user configured (RFC 5922 §4), not the address dialed.
        checkServerIdentity: (_host, cert) => checkServerIdentity(name ?? address, cert),
        ca,
        cert: options.cert,
        key: options.key,
      });
      socket.setNoDelay(true);
      const accept = pin === undefined ? undefined : (): Error | undefined => {
        const got = socket.getPeerCertificate().fingerprint256;
        return got === pin ? undefined : Object.assign(new Error(`TLS certificate fingerprint ${got} is not the pinned ${pin}`), { code: 'ERR_SIP_TLS_PIN_MISMATCH' });
      };
      return { socket, readyEvent: 'secureConnect', accept };
    },
  };
}

function asList(pem: Pem | Pem[] | undefined): Pem[] {
  return pem === undefined ? [] : Array.isArray(pem) ? pem : [pem];
}

/**
 * Listens for SIP over TLS.
 *
 * @example
 * ```ts
 * const { cert, key } = await loadOrCreateSelfSignedCert({ dir: './data/tls' });
 * const tls = await listenTls('0.0.0.0', 5061, { cert, key }, layerContext);
 * ```
 */
export function listenTls(
  address: string,
  port: number,
  options: SipTlsOptions,
  ctx: TransportContext,
): Promise<StreamTransport> {
  return StreamTransport.listen(tlsSocketFactory(options), address, port, ctx);
}
