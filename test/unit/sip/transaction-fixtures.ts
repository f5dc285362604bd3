/**
 * Shared fixtures of the transaction tests: raw requests parsed with the
 * message layer's parser, a recording `send`, a layer on fake timers.
 */
import { parseMessage } from '../../../src/sip/parse-message.ts';
import type { SipMessage } from '../../../src/sip/message.ts';
import { TransactionLayer } from '../../../src/sip/transaction-layer.ts';
import type { TransactionLayerOptions } from '../../../src/sip/transaction-layer.ts';
import { FakeTimers } from '../../../src/sip/timers.ts';

export interface Target {
  readonly protocol: 'udp' | 'tcp';
  readonly address: string;
  readonly port: number;
}
export const UDP: Target = { protocol: 'udp', address: '192.0.2.10', port: 5060 };
export const TCP: Target = { protocol: 'tcp', address: '192.0.2.10', port: 5060 };

export interface RequestSpec {
  method?: string;
  branch?: string | null;
  sentBy?: string;
  callId?: string;
  cseq?: number;
  cseqMethod?: string;
  toTag?: string;
  uri?: string;
  extra?: string[];
}

/** A request as it would arrive from (or leave to) 192.0.2.10. */
export function request(spec: RequestSpec = {}): SipMessage {
  const method = spec.method ?? 'INVITE';
  const branch = spec.branch === undefined ? 'z9hG4bK776asdhds' : spec.branch;
  const via = `SIP/2.0/UDP ${spec.sentBy ?? 'pc33.atlanta.com'}${branch === null ? '' : `;branch=${branch}`}`;
  const lines = [
    `${method} ${spec.uri ?? 'sip:bob@biloxi.com'} SIP/2.0`,
    `Via: ${via}`,
    'Max-Forwards: 70',
    `To: Bob <sip:bob@biloxi.com>${spec.toTag === undefined ? '' : `;tag=${spec.toTag}`}`,
    'From: Alice <sip:alice@atlanta.com>;tag=1928301774',
    `Call-ID: ${spec.callId ?? 'a84b4c76e66710@pc33.atlanta.com'}`,
    `CSeq: ${spec.cseq ?? 314159} ${spec.cseqMethod ?? method}`,
    ...(spec.extra ?? []),
    'Content-Length: 0',
    '',
    '',
  ];
  return parse(lines.join('\r\n'));
}

export function parse(text: string): SipMessage {
  return parseMessage(Buffer.from(text));
}

/** Re-parses a message, as if it went through the network. */
export function wire(msg: SipMessage): SipMessage {
  return parseMessage(Buffer.from(msg.toBuffer()));
}

export interface Sent {
  readonly at: number;
  readonly msg: SipMessage;
  readonly target: Target;
}

/** A layer on fake timers whose `send` records into `sent`. */
export function setup(options: Partial<TransactionLayerOptions<Target>> = {}) {
  const timers = new FakeTimers(0);
  const sent: Sent[] = [];
  const requests: SipMessage[] = [];
  const acks: SipMessage[] = [];
  const strays: SipMessage[] = [];
  const layer = new TransactionLayer<Target>({
    timers,
    send: (msg, target) => {
      sent.push({ at: timers.now(), msg, target });
    },
    onRequest: (req) => requests.push(req),
    onAck: (ack) => acks.push(ack),
    onStrayResponse: (res) => strays.push(res),
    ...options,
  });
  return { layer, timers, sent, requests, acks, strays };
}

/** First line of each sent message with its time, e.g. `500 INVITE sip:bob@biloxi.com SIP/2.0`. */
export function log(sent: readonly Sent[]): string[] {
  return sent.map((s) => `${s.at} ${s.msg.toString().split('\r\n', 1)[0]}`);
}
