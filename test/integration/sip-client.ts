/**
 * A minimal SIP client for the `sip-*` integration tests: writes requests as text (so a test
 * controls every byte), reads replies over UDP, TCP or WebSocket and parses them with our
 * parser, and answers digest challenges with our digest client (`answerChallenge`).
 *
 * Not a UA: no transactions, no retransmissions (loopback does not lose datagrams), one
 * socket per client. Tests that need sipp's behaviour use `test/helpers/sipp.ts` instead.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { parseMessage } from '../../src/sip/parse-message.ts';
import type { SipMessage } from '../../src/sip/message.ts';
import { answerChallenge } from '../../src/sip/digest-client.ts';

export const DOMAIN = 'strowger.test';
export const PASSWORD = 'sip-secret-pass-1';

type Transport = 'udp' | 'tcp' | 'ws';

export interface RequestSpec {
  method: string;
  /** Request-URI; default `sip:<server host>:<port>`. */
  uri?: string;
  /** AOR user for From/To (REGISTER: To = From). */
  user?: string;
  callId?: string;
  cseq?: number;
  /** Extra header lines, in order, e.g. `['Expires: 60', 'Contact: <sip:a@b>']`. */
  headers?: readonly string[];
  body?: string;
  /** Replace the Via host:port (default: this client's socket). */
  viaSentBy?: string;
  maxForwards?: number;
}

/** What a test needs from a reply; `msg` is null when the bytes did not parse. */
export interface Reply {
  raw: Buffer;
  msg: SipMessage;
}

/**
 * Cuts a stream into messages at Content-Length (RFC 3261 §18.3; replies of ours always
 * carry it); `rest` is an incomplete tail (or bytes that are not SIP at all). Keep-alive
 * pongs between messages are dropped.
 */
export function splitSipStream(buf: Buffer): { messages: Buffer[]; rest: Buffer } {
  const messages: Buffer[] = [];
  for (;;) {
    // A bare CRLF is a keep-alive pong (RFC 5626 §4.4.1), not part of a message.
    while (buf.length >= 2 && buf[0] === 0x0d && buf[1] === 0x0a) buf = buf.subarray(2);
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) return { messages, rest: buf };
    const head = buf.subarray(0, end).toString('latin1');
    const m = /^(?:content-length|l)[ \t]*:[ \t]*(\d+)/im.exec(head);
    const total = end + 4 + (m ? Number(m[1]) : 0);
    if (buf.length < total) return { messages, rest: buf };
    messages.push(buf.subarray(0, total));
    buf = buf.subarray(total);
  }
}

export class SipTestClient {
  readonly callId = `${randomBytes(8).toString('hex')}@test`;
  private cseqCounter = 0;
  private readonly queue: Buffer[] = [];
  private waiter: ((b: Buffer | null) => void) | undefined;
  private streamBuf: Buffer = Buffer.alloc(0);

  private constructor(
    readonly transport: Transport,
    private readonly io: { send(b: Buffer): void; close(): Promise<void> },
    readonly localAddress: string,
    readonly localPort: number,
    readonly serverHost: string,
    readonly serverPort: number,
  ) {}

  /** `localAddress`: e.g. 127.0.0.2 to look like another host (all of 127/8 is loopback on Linux). */
  static async udp(serverPort: number, serverHost = '127.0.0.1', localAddress?: string): Promise<SipTestClient> {
    const v6 = serverHost.includes(':');
    const socket = dgram.createSocket(v6 ? 'udp6' : 'udp4');
    await new Promise<void>((resolve) => socket.bind(0, localAddress ?? (v6 ? '::1' : '127.0.0.1'), resolve));
    const a = socket.address();
    const c = new SipTestClient('udp', {
      send: (b) => socket.send(b, serverPort, serverHost),
      close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
    }, a.address, a.port, serverHost, serverPort);
    socket.on('message', (b) => c.push(b));
    return c;
  }

  static async tcp(serverPort: number, serverHost = '127.0.0.1'): Promise<SipTestClient> {
    const socket = net.connect({ port: serverPort, host: serverHost });
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
    socket.on('error', () => {});
    const c = new SipTestClient('tcp', {
      send: (b) => { if (!socket.destroyed) socket.write(b); },
      close: () => new Promise<void>((resolve) => { if (socket.destroyed) resolve(); else { socket.once('close', () => resolve()); socket.destroy(); } }),
    }, socket.localAddress!, socket.localPort!, serverHost, serverPort);
    socket.on('data', (b) => c.pushStream(b));
    socket.on('close', () => c.waiter?.(null));
    return c;
  }

  static async ws(serverPort: number, serverHost = '127.0.0.1'): Promise<SipTestClient> {
    const ws = new WebSocket(`ws://${serverHost}:${serverPort}/`, 'sip');
    await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
    if (ws.protocol !== 'sip') throw new Error(`server chose subprotocol "${ws.protocol}"`);
    const sock = (ws as unknown as { _socket: net.Socket })._socket;
    const c = new SipTestClient('ws', {
      send: (b) => ws.send(b.toString('utf8')),
      close: () => new Promise<void>((resolve) => { if (ws.readyState === WebSocket.CLOSED) resolve(); else { ws.once('close', () => resolve()); ws.close(); } }),
    }, sock.localAddress!, sock.localPort!, serverHost, serverPort);
    ws.on('message', (d: Buffer) => c.push(Buffer.from(d)));
    return c;
  }

  private push(b: Buffer): void {
    if (this.waiter) { const w = this.waiter; this.waiter = undefined; w(b); } else this.queue.push(b);
  }

  /** TCP: whole messages go up, the rest waits for more bytes. */
  private pushStream(chunk: Buffer): void {
    const { messages, rest } = splitSipStream(Buffer.concat([this.streamBuf, chunk]));
    this.streamBuf = rest;
    for (const m of messages) this.push(m);
  }

  get protoToken(): string {
    return this.transport.toUpperCase();
  }

  get sentBy(): string {
    return this.localAddress.includes(':') ? `[${this.localAddress}]:${this.localPort}` : `${this.localAddress}:${this.localPort}`;
  }

  get serverUri(): string {
    return `sip:${this.serverHost.includes(':') ? `[${this.serverHost}]` : this.serverHost}:${this.serverPort}`;
  }

  nextCseq(): number {
    return ++this.cseqCounter;
  }

  /** Builds a request as text: Via, Max-Forwards, From, To, Call-ID, CSeq, extra headers, Content-Length. */
  build(spec: RequestSpec): string {
    const user = spec.user ?? 'probe';
    const lines = [
      `${spec.method} ${spec.uri ?? this.serverUri} SIP/2.0`,
      `Via: SIP/2.0/${this.protoToken} ${spec.viaSentBy ?? this.sentBy};branch=z9hG4bK${randomBytes(6).toString('hex')};rport`,
      `Max-Forwards: ${spec.maxForwards ?? 70}`,
      `From: <sip:${user}@${DOMAIN}>;tag=${randomBytes(4).toString('hex')}`,
      `To: <sip:${user}@${DOMAIN}>`,
      `Call-ID: ${spec.callId ?? this.callId}`,
      `CSeq: ${spec.cseq ?? this.nextCseq()} ${spec.method}`,
      ...(spec.headers ?? []),
      `Content-Length: ${Buffer.byteLength(spec.body ?? '')}`,
      '',
      spec.body ?? '',
    ];
    return lines.join('\r\n');
  }

  send(data: string | Buffer): void {
    this.io.send(typeof data === 'string' ? Buffer.from(data) : data);
  }

  /** Next datagram/message, or null after `timeoutMs`. */
  nextRaw(timeoutMs = 2000): Promise<Buffer | null> {
    const q = this.queue.shift();
    if (q) return Promise.resolve(q);
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.waiter = undefined; resolve(null); }, timeoutMs);
      this.waiter = (b) => { clearTimeout(timer); resolve(b); };
    });
  }

  /** Next final reply (1xx skipped), parsed; throws on timeout. */
  async reply(timeoutMs = 2000): Promise<Reply> {
    for (;;) {
      const raw = await this.nextRaw(timeoutMs);
      if (raw === null) throw new Error(`no reply within ${timeoutMs} ms`);
      const msg = parseMessage(raw);
      if (msg.isRequest) continue;
      if (msg.status >= 200) return { raw, msg };
    }
  }

  /** Resolves null when nothing arrives within `ms` (for "no answer" checks). */
  async silence(ms = 300): Promise<Buffer | null> {
    return this.nextRaw(ms);
  }

  /** Sends a request and returns the final reply. */
  async request(spec: RequestSpec, timeoutMs?: number): Promise<SipMessage> {
    this.send(this.build(spec));
    return (await this.reply(timeoutMs)).msg;
  }

  /**
   * REGISTER with the digest exchange: the first attempt is challenged (asserted: 401),
   * the second carries our answer to the strongest challenge (SHA-256 before MD5).
   */
  async register(opts: { user: string; password?: string; contact?: string; headers?: readonly string[]; algorithm?: 'MD5' | 'SHA-256' }): Promise<{ challenge: SipMessage; final: SipMessage }> {
    const headers = [...(opts.contact === undefined ? [`Contact: <sip:${opts.user}@${this.sentBy};transport=${this.transport}>`] : opts.contact === '' ? [] : [`Contact: ${opts.contact}`]), ...(opts.headers ?? [])];
    const challenge = await this.request({ method: 'REGISTER', user: opts.user, headers });
    if (challenge.status !== 401) throw new Error(`expected 401, got ${challenge.status}`);
    let offers = challenge.getHeaders('www-authenticate');
    if (opts.algorithm) offers = offers.filter((v) => new RegExp(`algorithm=${opts.algorithm}\\b`).test(v));
    const auth = answerChallenge(offers, { username: opts.user, password: opts.password ?? PASSWORD, method: 'REGISTER', uri: this.serverUri });
    const final = await this.request({ method: 'REGISTER', user: opts.user, headers: [...headers, `Authorization: ${auth}`] });
    return { challenge, final };
  }

  close(): Promise<void> {
    this.waiter?.(null);
    return this.io.close();
  }
}
