/**
 * A free even/odd UDP port pair on a local address, for a process (ffmpeg) that binds RTP on
 * the even port and RTCP on the next. Probed by binding both, then released: the process
 * binds them a moment later (a race we accept for a loopback helper; a restart retries).
 */
import dgram from 'node:dgram';

function bind(address: string, port: number): Promise<dgram.Socket | null> {
  return new Promise((resolve) => {
    const s = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
    s.once('error', () => { s.close(); resolve(null); });
    s.bind(port, address, () => resolve(s));
  });
}

export async function freeUdpPortPair(address = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const probe = await bind(address, 0);
    if (probe === null) break;
    const even = probe.address().port & ~1;
    probe.close();
    const [a, b] = await Promise.all([bind(address, even), bind(address, even + 1)]);
    a?.close();
    b?.close();
    if (a !== null && b !== null && even > 1024) return even;
  }
  throw new Error(`no free UDP port pair on ${address}`);
}
