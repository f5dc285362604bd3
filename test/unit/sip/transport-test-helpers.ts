/** Shared fixtures for the transport tests: a started layer with inboxes, raw clients, messages. */
import { once } from 'node:events';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { TransportLayer } from '../../../src/sip/transport-layer.ts';
import type { ClosedConnectionInfo, TransportLayerOptions } from '../../../src/sip/transport-layer.ts';
import type { MessageSource, SipTransport, TransportProtocol } from '../../../src/sip/transport-types.ts';

/** ::1 is configured on loopback (IPv6 tests skip otherwise). */
export const hasIPv6Loopback = Object.values(networkInterfaces()).some((list) =>
  (list ?? []).some((i) => i.family === 'IPv6' && i.address === '::1'),
);

/** Values pushed by callbacks, awaited by the test in order or by predicate. */
export class Inbox<T> {
  readonly items: T[] = [];
  private readonly waiters: Array<{ match: (item: T) => boolean; take: (item: T) => void }> = [];

  push = (item: T): void => {
    const at = this.waiters.findIndex((w) => w.match(item));
    if (at === -1) {
      this.items.push(item);
      return;
    }
    const [waiter] = this.waiters.splice(at, 1);
    waiter.take(item);
  };

  /** The oldest item. */
  next(timeoutMs = 2_000): Promise<T> {
    return this.match(() => true, timeoutMs);
  }

  /** The oldest item satisfying `match` (others stay queued). */
  match(match: (item: T) => boolean, timeoutMs = 2_000): Promise<T> {
    const at = this.items.findIndex(match);
    if (at !== -1) return Promise.resolve(this.items.splice(at, 1)[0]);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        take: (got: T): void => {
          clearTimeout(timer);
          resolve(got);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`nothing matching arrived within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }
}

export interface Received {
  readonly text: string;
  readonly source: MessageSource;
}

export interface Harness {
  readonly layer: TransportLayer;
  readonly messages: Inbox<Received>;
  readonly closed: Inbox<ClosedConnectionInfo>;
  transport(protocol: TransportProtocol, family?: 'IPv4' | 'IPv6'): SipTransport;
}

export async function startLayer(
  options: Partial<TransportLayerOptions> & Pick<TransportLayerOptions, 'listen'>,
): Promise<Harness> {
  const messages = new Inbox<Received>();
  const closed = new Inbox<ClosedConnectionInfo>();
  const layer = new TransportLayer({
    ...options,
    onMessage: (data, source) => messages.push({ text: data.toString('latin1'), source }),
    onConnectionClosed: (_id, info) => closed.push(info),
  });
  await layer.start();
  return {
    layer,
    messages,
    closed,
    transport(protocol, family = 'IPv4') {
      const t = layer.transports.find((x) => x.protocol === protocol && x.local.family === family);
      if (t === undefined) throw new Error(`no ${protocol} ${family} transport`);
      return t;
    },
  };
}

/** A SIP request with a correct Content-Length. */
export function request(method: string, tag: string, body = ''): Buffer {
  return Buffer.from(
    `${method} sip:bob@example.com SIP/2.0\r\n` +
      `Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK-${tag}\r\n` +
      `Call-ID: ${tag}\r\nCSeq: 1 ${method}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    'latin1',
  );
}

export function response(tag: string): Buffer {
  return Buffer.from(`SIP/2.0 200 OK\r\nCall-ID: ${tag}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`, 'latin1');
}

export async function tcpClient(port: number, host = '127.0.0.1'): Promise<Socket> {
  const socket = connect({ port, host });
  await once(socket, 'connect');
  return socket;
}

/** Collects what a raw socket receives; `until` resolves once the text contains `needle`. */
export function collect(socket: Socket): { text(): string; until(needle: string, timeoutMs?: number): Promise<string> } {
  let text = '';
  const waiters: Array<() => void> = [];
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1');
    for (const w of waiters.splice(0)) w();
  });
  return {
    text: () => text,
    until(needle, timeoutMs = 2_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "${JSON.stringify(needle)}" in ${JSON.stringify(text)}`)), timeoutMs);
        const check = (): void => {
          if (text.includes(needle)) {
            clearTimeout(timer);
            resolve(text);
          } else {
            waiters.push(check);
          }
        };
        check();
      });
    },
  };
}

export function closedSocket(socket: Socket, timeoutMs = 2_000): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('socket still open')), timeoutMs);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
