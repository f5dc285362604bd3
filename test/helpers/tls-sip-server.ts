/**
 * A carrier reached over SIP/TLS, for trunk TLS tests (sipp 3.6 in Debian is built without
 * TLS: `sipp -v` lists no TLS). A Node `tls` server with the given certificate that answers
 * like a UAS: INVITE → 100, 200 with a PCMU answer; ACK absorbed; BYE and anything else → 200.
 * It records the SNI name of each handshake and every request line, so tests see whether the
 * INVITE arrived and which name the client asked for.
 *
 * Also {@link makeTestPki}: a test CA and a server certificate it signed (openssl), for
 * "verification passes with the trunk's CA" and "fails without it".
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StreamFramer } from '../../src/sip/stream-framer.ts';

export interface TestPki {
  caCert: string;
  cert: string;
  key: string;
  /** SHA-256 fingerprint of `cert` (`AA:BB:…`). */
  fingerprint256: string;
}

/** A CA and a server certificate for `dnsName` signed by it (EC P-256, 1 day). */
export function makeTestPki(dnsName: string): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'strowger-pki-'));
  const f = (n: string) => join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  try {
    ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=Strowger Test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign', '-keyout', f('ca.key'), '-out', f('ca.pem'));
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${dnsName}`, '-keyout', f('srv.key'), '-out', f('srv.csr'));
    writeFileSync(f('ext.cnf'), `subjectAltName=DNS:${dnsName}\nextendedKeyUsage=serverAuth\n`);
    ssl('x509', '-req', '-in', f('srv.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '1', '-extfile', f('ext.cnf'), '-out', f('srv.pem'));
    const cert = readFileSync(f('srv.pem'), 'utf8');
    return { caCert: readFileSync(f('ca.pem'), 'utf8'), cert, key: readFileSync(f('srv.key'), 'utf8'), fingerprint256: new X509Certificate(cert).fingerprint256 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface TlsSipServer {
  readonly port: number;
  /** SNI server name of each completed handshake (null: none sent). */
  readonly serverNames: Array<string | null>;
  /** Request lines received, in order (`INVITE sip:… SIP/2.0`). */
  readonly requests: string[];
  /** Closes every open connection, so the next call dials (and verifies) anew. */
  dropConnections(): void;
  close(): Promise<void>;
}

export async function startTlsSipServer(pki: { cert: string; key: string }): Promise<TlsSipServer> {
  const serverNames: Array<string | null> = [];
  const requests: string[] = [];
  const sockets = new Set<TLSSocket>();
  const server = createServer({ cert: pki.cert, key: pki.key }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    serverNames.push(typeof socket.servername === 'string' ? socket.servername : null);
    const framer = new StreamFramer({
      onMessage: (m: Buffer) => {
        const reply = answer(m.toString('latin1'), requests);
        if (reply) socket.write(reply);
      },
      onPing: () => socket.write('\r\n'),
    });
    socket.on('data', (chunk: Buffer) => { if (framer.push(chunk)) socket.destroy(); });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port, serverNames, requests,
    dropConnections: () => { for (const s of sockets) s.destroy(); },
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

/** The UAS's answer to one message (undefined for ACK and responses). */
function answer(text: string, requests: string[]): string | undefined {
  const [head] = text.split('\r\n\r\n');
  const lines = head!.split('\r\n');
  const start = lines[0]!;
  if (start.startsWith('SIP/2.0')) return undefined;
  requests.push(start);
  const method = start.split(' ')[0];
  if (method === 'ACK') return undefined;
  const pick = (name: string) => lines.filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  const to = pick('To')[0]!;
  const common = [...pick('Via'), pick('From')[0]!, /;tag=/.test(to) ? to : `${to};tag=tls-uas`, pick('Call-ID')[0]!, pick('CSeq')[0]!];
  if (method !== 'INVITE') return [`SIP/2.0 200 OK`, ...common, 'Content-Length: 0', '', ''].join('\r\n');
  const sdp = 'v=0\r\no=tls 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=sendrecv\r\n';
  return [`SIP/2.0 100 Trying`, ...common.map((h) => h.replace(';tag=tls-uas', '')), 'Content-Length: 0', '', ''].join('\r\n')
    + [`SIP/2.0 200 OK`, ...common, 'Contact: <sip:tls-uas@127.0.0.1;transport=tls>', 'Content-Type: application/sdp', `Content-Length: ${sdp.length}`, '', sdp].join('\r\n');
}
