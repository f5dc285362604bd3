/**
 * A whole B2BUA call without sockets, sipp or sleeps: a recording SIP endpoint, a recording
 * media engine and `FakeTimers`. Tests play the caller (IncomingRequest fakes) and the callees
 * (responses fed to the recorded INVITE transactions) and read what the call sent.
 */
import type { SrtpKeys } from '../../../src/media/srtp/leg-srtp.ts';
import type { LegCodec } from '../../../src/media/leg-codec.ts';
import pino from 'pino';
import { parseMessage } from '../../../src/sip/parse-message.ts';
import { createRequest, createResponse, randomBranch, randomTag } from '../../../src/sip/message-build.ts';
import { formatVia, parseVia } from '../../../src/sip/header-via.ts';
import type { SipMessage } from '../../../src/sip/message.ts';
import type { IncomingRequest } from '../../../src/sip/endpoint.ts';
import type { SendTarget, TransportProtocol } from '../../../src/sip/transport-types.ts';
import { FakeTimers } from '../../../src/sip/timers.ts';
import { Call, type CallEnv } from '../../../src/pbx/call.ts';
import type { CallEndpoint } from '../../../src/pbx/leg-sip.ts';
import type { CallTarget, RouteDecision } from '../../../src/pbx/call-router.ts';
import type { NewCdr } from '../../../src/store/cdrs.ts';
import type { LegInfo } from '../../../src/media/media-engine.ts';

export const CALLER_SDP = [
  'v=0', 'o=alice 1 1 IN IP4 192.0.2.10', 's=-', 'c=IN IP4 192.0.2.10', 't=0 0',
  'm=audio 4000 RTP/AVP 8 0 101', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16',
  'a=ptime:20', 'a=sendrecv', '',
].join('\r\n');

export function calleeSdp(codecLine = '8', extra: string[] = ['a=rtpmap:8 PCMA/8000'], port = 6000): string {
  return ['v=0', 'o=bob 2 2 IN IP4 198.51.100.7', 's=-', 'c=IN IP4 198.51.100.7', 't=0 0', `m=audio ${port} RTP/AVP ${codecLine}`, ...extra, ''].join('\r\n');
}

export interface SentRequest {
  msg: SipMessage;
  target: SendTarget;
  /** Feeds a response (built from the request) to the transaction's handler. */
  respond(status: number, o?: { toTag?: string; body?: string; headers?: Record<string, string>; local?: 'timeout' | 'transport_error' }): SipMessage;
}

export class FakeEndpoint {
  readonly requests: SentRequest[] = [];
  readonly stateless: Array<{ msg: SipMessage; target: SendTarget }> = [];

  request(msg: SipMessage, target: SendTarget, handlers: { onResponse(res: SipMessage, tx: unknown): void }): unknown {
    if (msg.via.length === 0) msg.addHeader('Via', formatVia(this.via(target.protocol)), { first: true });
    const tx = { lastStatus: 0, released: false, localFailure: undefined as string | undefined, release() { this.released = true; } };
    // Round-trip through the parser, as the wire would.
    const wire = parseMessage(msg.toBuffer());
    this.requests.push({
      msg: wire, target,
      respond: (status, o = {}) => {
        const res = parseMessage(serialize(createResponse(wire, status, undefined, { toTag: o.toTag, body: o.body, contentType: o.body ? 'application/sdp' : undefined, headers: { Contact: '<sip:bob@198.51.100.7:5062>', ...o.headers } })));
        tx.lastStatus = status;
        // A response the transaction made up (Timer B/F, transport error), as `ClientTransaction.localFailure` tells.
        tx.localFailure = o.local;
        handlers.onResponse(res, tx);
        return res;
      },
    });
    return tx;
  }

  sendStateless(msg: SipMessage, target: SendTarget): Promise<void> {
    this.stateless.push({ msg: parseMessage(serialize(msg)), target });
    return Promise.resolve();
  }

  via(protocol: TransportProtocol) {
    return parseVia(`SIP/2.0/${protocol.toUpperCase()} 127.0.0.1:5060;branch=${randomBranch()}`);
  }

  /** Requests sent with `method`, in order. */
  sent(method: string): SentRequest[] {
    return this.requests.filter((r) => r.msg.method === method);
  }

  statelessOf(kind: string): SipMessage[] {
    return this.stateless.map((s) => s.msg).filter((m) => (kind === 'ACK' ? m.method === 'ACK' : m.status === Number(kind)));
  }
}

const serialize = (msg: SipMessage): Buffer => msg.toBuffer();

export class FakeMedia {
  readonly remotes = new Map<number, { address: string; rtpPort: number }>();
  readonly bridged: Array<[number, number]> = [];
  readonly released: number[] = [];
  readonly codecs = new Map<number, LegCodec | null>();
  async setCodec(legId: number, codec: LegCodec | null): Promise<void> { this.codecs.set(legId, codec); }
  readonly srtp = new Map<number, SrtpKeys | null>();
  async setSrtp(legId: number, keys: SrtpKeys | null): Promise<void> { this.srtp.set(legId, keys); }
  async setRemote(legId: number, r: { address: string; rtpPort: number }): Promise<void> { this.remotes.set(legId, { address: r.address, rtpPort: r.rtpPort }); }
  async bridge(a: number, b: number): Promise<void> { this.bridged.push([a, b]); }
  async releaseLeg(legId: number): Promise<boolean> { this.released.push(legId); return true; }
}

export type FakeIncoming = IncomingRequest & { replies: SipMessage[] };

/** An IncomingRequest as the endpoint hands it to the B2BUA; `replies` records our answers. */
export function incoming(msg: SipMessage, protocol: TransportProtocol = 'udp'): FakeIncoming {
  const wire = parseMessage(serialize(msg));
  const replies: SipMessage[] = [];
  const source = { protocol, address: '192.0.2.10', port: 5070 };
  const tx = { source, lastStatus: 0 };
  const req: FakeIncoming = {
    msg: wire, tx: tx as unknown as IncomingRequest['tx'],
    source: { protocol, remoteAddress: '192.0.2.10', remotePort: 5070, localAddress: '127.0.0.1', localPort: 5060 },
    cancelled: false, onCancel: undefined, replies,
    reply(status, reason, o) {
      const res = parseMessage(serialize(createResponse(wire, status, reason, { toTag: o?.toTag, headers: o?.headers, body: o?.body, contentType: o?.contentType })));
      tx.lastStatus = status;
      replies.push(res);
      return res;
    },
  };
  return req;
}

export const CALLER_TAG = 'alice-tag';
export const CALLER_CALL_ID = 'caller-call-id@192.0.2.10';

export function callerInvite(o: { body?: string; headers?: Record<string, string> } = {}): SipMessage {
  return createRequest({
    method: 'INVITE', uri: 'sip:+15557654321@strowger.test', from: `<sip:+15551234567@192.0.2.10>;tag=${CALLER_TAG}`, to: '<sip:+15557654321@strowger.test>',
    callId: CALLER_CALL_ID, cseq: 1, contact: '<sip:alice@192.0.2.10:5070>', body: o.body, contentType: o.body ? 'application/sdp' : undefined,
    headers: { Via: `SIP/2.0/UDP 192.0.2.10:5070;branch=${randomBranch()}`, ...o.headers },
  });
}

/** An in-dialog request from the caller (BYE, re-INVITE, ACK) towards our To tag. */
export function fromCaller(call: Call, method: string, cseq: number, body?: string): SipMessage {
  return createRequest({
    method, uri: 'sip:strowger@127.0.0.1:5060', from: `<sip:+15551234567@192.0.2.10>;tag=${CALLER_TAG}`, to: `<sip:+15557654321@strowger.test>;tag=${call.caller.tag}`,
    callId: CALLER_CALL_ID, cseq, contact: '<sip:alice@192.0.2.10:5070>', body, contentType: body ? 'application/sdp' : undefined,
    headers: { Via: `SIP/2.0/UDP 192.0.2.10:5070;branch=${randomBranch()}` },
  });
}

/** An in-dialog request from the answered callee towards our From tag of its dialog. */
export function fromCallee(call: Call, invite: SipMessage, calleeTag: string, method: string, cseq: number, body?: string): SipMessage {
  return createRequest({
    method, uri: 'sip:strowger@127.0.0.1:5060', from: `${invite.getHeader('to')};tag=${calleeTag}`, to: invite.getHeader('from')!,
    callId: invite.callId, cseq, contact: '<sip:bob@198.51.100.7:5062>', body, contentType: body ? 'application/sdp' : undefined,
    headers: { Via: `SIP/2.0/UDP 198.51.100.7:5062;branch=${randomBranch()}` },
  });
}

function trunkTarget(n: number): CallTarget {
  return { kind: 'trunk', number: '+15557654321', trunk: { id: n, host: `198.51.100.${n}`, port: 5060, transport: 'udp', caller_id: null, from_domain: null } as unknown as Extract<CallTarget, { kind: 'trunk' }>['trunk'] };
}

export interface Harness {
  call: Call;
  caller: FakeIncoming;
  endpoint: FakeEndpoint;
  media: FakeMedia;
  timers: FakeTimers;
  cdrs: Array<{ cdr: NewCdr; journalled: boolean }>;
  journal: string[];
  /** Resolves the pending journal commits (the 200 to the caller waits for them). */
  commitJournal(): void;
  /** Lets promise chains (media round trips, journal) run; no wall-clock wait. */
  settle(): Promise<void>;
}

export async function startCall(o: { body?: string; forks?: number; ringTimeoutMs?: number; headers?: Record<string, string>; sessionTimer?: Call['caller']['sessionTimer']; holdJournal?: boolean; env?: Partial<CallEnv> } = {}): Promise<Harness> {
  const endpoint = new FakeEndpoint();
  const media = new FakeMedia();
  const timers = new FakeTimers();
  const cdrs: Harness['cdrs'] = [];
  const journal: string[] = [];
  let waiting: Array<() => void> = [];
  const env: CallEnv = {
    endpoint: endpoint as unknown as CallEndpoint,
    media,
    timers,
    logger: pino({ level: 'silent' }),
    domain: 'strowger.test',
    t1: 500,
    maxCallMs: 4 * 3600_000,
    advertise: () => ({ host: '127.0.0.1', port: 5060 }),
    sendTargetsFor: async (t) => [{ protocol: 'udp', address: t.kind === 'trunk' ? t.trunk.host : '203.0.113.1', port: 5060 }],
    trunkCredentials: async () => undefined,
    bindDialog: () => {},
    unbindDialog: () => {},
    answered: (call) => {
      journal.push(call.id);
      if (!o.holdJournal) return Promise.resolve();
      return new Promise<void>((resolve) => waiting.push(resolve));
    },
    finished: (_call, cdr, journalled) => { cdrs.push({ cdr, journalled }); },
    ...o.env,
  };
  const legs: [LegInfo, LegInfo] = [
    { id: 1, rtpPort: 20000, rtcpPort: 20001, address: '127.0.0.1', worker: 0, family: 4 },
    { id: 2, rtpPort: 20002, rtcpPort: 20003, address: '127.0.0.1', worker: 0, family: 4 },
  ];
  const decision: Extract<RouteDecision, { kind: 'dial' }> = {
    kind: 'dial', targets: Array.from({ length: o.forks ?? 1 }, (_, i) => trunkTarget(i + 1)), direction: 'inbound',
    ringTimeoutMs: o.ringTimeoutMs ?? 30_000, didId: 1, didNumber: '+15557654321', calleeDeviceId: null, callerId: '+15551234567',
  } as Extract<RouteDecision, { kind: 'dial' }>;
  const caller = incoming(callerInvite({ body: o.body === undefined ? CALLER_SDP : o.body || undefined, headers: o.headers }));
  const call = new Call(env, caller, decision, { callerDeviceId: null, trunkId: 9, caller: '+15551234567', callee: '+15557654321' }, legs, o.sessionTimer);
  const settle = async () => { for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r)); };
  await call.start();
  await settle();
  return {
    call, caller, endpoint, media, timers, cdrs, journal, settle,
    commitJournal: () => { const w = waiting; waiting = []; for (const r of w) r(); },
  };
}

export const calleeTag = (): string => randomTag();
