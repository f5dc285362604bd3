/**
 * Incoming calls to app numbers (seed 002, issue 14). An INVITE whose Request-URI user is an
 * app's number is taken before PBX routing: the source must be in the number's `subnets`
 * and, when the number has `auth`, answer our digest challenge (407); otherwise 403. The call
 * gets a local media endpoint (our SDP answer is made only on Accept), a hook event
 * `incoming`, and waits for an action: from the hook's answer body or
 * `POST /call/incoming/{call_id}/action`:
 * - `Ring`: 180 to the caller; `Continue`: nothing (the app decides later);
 * - `Accept`: 200 OK with our answer; with `stream`, the call's leg joins room `stream.room` as
 *   `stream.peer` (recorded with `record`; see `call-media.ts`);
 * - `End`: 603 before the answer, BYE after.
 * Caller CANCEL or BYE, and no decision within the ring timeout (480), end the call with an
 * `ended` event everywhere.
 */
import { createHash, createHmac } from 'node:crypto';
import { randomHex } from '../sip/random-pool.ts';
import type { Logger } from 'pino';
import type { IncomingRequest } from '../sip/endpoint.ts';
import { addressFamily } from '../sip/endpoint.ts';
import { createDigestServer, type DigestServer } from '../sip/digest-server.ts';
import type { MediaEngine } from '../media/media-engine.ts';
import { cidrContains, parseCidr, parseIp } from '../store/trunk-match.ts';
import type { CallNumber } from '../store/call-numbers.ts';
import { answerOffer, createLegMedia } from '../pbx/anchor-sdp.ts';
import { clearTimer, type TimerHandle } from '../pbx/call-timers.ts';
import type { OwnDialog } from '../pbx/b2bua.ts';
import { dispositionFor, sdpFailure } from '../pbx/call-outcome.ts';
import type { CallRecordWriter } from '../pbx/call-cdr-writer.ts';
import { codecLabel } from '../pbx/leg-types.ts';
import type { CdrHangupBy, HangupCause } from '../store/cdrs.ts';
import { SipUasLeg } from '../pbx/leg-sip-uas.ts';
import type { SipLegEnv } from '../pbx/leg-sip.ts';
import type { CallGateway } from './call-gateway.ts';
import type { GatewayCall } from './gateway-call.ts';
import type { HookAnswer } from './call-events.ts';
import { CallMediaError } from './call-media.ts';
import type { Room } from '../rooms/room.ts';

export type IncomingAction = 'Ring' | 'Accept' | 'End' | 'Continue';
export const INCOMING_ACTIONS: readonly IncomingAction[] = ['Ring', 'Accept', 'End', 'Continue'];

export interface IncomingCallsOptions {
  gateway: CallGateway;
  dialogs: Map<string, OwnDialog>;
  media: Pick<MediaEngine, 'createLeg' | 'releaseLeg' | 'setRemote' | 'setCodec' | 'setSrtp' | 'sendDtmf' | 'setDirection'>;
  legEnv: Omit<SipLegEnv, 'log'>;
  logger: Logger;
  domain: string;
  secretKey: Buffer;
  ringTimeoutMs: number;
  /** CDRs of incoming app calls (direction `inbound`); none: no CDRs. */
  records?: CallRecordWriter;
}

/** CDR cause and side of each way an incoming call ends. */
const ENDINGS: Record<string, { cause: HangupCause; by: CdrHangupBy }> = {
  cancelled: { cause: 'caller_cancel', by: 'caller' }, 'bye-remote': { cause: 'caller_bye', by: 'caller' },
  'bye-local': { cause: 'api_hangup', by: 'api' }, rejected: { cause: 'rejected', by: 'api' },
  timeout: { cause: 'no_answer', by: 'system' }, failed: { cause: 'failed', by: 'system' },
};

/** An action that cannot be carried out now; `status` for the API (409 wrong state, 400/503 bad `stream`). */
export class ActionRefused extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

type State = 'incoming' | 'ringing' | 'accepting' | 'accepted' | 'ended';

class IncomingCall {
  state: State = 'incoming';
  private timer: TimerHandle | undefined;
  private readonly startedAt: number;
  private answeredAt: number | null = null;

  constructor(readonly call: GatewayCall, readonly leg: SipUasLeg, private readonly o: IncomingCallsOptions, private readonly log: Logger) {
    this.startedAt = o.legEnv.timers.now();
    this.timer = o.legEnv.timers.setTimeout(() => this.timeout(), o.ringTimeoutMs);
  }

  async act(action: IncomingAction, stream: HookAnswer['stream'] | undefined): Promise<void> {
    if (this.state === 'ended') throw new ActionRefused(409, 'the call has ended');
    if (action === 'Continue') return;
    if (action === 'End') { this.end('rejected', this.state === 'accepted' ? 200 : 603); return; }
    if (this.state === 'accepted' || this.state === 'accepting') throw new ActionRefused(409, `cannot ${action}: the call is already accepted`);
    if (action === 'Ring') {
      if (this.state === 'ringing') return;
      this.state = 'ringing';
      this.leg.provisional(180, undefined);
      this.call.emit('ringing');
      return;
    }
    const wanted = stream && (stream.room || stream.peer) ? stream : undefined;
    let room: Room | undefined;
    try {
      room = wanted ? this.o.gateway.media.roomFor(wanted) : undefined;
    } catch (err) {
      if (err instanceof CallMediaError) throw new ActionRefused(err.status, err.message);
      throw err;
    }
    this.state = 'accepting';
    let body: string;
    try {
      body = await answerOffer(this.o.media, this.leg.req.msg.body, this.leg.media, null);
    } catch (err) {
      const f = sdpFailure(err, this.o.domain);
      this.leg.reject(f?.status ?? 500, f?.reason, f?.headers);
      this.finish('failed', f?.status ?? 500);
      throw new ActionRefused(409, `the caller's offer cannot be answered: ${(err as Error).message}`);
    }
    if ((this.state as State) === 'ended') throw new ActionRefused(409, 'the call has ended');
    clearTimer(this.o.legEnv.timers, this.timer);
    this.leg.answer(body);
    this.answeredAt = this.o.legEnv.timers.now();
    this.state = 'accepted';
    this.call.legId = this.leg.media.endpoint.id;
    if (room && wanted) {
      try {
        await this.o.gateway.media.joinRoom(this.call, this.call.legId, room, { room: wanted.room!, peer: wanted.peer!, record: wanted.record });
      } catch (err) {
        this.end('failed', 500);
        throw new ActionRefused(err instanceof CallMediaError ? err.status : 500, `the call could not join room ${wanted.room}: ${(err as Error).message}`);
      }
    }
    this.call.emit('accepted');
  }

  /** Ends the call from our side (API, hook, shutdown). */
  end(reason: string, sipCode: number): void {
    if (this.state === 'ended') return;
    if (this.state === 'accepted') this.leg.bye(); else this.leg.reject(sipCode === 200 ? 603 : sipCode);
    this.finish(this.state === 'accepted' ? 'bye-local' : reason, this.state === 'accepted' ? 200 : sipCode);
  }

  private timeout(): void {
    if (this.state === 'accepted' || this.state === 'ended') return;
    this.log.info('incoming call: no decision in time');
    this.leg.reject(480);
    this.finish('timeout', 480);
  }

  /** The caller's side ended it (CANCEL, BYE) or we did. */
  finish(reason: string, sipCode: number): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    clearTimer(this.o.legEnv.timers, this.timer);
    this.leg.stop();
    for (const key of this.leg.dialogKeys()) this.o.dialogs.delete(key);
    void this.o.media.releaseLeg(this.leg.media.endpoint.id).catch(() => {});
    this.record(reason, sipCode);
    this.call.emit('ended', { reason, sip_code: sipCode });
  }

  private record(reason: string, sipCode: number): void {
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    const e = ENDINGS[reason] ?? { cause: 'failed' as const, by: 'system' as const };
    const answered = this.answeredAt !== null;
    this.o.records?.close({
      call_id: this.call.id, a_call_id: this.leg.callId, b_call_id: null, caller: this.call.from, callee: this.call.to,
      direction: 'inbound', start_time: iso(this.startedAt)!, answer_time: iso(this.answeredAt), codec: codecLabel(this.leg.media),
      end_time: iso(this.o.legEnv.timers.now())!, hangup_cause: e.cause, hangup_by: e.by, sip_code: answered ? 200 : sipCode,
      disposition: answered ? 'answered' : reason === 'cancelled' ? 'cancelled' : reason === 'timeout' ? 'no_answer' : dispositionFor(sipCode),
    }, false);
  }
}

export class IncomingCalls {
  private readonly byId = new Map<string, IncomingCall>();
  private readonly digest: DigestServer;
  private readonly log: Logger;

  constructor(private readonly o: IncomingCallsOptions) {
    this.log = o.logger.child({ component: 'callgw-incoming' });
    const secret = createHmac('sha256', o.secretKey).update('strowger call-gateway digest v1').digest();
    this.digest = createDigestServer({ realm: o.domain, secret, algorithms: ['MD5', 'SHA-256'] });
  }

  /** B2BUA hook: true when the INVITE was for an app number (and is answered here). */
  async intercept(r: IncomingRequest): Promise<boolean> {
    const uri = r.msg.requestUri;
    const dialed = uri.scheme === 'tel' ? (uri.opaque ?? uri.host) : (uri.user ?? '');
    if (!dialed) return false;
    const number = await this.o.gateway.number(dialed) ?? (dialed.startsWith('+') ? undefined : await this.o.gateway.number(`+${dialed}`));
    if (!number) return false;
    const ip = parseIp(r.source.remoteAddress);
    if (!ip || !number.subnets.some((c) => { const b = parseCidr(c); return b !== undefined && cidrContains(b, ip); })) {
      this.log.info({ number: number.number, source: r.source.remoteAddress }, 'incoming call refused: source not in the number\'s subnets');
      r.reply(403, 'Forbidden');
      return true;
    }
    if (number.auth && !(await this.authenticated(r, number.auth))) return true;
    await this.start(r, number).catch((err) => {
      this.log.error({ err }, 'incoming call could not start');
      try { r.reply(500); } catch { /* answered */ }
    });
    return true;
  }

  /** Digest (407, RFC 3261 §22.3) with the number's credentials; false when it answered. */
  private async authenticated(r: IncomingRequest, auth: { username: string; password: string }): Promise<boolean> {
    const header = r.msg.getHeader('proxy-authorization');
    if (header) {
      const res = await this.digest.verify(header, {
        method: 'INVITE', requestUri: r.msg.requestUriText,
        lookupHa1: (u, realm, hash) => (u === auth.username ? createHash(hash === 'SHA-256' ? 'sha256' : hash === 'MD5' ? 'md5' : 'sha512-256').update(`${u}:${realm}:${auth.password}`).digest('hex') : undefined),
      });
      if (res.kind === 'ok') return true;
      if (res.kind !== 'stale') { r.reply(403, 'Forbidden'); return false; }
      r.reply(407, 'Proxy Authentication Required', { headers: { 'Proxy-Authenticate': this.digest.challengesFor(res) } });
      return false;
    }
    r.reply(407, 'Proxy Authentication Required', { headers: { 'Proxy-Authenticate': this.digest.challenges() } });
    return false;
  }

  private async start(r: IncomingRequest, number: CallNumber): Promise<void> {
    const info = await this.o.media.createLeg({ family: addressFamily(r.source.remoteAddress) });
    const from = r.msg.from.uri.user ?? 'anonymous';
    let incoming: IncomingCall | undefined;
    const leg = new SipUasLeg({ ...this.o.legEnv, log: this.log }, {
      bindDialog: (key) => this.o.dialogs.set(key, {
        request: (req) => this.inDialog(incoming, req),
        ack: (ack) => { leg.onAck(ack); },
      }),
      failed: (cause) => incoming?.finish(cause === 'no_ack' ? 'failed' : cause, 408),
    }, createLegMedia(info), r);
    const call = this.o.gateway.register({
      id: randomHex(12), appId: number.app_id, direction: 'incoming', from, to: number.number,
      hook: number.hook ? { url: number.hook, contentType: number.hook_content_type } : null,
      control: {
        end: () => incoming?.end('rejected', 603),
        sendDtmf: async (digits) => {
          if (incoming?.state !== 'accepted') throw new Error('the call is not accepted');
          await this.o.media.sendDtmf(info.id, digits);
        },
        setMuted: async (muted) => { await this.o.media.setDirection(info.id, muted ? 'recvonly' : 'sendrecv'); },
      },
    });
    incoming = new IncomingCall(call, leg, this.o, this.log.child({ call_id: call.id }));
    this.byId.set(call.id, incoming);
    r.onCancel = () => incoming!.finish('cancelled', 487);
    call.subscribe((e) => { if (e.event === 'ended') this.byId.delete(call.id); });
    this.log.info({ call_id: call.id, number: number.number, from }, 'incoming call for an app');
    call.emit('incoming');
  }

  private inDialog(incoming: IncomingCall | undefined, r: IncomingRequest): void {
    if (r.msg.method === 'BYE') {
      r.reply(200, 'OK');
      incoming?.finish('bye-remote', 200);
      return;
    }
    r.reply(r.msg.method === 'INFO' ? 200 : 488);
  }

  /**
   * An action for call `id` of `appId` (API or hook answer).
   * @throws ActionRefused: 404 unknown, 409 wrong state, 400/409/503 a `stream` that cannot be joined.
   */
  async act(appId: string, id: string, action: IncomingAction, stream?: HookAnswer['stream']): Promise<void> {
    const c = this.byId.get(id);
    if (!c || c.call.appId !== appId) {
      const known = this.o.gateway.find(appId, id);
      if (known?.direction === 'incoming') throw new ActionRefused(409, 'the call has ended');
      throw new ActionRefused(404, `incoming call ${id} not found`);
    }
    await c.act(action, stream);
  }

  /** Shutdown: every incoming call ends. */
  close(): void {
    for (const c of this.byId.values()) c.end('failed', 503);
  }
}
