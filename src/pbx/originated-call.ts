/**
 * One call the PBX placed itself (`originate.ts`): UAC forks (`SipUacLeg`, one per routed
 * target, one for a URI) sharing our local media endpoint; the first 2xx wins and the others
 * are cancelled (RFC 3261 §13.2.2.4). We are the offerer with our own codecs (`local-offer.ts`);
 * the answer (in a 183 for early media, then in the 2xx) is anchored by `anchorSdp`.
 *
 * State: dialing → ringing/early → answered → ended. `hangup()` is a CANCEL before the answer
 * and a BYE after; every ending emits `ended` once with its reason and SIP code and queues a CDR.
 */
import { EventEmitter } from 'node:events';
import { randomHex } from '../sip/random-pool.ts';
import type { Logger } from 'pino';
import type { IncomingRequest } from '../sip/endpoint.ts';
import { addressFamily } from '../sip/endpoint.ts';
import type { SipMessage } from '../sip/message.ts';
import type { SendTarget, TransportProtocol } from '../sip/transport-types.ts';
import { randomCallId, randomTag } from '../sip/message-build.ts';
import { COMPLETED_ELSEWHERE } from '../sip/header-reason.ts';
import { parseUri } from '../sip/uri.ts';
import { DtmfInfoError, parseDtmfInfo } from '../media/dtmf/info-body.ts';
import type { CdrDisposition, CdrHangupBy, HangupCause } from '../store/cdrs.ts';
import type { CallRecordWriter } from './call-cdr-writer.ts';
import { answerOffer, createLegMedia, type LegMedia } from './anchor-sdp.ts';
import { clearTimer, type Timers, type TimerHandle } from './call-timers.ts';
import { better, dispositionFor, sdpFailure } from './call-outcome.ts';
import type { CallTarget } from './call-router.ts';
import { codecLabel } from './leg-types.ts';
import { contactFor, type CallEndpoint, type SipLegEnv } from './leg-sip.ts';
import { SipUacLeg } from './leg-sip-uac.ts';
import { anchorOwnAnswer, localOffer } from './local-offer.ts';
import { buildOutgoingInvite, type InviteDestination } from './outgoing-invite.ts';
import type { OriginateDialing, OriginateMedia } from './originate.ts';

/** Where the call goes. */
export type OriginateTarget =
  | { kind: 'uri'; uri: string; proxy?: string; credentials?: { username: string; password: string } }
  | { kind: 'number'; number: string };

export interface OriginateRequest {
  target: OriginateTarget;
  /** User part of From: the caller id presented. */
  from: string;
  displayName?: string;
  /** Placement group of our media endpoint (a room id, a call id) so it can be `connect`ed there. */
  group?: string;
  /** Default: the PBX's ring timeout. */
  ringTimeoutMs?: number;
  /** Extra INVITE headers. */
  headers?: Record<string, string>;
}

/**
 * Why a call ended: the far end refused it (`rejected`, with its status), we cancelled it
 * before the answer (`cancelled`), a BYE from us or from the far end, no answer in time
 * (`timeout`), no RTP (`media-timeout`), the media worker died (`worker-exit`), or it could
 * not be placed (`failed`: no route, bad URI, unusable SDP, no media ports).
 */
export type OriginateEndReason = 'rejected' | 'cancelled' | 'bye-local' | 'bye-remote' | 'timeout' | 'media-timeout' | 'worker-exit' | 'failed';

export interface OriginatedCallEvents {
  /** A 180/183 (the status) arrived; once per status. */
  ringing: [{ status: number }];
  /** The far end's media (SDP in a provisional) flows into our endpoint before the answer. */
  earlyMedia: [{ legId: number }];
  answered: [{ legId: number; codec: string | null }];
  ended: [{ reason: OriginateEndReason; sipCode: number }];
  /** A digit from the far end (RFC 4733, in-band, SIP INFO). */
  dtmf: [{ digit: string; durationMs: number; via: 'rfc4733' | 'inband' | 'info' }];
}

export type OriginatedCallState = 'dialing' | 'ringing' | 'early' | 'answered' | 'ended';

export interface OriginatedCallEnv {
  endpoint: CallEndpoint;
  media: OriginateMedia;
  dialing: OriginateDialing;
  timers: Timers;
  logger: Logger;
  domain: string;
  t1: number;
  advertise(protocol: TransportProtocol, family?: 4 | 6): { host: string; port: number };
  ringTimeoutMs: number;
  maxCallMs: number;
  records: CallRecordWriter | undefined;
  /** Our media endpoint exists (the originator indexes its events by it). */
  legCreated(legId: number): void;
}

class OriginateFailure extends Error {
  constructor(readonly sipCode: number, message: string, readonly reason: OriginateEndReason = 'failed') { super(message); }
}

const CAUSES: Record<OriginateEndReason, { cause: HangupCause; by: CdrHangupBy }> = {
  rejected: { cause: 'rejected', by: 'callee' }, cancelled: { cause: 'api_hangup', by: 'api' },
  'bye-local': { cause: 'api_hangup', by: 'api' }, 'bye-remote': { cause: 'callee_bye', by: 'callee' },
  timeout: { cause: 'no_answer', by: 'system' }, 'media-timeout': { cause: 'rtp_timeout', by: 'system' },
  'worker-exit': { cause: 'media_failure', by: 'system' }, failed: { cause: 'failed', by: 'system' },
};

export class OriginatedCall extends EventEmitter<OriginatedCallEvents> {
  readonly id = randomHex(12);
  state: OriginatedCallState = 'dialing';
  readonly sipCallId = randomCallId();
  private readonly fromTag = randomTag();
  readonly startedAt: number;
  answeredAt: number | null = null;
  /** Our media endpoint (null until created). */
  legId: number | null = null;
  private media: LegMedia | undefined;
  private readonly forks: SipUacLeg[] = [];
  private targets = 0;
  private winner: SipUacLeg | undefined;
  private ringTimer: TimerHandle | undefined;
  private maxTimer: TimerHandle | undefined;
  private readonly seenStatus = new Set<number>();
  private journalled = false;
  private hangupCause: HangupCause | undefined;
  private readonly legEnv: SipLegEnv;
  private readonly log: Logger;

  constructor(private readonly env: OriginatedCallEnv, readonly request: OriginateRequest) {
    super();
    this.startedAt = env.timers.now();
    this.log = env.logger.child({ component: 'originate', call: this.id, sip_call_id: this.sipCallId });
    this.legEnv = { endpoint: env.endpoint, timers: env.timers, t1: env.t1, log: this.log, advertise: env.advertise };
  }

  /** The callee as CDRs name it: the URI or the dialled number. */
  get callee(): string {
    const t = this.request.target;
    return t.kind === 'uri' ? t.uri : t.number;
  }

  get codec(): string | null {
    return this.media ? codecLabel(this.media) : null;
  }

  /** Routes, creates the media endpoint and sends the INVITE(s); never throws (failures end the call). */
  async start(): Promise<void> {
    try {
      await this.dial();
    } catch (err) {
      const f = err instanceof OriginateFailure ? err : null;
      if (!f) this.log.error({ err }, 'originate: could not place the call');
      else this.log.info({ err: f.message, sipCode: f.sipCode }, 'originate: not placed');
      this.end(f?.reason ?? 'failed', f?.sipCode ?? 500);
    }
  }

  private async dial(): Promise<void> {
    const { destinations, sendTargets } = await this.resolve();
    if (this.state === 'ended') return;
    const info = await this.env.media.createLeg({ group: this.request.group, family: addressFamily(sendTargets[0]![0]!.address) })
      .catch((err: unknown) => { throw new OriginateFailure(503, `no media endpoint: ${(err as Error).message}`); });
    this.legId = info.id;
    this.media = createLegMedia(info);
    this.env.legCreated(info.id);
    if ((this.state as OriginatedCallState) === 'ended') { void this.env.media.releaseLeg(info.id).catch(() => {}); return; }
    const body = localOffer(this.media, null);
    this.targets = destinations.length;
    this.ringTimer = this.env.timers.setTimeout(() => this.ringTimeout(), this.request.ringTimeoutMs ?? this.env.ringTimeoutMs);
    const credentials = this.request.target.kind === 'uri' ? this.request.target.credentials : undefined;
    this.log.info({ to: this.callee, forks: destinations.length }, 'originate: dialling');
    destinations.forEach((destination, i) => {
      const leg = new SipUacLeg(this.legEnv, {
        provisional: (l, res) => { void this.onProvisional(l, res).catch((err) => this.log.warn({ err }, 'originate: provisional handling failed')); },
        answered: (l, res) => { void this.onAnswered(l, res).catch((err) => { this.log.error({ err }, 'originate: answer handling failed'); this.hangup('failed'); }); },
        failed: () => this.onForkFailed(),
      }, this.media!, {
        target: destination.kind === 'routed' ? destination.target : undefined,
        sendTargets: sendTargets[i]!, body,
        buildInvite: (cseq, b, to) => buildOutgoingInvite({
          legEnv: this.legEnv, domain: this.env.domain, destination, callId: this.sipCallId, fromTag: this.fromTag,
          fromUser: this.request.from, displayName: this.request.displayName, headers: this.request.headers,
        }, to, b, cseq),
        trunkCredentials: (id) => this.env.dialing.trunkCredentials(id),
        credentials: credentials ? () => Promise.resolve(credentials) : undefined,
      });
      this.forks.push(leg);
      leg.send();
    });
  }

  /** The INVITE destinations and, for each, where it may be sent (RFC 3263 order). */
  private async resolve(): Promise<{ destinations: InviteDestination[]; sendTargets: SendTarget[][] }> {
    const t = this.request.target;
    if (t.kind === 'uri') {
      const via = t.proxy ?? t.uri;
      let uri;
      try {
        parseUri(t.uri);
        uri = parseUri(via.replace(/^<|>$/g, ''));
      } catch (err) {
        throw new OriginateFailure(400, `bad SIP URI: ${(err as Error).message}`);
      }
      if (uri.scheme !== 'sip' && uri.scheme !== 'sips') throw new OriginateFailure(416, `unsupported URI scheme ${uri.scheme}`);
      const transport = uri.params.get('transport')?.toLowerCase();
      const located = await this.env.dialing.locate({
        host: uri.host, port: uri.port ?? undefined, secure: uri.scheme === 'sips',
        transport: transport === 'udp' || transport === 'tcp' || transport === 'tls' ? transport : undefined,
      }).catch((err: unknown) => { throw new OriginateFailure(503, `cannot resolve ${uri.host}: ${(err as Error).message}`); });
      if (located.length === 0) throw new OriginateFailure(503, `no address for ${uri.host}`);
      const targets: SendTarget[] = located.map((l) => ({ protocol: l.protocol, address: l.address, port: l.port, serverName: l.serverName }));
      return { destinations: [{ kind: 'uri', uri: t.uri, proxy: t.proxy }], sendTargets: [targets] };
    }
    const decision = await this.env.dialing.route(t.number, this.request.from);
    if (decision.kind === 'reject') throw new OriginateFailure(decision.status, `routing: ${decision.reason}`, 'rejected');
    if (decision.targets.length === 0) throw new OriginateFailure(480, 'routing: answered locally (voicemail) — not a target for an originated call', 'rejected');
    const sendTargets = await Promise.all(decision.targets.map((x: CallTarget) => this.env.dialing.sendTargetsFor(x)))
      .catch((err: unknown) => { throw new OriginateFailure(503, `no send target: ${(err as Error).message}`); });
    return { destinations: decision.targets.map((target) => ({ kind: 'routed' as const, target })), sendTargets };
  }

  private get settled(): boolean {
    return this.state === 'answered' || this.state === 'ended' || this.winner !== undefined;
  }

  private async onProvisional(_leg: SipUacLeg, res: SipMessage): Promise<void> {
    if (this.settled) return;
    if (res.body.length > 0 && this.media) {
      await anchorOwnAnswer(this.env.media, res.body, this.media);
      if (this.settled) return;
      if (this.state !== 'early') { this.state = 'early'; this.emit('earlyMedia', { legId: this.media.endpoint.id }); }
    } else if (this.state === 'dialing') this.state = 'ringing';
    if ((res.status === 180 || res.status === 183) && !this.seenStatus.has(res.status)) {
      this.seenStatus.add(res.status);
      this.emit('ringing', { status: res.status });
    }
  }

  private async onAnswered(leg: SipUacLeg, res: SipMessage): Promise<void> {
    if (this.winner === leg) { leg.ack(); return; } // 2xx retransmission (§13.2.2.4)
    if (this.settled || !this.media) { leg.refuseAnswer(); if (this.state === 'ended') leg.release(); return; }
    this.winner = leg;
    leg.won(res.status);
    for (const f of this.forks) if (f !== leg) f.cancel([COMPLETED_ELSEWHERE]);
    clearTimer(this.env.timers, this.ringTimer);
    leg.ack();
    if (leg.dialog) this.env.dialing.bindDialog(leg.dialog.key, (r) => this.inDialog(r));
    try {
      if (res.body.length > 0) await anchorOwnAnswer(this.env.media, res.body, this.media);
      if (!this.media.codec) throw new OriginateFailure(488, 'the answer carries no audio codec');
    } catch (err) {
      this.log.info({ err: (err as Error).message }, 'originate: unusable answer');
      leg.bye();
      this.end('failed', sdpFailure(err, this.env.domain)?.status ?? 488);
      return;
    }
    if (this.state === 'ended') return;
    this.answeredAt = this.env.timers.now();
    this.journalled = this.env.records !== undefined;
    await this.env.records?.open(this.callStart());
    if ((this.state as OriginatedCallState) === 'ended') return;
    this.state = 'answered';
    this.maxTimer = this.env.timers.setTimeout(() => this.hangup('max_duration'), this.env.maxCallMs);
    this.log.info({ codec: this.codec }, 'originate: answered');
    this.emit('answered', { legId: this.media.endpoint.id, codec: this.codec });
  }

  private onForkFailed(): void {
    if (this.settled) return;
    if (this.forks.length < this.targets || !this.forks.every((f) => f.done)) return;
    let best = 0;
    for (const f of this.forks) best = best === 0 ? f.status : better(best, f.status);
    this.end('rejected', best || 480);
  }

  private ringTimeout(): void {
    if (this.settled) return;
    this.log.info('originate: no answer');
    for (const f of this.forks) f.cancel();
    this.end('timeout', 408);
  }

  /** Requests inside our dialog: BYE ends the call, INFO may carry a digit, a re-offer is answered on our endpoint. */
  private inDialog(r: IncomingRequest): void {
    const m = r.msg.method;
    if (m === 'BYE') {
      r.reply(200, 'OK');
      this.end('bye-remote', 200);
    } else if (m === 'INFO') this.info(r);
    else if ((m === 'INVITE' || m === 'UPDATE') && r.msg.body.length > 0 && this.media) {
      const media = this.media;
      void answerOffer(this.env.media, r.msg.body, media, media.codec).then((answer) => {
        this.winner?.dialog?.refreshTarget(r.msg);
        r.reply(200, 'OK', { body: answer, contentType: 'application/sdp', headers: { Contact: contactFor(this.legEnv, r.tx.source) } });
      }, (err: unknown) => {
        const f = sdpFailure(err, this.env.domain);
        r.reply(f?.status ?? 500, f?.reason, { headers: f?.headers });
      });
    } else if (m === 'INVITE' || m === 'UPDATE') r.reply(488, 'Not Acceptable Here');
    else r.reply(405, 'Method Not Allowed', { headers: { Allow: 'INVITE, ACK, CANCEL, BYE, UPDATE, INFO' } });
  }

  private info(r: IncomingRequest): void {
    if (r.msg.body.length === 0) { r.reply(200, 'OK'); return; }
    try {
      const d = parseDtmfInfo(r.msg.contentType ?? '', r.msg.body);
      r.reply(200, 'OK');
      this.emit('dtmf', { digit: d.digit, durationMs: d.durationMs, via: 'info' });
    } catch (err) {
      if (!(err instanceof DtmfInfoError)) throw err;
      r.reply(err.sipStatus, err.message.replace(/[\x00-\x1f\x7f]/g, ' '));
    }
  }

  /**
   * Sends `digits` to the far end (RFC 4733 when negotiated, else tones; `engine.sendDtmf`).
   * @throws MediaError for a bad digit; Error when the call is not answered.
   */
  async sendDtmf(digits: string, durationMs = 100): Promise<void> {
    if (this.state !== 'answered' || this.legId === null) throw new Error(`cannot send DTMF: call is ${this.state}`);
    await this.env.media.sendDtmf(this.legId, digits, durationMs);
  }

  /** CANCEL before the answer, BYE after; idempotent. `cause` names it in the CDR. */
  hangup(cause: HangupCause = 'api_hangup'): void {
    if (this.state === 'ended') return;
    this.hangupCause = cause;
    if (this.winner) {
      this.winner.bye();
      this.end('bye-local', 200);
      return;
    }
    for (const f of this.forks) f.cancel();
    this.end('cancelled', 487);
  }

  /** Media events routed by the originator. */
  mediaTimeout(): void {
    if (this.state !== 'answered') return;
    this.winner?.bye();
    this.end('media-timeout', 200);
  }

  workerExit(): void {
    if (this.state === 'ended') return;
    if (this.winner) this.winner.bye(); else for (const f of this.forks) f.cancel();
    this.end('worker-exit', this.winner ? 200 : 487);
  }

  digit(digit: string, durationMs: number, via: 'rfc4733' | 'inband'): void {
    if (this.state === 'answered' || this.state === 'early') this.emit('dtmf', { digit, durationMs, via });
  }

  private end(reason: OriginateEndReason, sipCode: number): void {
    if (this.state === 'ended') return;
    const answered = this.state === 'answered';
    this.state = 'ended';
    clearTimer(this.env.timers, this.ringTimer);
    clearTimer(this.env.timers, this.maxTimer);
    if (this.winner?.dialog) this.env.dialing.unbindDialog(this.winner.dialog.key);
    for (const f of this.forks) f.release();
    if (this.legId !== null) void this.env.media.releaseLeg(this.legId).catch(() => {});
    const { cause, by } = CAUSES[reason];
    const hangupCause = this.hangupCause ?? (reason === 'rejected' && (sipCode === 486 || sipCode === 600) ? 'busy' : cause);
    const disposition: CdrDisposition = answered ? 'answered' : reason === 'cancelled' ? 'cancelled' : reason === 'timeout' ? 'no_answer' : dispositionFor(sipCode);
    this.log.info({ reason, sipCode, disposition }, 'originate: ended');
    this.env.records?.close({
      ...this.callStart(), end_time: new Date(this.env.timers.now()).toISOString(), disposition,
      hangup_cause: hangupCause, hangup_by: this.hangupCause && this.hangupCause !== 'api_hangup' ? 'system' : by, sip_code: answered ? 200 : sipCode,
    }, this.journalled);
    this.emit('ended', { reason, sipCode });
  }

  private callStart() {
    const won = this.winner?.callTarget;
    return {
      call_id: this.id, a_call_id: this.sipCallId, b_call_id: null, caller: this.request.from, callee: this.callee,
      callee_device_id: won?.kind === 'contact' ? won.deviceId : null, trunk_id: won?.kind === 'trunk' ? won.trunk.id : null,
      direction: 'outbound' as const, start_time: new Date(this.startedAt).toISOString(),
      answer_time: this.answeredAt === null ? null : new Date(this.answeredAt).toISOString(), codec: this.codec,
    };
  }

  /** Plain data for the API and logs. */
  snapshot(): { id: string; state: OriginatedCallState; sipCallId: string; callee: string; legId: number | null; codec: string | null; startedAt: number; answeredAt: number | null } {
    return { id: this.id, state: this.state, sipCallId: this.sipCallId, callee: this.callee, legId: this.legId, codec: this.codec, startedAt: this.startedAt, answeredAt: this.answeredAt };
  }
}
