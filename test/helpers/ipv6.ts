/** Whether this machine can bind UDP on `::1` (IPv6 tests skip themselves where it cannot). */
import dgram from 'node:dgram';
import { once } from 'node:events';

export async function ipv6Available(): Promise<boolean> {
  const s = dgram.createSocket('udp6');
  try {
    s.bind(0, '::1');
    await once(s, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    s.close();
  }
}
