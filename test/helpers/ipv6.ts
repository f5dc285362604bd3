/** Whether a UDP socket binds here: IPv6 tests skip themselves where `::1` cannot; suites probe their port ranges. */
import dgram from 'node:dgram';
import { once } from 'node:events';

export function ipv6Available(): Promise<boolean> {
  return canBindUdp('udp6', 0, '::1');
}

export async function canBindUdp(type: 'udp4' | 'udp6', port: number, host: string): Promise<boolean> {
  const s = dgram.createSocket(type);
  try {
    s.bind(port, host);
    await once(s, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    s.close();
  }
}
