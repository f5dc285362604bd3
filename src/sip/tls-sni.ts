/**
 * SNI for our TLS and WSS listeners (RFC 6066 §3): with several certificates configured, the
 * one whose names (SAN, else CN) match the name the client asked for is presented; a client
 * that sends no name, or a name none matches, gets the default certificate.
 */
import { X509Certificate } from 'node:crypto';
import { createSecureContext, Server as TlsServer, type SecureContext } from 'node:tls';
import type { Server } from 'node:net';

export interface CertPair {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
}

/**
 * A Node `SNICallback` over `pairs` (first match wins), or undefined when there are none.
 *
 * @example
 * ```ts
 * createServer({ cert, key, SNICallback: sniCallback([{ cert: otherCert, key: otherKey }]) });
 * ```
 */
export function sniCallback(pairs: readonly CertPair[]): ((servername: string, cb: (err: Error | null, ctx?: SecureContext) => void) => void) | undefined {
  if (pairs.length === 0) return undefined;
  const entries = pairs.map((p) => ({ x509: new X509Certificate(p.cert), context: createSecureContext({ cert: p.cert, key: p.key }) }));
  return (servername, cb) => {
    const hit = entries.find((e) => e.x509.checkHost(servername) !== undefined);
    // undefined context: Node falls back to the server's default certificate.
    cb(null, hit?.context);
  };
}

/**
 * Presents `pair` to the next handshakes of a TLS (or HTTPS) listener. Established
 * connections keep the session they negotiated: nothing is closed. False for a plain server.
 */
export function setServerCertificate(server: Server | null, pair: CertPair): boolean {
  if (!(server instanceof TlsServer)) return false;
  server.setSecureContext({ cert: pair.cert, key: pair.key });
  return true;
}
