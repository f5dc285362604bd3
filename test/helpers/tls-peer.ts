/**
 * A TLS client of our SIP TLS (or WSS) listener that keeps its connection: what certificate
 * the handshake presented, and SIP OPTIONS answered over the same connection — to show that
 * an established connection keeps working across a certificate reload.
 */
import { connect, type TLSSocket } from 'node:tls';
import { randomBytes } from 'node:crypto';

export interface TlsPeer {
  /** SHA-256 fingerprint of the certificate the server presented (`AB:CD:…`). */
  fingerprint256: string;
  /** DER of that certificate. */
  raw: Buffer;
  /** Sends OPTIONS over this connection; resolves with the status line of the answer. */
  options(): Promise<string>;
  close(): void;
}

export async function connectTlsPeer(port: number, servername = 'strowger.test'): Promise<TlsPeer> {
  const socket: TLSSocket = await new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => resolve(s));
    s.once('error', reject);
  });
  const cert = socket.getPeerCertificate();
  let buffered = '';
  socket.on('data', (d: Buffer) => { buffered += d.toString('latin1'); });
  return {
    fingerprint256: cert.fingerprint256,
    raw: cert.raw,
    options: async () => {
      const branch = `z9hG4bK${randomBytes(6).toString('hex')}`;
      const local = `${socket.localAddress}:${socket.localPort}`;
      buffered = '';
      socket.write([
        `OPTIONS sip:strowger.test SIP/2.0`, `Via: SIP/2.0/TLS ${local};branch=${branch};rport`, 'Max-Forwards: 70',
        `From: <sip:probe@strowger.test>;tag=${randomBytes(4).toString('hex')}`, '<sip:strowger.test>'.replace(/^/, 'To: '),
        `Call-ID: ${randomBytes(8).toString('hex')}`, 'CSeq: 1 OPTIONS', `Contact: <sip:probe@${local};transport=tls>`, 'Content-Length: 0', '', '',
      ].join('\r\n'));
      const deadline = Date.now() + 5000;
      while (!buffered.includes('\r\n\r\n')) {
        if (socket.destroyed) throw new Error('the TLS connection was closed');
        if (Date.now() > deadline) throw new Error('no answer to OPTIONS over the TLS connection');
        await new Promise((r) => setTimeout(r, 20));
      }
      return buffered.split('\r\n')[0]!;
    },
    close: () => socket.destroy(),
  };
}

/** The fingerprint a fresh handshake with `port` presents (the connection is closed again). */
export async function presentedFingerprint(port: number, servername?: string): Promise<string> {
  const peer = await connectTlsPeer(port, servername);
  peer.close();
  return peer.fingerprint256;
}
