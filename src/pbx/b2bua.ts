/**
 * The call engine: turns an INVITE into a routed, media-anchored B2BUA call, finds calls
 * for in-dialog requests, and writes a CDR for every attempt. Calls live in memory on the
 * node that carries them; answered calls are journalled so a crash still ends in a CDR.
 */
import type { Logger } from 'pino';
import type { Kysely } from 'kysely';
import type { DB } from '../store/schema.ts';
import { findDeviceById, toSrtpPolicy } from '../store/devices.ts';
import type { SecretBox } from '../store/secret-box.ts';
import type { IncomingRequest, SipEndpoint } from '../sip/endpoint.ts';
import type { SipMessage } from '../sip/message.ts';
import type { DigestServer } from '../sip/digest-server.ts';
import type { SendTarget, TransportProtocol } from '../sip/transport-types.ts';
import { bindingTarget } from './registrar-bindings.ts';
import { dialogKey } from '../sip/dialog.ts';
import type { MediaEngine, WorkerExitInfo } from '../media/media-engine.ts';
import type { LegStats } from '../media/relay-protocol.ts';
import { matchInboundTrunk, trunkCredentials } from '../store/trunks.ts';
import type { NewCdr } from '../store/cdrs.ts';
import { legFamilies } from './media-family.ts';
import { CallRecordWriter } from './call-cdr-writer.ts';
import type { DeviceCredentialCache } from './device-credentials.ts';
import type { LocationService } from './location-service.ts';
import type { GuardDecisions } from './sip-guard.ts';
import { createCallRouter, type CallOrigin, type CallTarget, type RouteDecision } from './call-router.ts';
import { RouterCache } from './call-router-cache.ts';
import { Call, sdpFailure, type CallEnv, type CallSnapshot } from './call.ts';
import type { HoldParty } from './call-hold.ts';
import { realTimers, type Timers } from './call-timers.ts';
import { negotiateSessionTimer } from './session-timer.ts';
import { createDeviceAuth } from './device-auth.ts';
import { CallDigits, digitOfMedia, handleDtmfInfo } from './call-dtmf.ts';
import { CallTransfers, type RingResult, type TransferRefusal, type TransferType } from './call-transfer.ts';
import { transferRoute } from './call-transfer-route.ts';
import { inviteWithReplaces, type ReplacesEnv } from './call-replaces.ts';
import { replacesOfRequest, SipReferError } from '../sip/index.ts';
import { trunkSendTargets } from './trunk-target.ts';
import { CachingDnsClient } from '../sip/dns-cache.ts';
import { SipDnsError, SipLocator } from '../sip/dns-resolve.ts';
import { twilioCallSidOf } from './twilio-call-sid.ts';
import { webRtcSides, withWebRtcEndpoints } from './webrtc-legs.ts';
import type { DtlsSrtpState, WebRtcEndpoint, WebRtcFactory } from '../media/webrtc/index.ts';

export interface B2buaOptions {
  endpoint: SipEndpoint;
  location: LocationService;
  media: MediaEngine;
  db: Kysely<DB>;
  box: SecretBox;
  digest: DigestServer;
  credentials: DeviceCredentialCache;
  guard: GuardDecisions;
  logger: Logger;
  domain: string;
  advertise(protocol: TransportProtocol, family?: 4 | 6): { host: string; port: number };
  ringTimeoutMs: number;
  maxCallMs: number;
  t1?: number;
  /** Smallest Session-Expires accepted (RFC 4028 Min-SE), seconds. Default 90. */
  minSessionExpires?: number;
  /** SDES-SRTP keys also in SDP over UDP/TCP (STROWGER_SRTP_ALLOW_INSECURE_SIGNALLING). */
  srtpInsecureSignalling?: boolean;
  /** Live SRTP settings (PUT /api/system/srtp/config); see CallEnv.srtpSettings. */
  srtpSettings?: CallEnv['srtpSettings'];
  events?: import('node:events').EventEmitter;
  /** Clock and timers of the calls; default Node's. */
  timers?: Timers;
  /** Music on hold played to held parties; none: they hear silence. */
  moh?: { currentMohFile(): Promise<string | null> };
  /** RFC 3263 resolution of trunk hosts; default: the system's DNS servers. */
  locator?: SipLocator;
  /** Parties answering calls locally (voicemail, mailbox menu; `call-local.ts`). */
  localParty?: import('./call-local.ts').LocalPartyFactory;
  /** ZRTP on answered calls (`zrtp-calls.ts`); none: never. */
  zrtp?: { callAnswered(callId: string, legIds: readonly number[]): void; callEnded(legIds: readonly number[]): void };
  /** What a device dials for its mailbox menu; none: no menu. */
  voicemailNumber?: string;
  /** User parts that reach rooms and the room IVR (`src/rooms/room-dial-plan.ts`). */
  roomDialPlan?: import('./call-router.ts').RouterDeps['rooms'];
  /** WebRTC endpoints for browser legs (SIP over WS); none: browsers' SDP is anchored as plain RTP would be. */
  webrtc?: WebRtcFactory;
  /** Calls handed to another thread (`call-shard-handoff.ts`): a call shard's to the main thread, the main thread's Replaces to a shard; none: every call is carried here. */
  handOff?: CallHandOff;
}

/** Asked at two points of a new INVITE; true: the request went to another thread and is no longer this one's. */
export interface CallHandOff {
  /** After the 100, before authentication: what the request alone says (transport, SDP, dialled number, Replaces). */
  early(r: IncomingRequest, hasCall: (callId: string) => boolean): Promise<boolean>;
  /** After routing: what the route says (voicemail, rooms, WebRTC targets). */
  routed(r: IncomingRequest, decision: RouteDecision): boolean;
}

export type { CallSnapshot };

/** A dialog the PBX owns outside B2BUA calls: its in-dialog requests and ACKs. */
export interface OwnDialog {
  request(r: IncomingRequest): void;
  ack?(msg: SipMessage): void;
}

/** Media counters of one leg as the API shows them. */
export interface LegMediaView {
  localPort: number;
  /** `address:port` media is sent to: the latched source, else the SDP's. */
  remote: string | null;
  packetsIn: number; packetsOut: number; bytesIn: number; bytesOut: number;
  rtcpPacketsIn: number; rtcpPacketsOut: number;
  /** SDES-SRTP as the leg's relay runs it (null: plain RTP). */
  srtp: { suite: string; authFailures: number; replays: number; unprotected: number; protected: number } | null;
  /** DTLS-SRTP of a WebRTC side, ended in its endpoint (null: not a WebRTC leg). */
  dtls: DtlsSrtpState | null;
}

/** A call with its legs' media counters (null when not asked for, or the leg is gone). */
export interface CallView extends CallSnapshot {
  media: { a: LegMediaView | null; b: LegMediaView | null };
}

function mediaView(s: LegStats | null, webrtc: WebRtcEndpoint | null): LegMediaView | null {
  if (!s) return null;
  return {
    localPort: s.rtpPort,
    remote: s.rtp.latched ? `${s.rtp.latched.address}:${s.rtp.latched.port}` : s.remote ? `${s.remote.address}:${s.remote.rtpPort}` : null,
    packetsIn: s.rtp.packetsIn, packetsOut: s.rtp.packetsOut, bytesIn: s.rtp.bytesIn, bytesOut: s.rtp.bytesOut,
    rtcpPacketsIn: s.rtcp.packetsIn, rtcpPacketsOut: s.rtcp.packetsOut,
    srtp: s.srtp ? { suite: s.srtp.suite, authFailures: s.srtp.authFailures, replays: s.srtp.replays, unprotected: s.srtp.unprotected, protected: s.srtp.protected } : null,
    dtls: webrtc?.dtlsSrtp() ?? null,
  };
}

/** A trunk host that resolves to nothing: 503 to the caller (RFC 3263 §4.3 ran out of targets), logged. */
function dnsFailure(err: unknown, log: Logger): { status: number; reason: string; headers: undefined } | null {
  if (!(err instanceof SipDnsError)) return null;
  log.warn({ code: err.code, err: err.message }, 'call: trunk host did not resolve');
  return { status: 503, reason: 'Service Unavailable (DNS)', headers: undefined };
}

export class B2bua {
  readonly calls = new Map<string, Call>();
  private readonly dialogs = new Map<string, { call: Call; side: 'a' | 'b' }>();
  private readonly byLeg = new Map<number, Call>();
  /**
   * Dialogs of calls the PBX placed itself (`originate.ts`), by dialog key: their in-dialog
   * requests (BYE, re-INVITE, INFO) go to the owner's handler instead of a B2BUA call.
   */
  readonly ownDialogs = new Map<string, OwnDialog>();
  /**
   * INVITEs the PBX answers itself before routing (the call gateway's app numbers): a handler
   * returning true has taken the request.
   */
  interceptInvite: ((r: IncomingRequest) => Promise<boolean>) | undefined;
  private readonly cache: RouterCache;
  private readonly router;
  private readonly log: Logger;
  private readonly records: CallRecordWriter;
  counters = { attempts: 0, answered: 0, rejected: 0, ended: 0 };
  /** CDRs written since start by `disposition` and `hangup_cause` (key `disposition/cause`; both from fixed lists). */
  readonly outcomes = new Map<string, number>();
  /** Digits pressed in calls (SIP INFO, RFC 4733, in-band), for IVR, voicemail, the API. */
  readonly digits = new CallDigits();
  private readonly env: CallEnv;
  private readonly deviceAuth;
  private readonly transfers: CallTransfers;
  private readonly locator: SipLocator;

  constructor(private readonly o: B2buaOptions) {
    this.locator = o.locator ?? new SipLocator({ dns: new CachingDnsClient() });
    this.env = this.createEnv();
    this.log = o.logger.child({ component: 'b2bua' });
    this.deviceAuth = createDeviceAuth({ digest: o.digest, credentials: o.credentials, guard: o.guard, log: this.log }, 'proxy');
    this.records = new CallRecordWriter(o.db, this.log);
    this.cache = new RouterCache({ db: o.db, events: o.events });
    this.router = createCallRouter({ db: o.db, cache: this.cache, location: o.location, defaultRingTimeoutMs: o.ringTimeoutMs, voicemailNumber: o.voicemailNumber, rooms: o.roomDialPlan });
    this.digits.on((d) => this.calls.get(d.callId)?.digit(d));
    o.endpoint.onRequest('INVITE', (r) => this.onInvite(r));
    this.transfers = this.createTransfers();
    o.endpoint.onRequest('BYE', (r) => this.transfers.byeDetached(r) ? undefined : this.inDialog(r, (call, side) => call.byeFrom(side, r)));
    o.endpoint.onRequest('REFER', (r) => this.inDialog(r, (call, side) => this.transfers.refer(call, side, r)));
    o.endpoint.onRequest('UPDATE', (r) => this.inDialog(r, (call, side) => call.inDialogUpdate(side, r)));
    o.endpoint.onRequest('PRACK', (r) => this.inDialog(r, (call, side) => call.prack(side, r)));
    // A call answered locally (voicemail) has no other party to play an INFO digit to.
    const noPlay = { sendDtmf: () => Promise.resolve() };
    o.endpoint.onRequest('INFO', (r) => this.inDialog(r, (call, side) => handleDtmfInfo(r, call, side, call.answeredLocally ? noPlay : o.media, this.digits, this.log)));
    o.endpoint.ackHandler = (ack) => this.onAck(ack);
    o.media.on('timeout', (legId, reason) => {
      // Silence while ringing is normal; only an answered call is ended for missing media.
      const call = this.byLeg.get(legId);
      if (call?.state === 'answered') call.hangup('system', reason === 'srtp_auth' ? 'srtp_auth_failed' : 'rtp_timeout');
    });
    o.media.on('workerExit', (info) => this.onWorkerExit(info));
    o.media.on('dtmf', (e) => {
      const call = this.byLeg.get(e.legId);
      const digit = call && digitOfMedia(call, e);
      if (digit) this.digits.emit(digit);
    });
    // A player whose file vanished or is corrupt gives silence; the call stays up.
    o.media.on('endpointError', (info) => this.log.error({ endpoint: info.id, reason: info.reason }, 'media endpoint failed (music on hold or prompt): playing silence'));
  }

  /**
   * A media worker died with its legs: every call with a leg there ends with cause
   * `media_failure` (BYE or final answer to both sides, CDR written); other calls go on.
   */
  private onWorkerExit(info: WorkerExitInfo): void {
    const hit = new Set<Call>();
    for (const legId of info.lostLegs) {
      const call = this.byLeg.get(legId);
      if (call) hit.add(call);
    }
    if (hit.size > 0 || info.code !== 0) this.log.error({ worker: info.worker, code: info.code, err: info.error, calls: hit.size }, 'media worker exited; ending its calls');
    for (const call of hit) call.hangup('system', 'media_failure');
  }

  private async inDialog(r: IncomingRequest, fn: (call: Call, side: 'a' | 'b') => void | Promise<void>): Promise<void> {
    const key = dialogKey(r.msg.callId, r.msg.toTag ?? '', r.msg.fromTag ?? '');
    const hit = this.dialogs.get(key);
    if (!hit) {
      const own = this.ownDialogs.get(key);
      if (own) own.request(r); else r.reply(481, 'Call/Transaction Does Not Exist');
      return;
    }
    await fn(hit.call, hit.side);
  }

  private onAck(ack: SipMessage): void {
    const key = dialogKey(ack.callId, ack.toTag ?? '', ack.fromTag ?? '');
    const hit = this.dialogs.get(key);
    if (!hit) this.ownDialogs.get(key)?.ack?.(ack);
    if (hit) void hit.call.onAck(hit.side, ack).catch((err) => this.log.warn({ err }, 'ACK handling failed'));
  }

  private async onInvite(r: IncomingRequest): Promise<void> {
    if (r.msg.toTag !== null) { await this.inDialog(r, (call, side) => call.inDialogUpdate(side, r)); return; }
    r.reply(100, 'Trying');
    if (this.interceptInvite && await this.interceptInvite(r)) return;
    if (this.o.handOff && await this.o.handOff.early(r, (id) => this.hasCallId(id))) return;
    const msg = r.msg;
    const ip = r.source.remoteAddress;
    const origin: CallOrigin = {};
    const trunk = matchInboundTrunk(await this.cache.enabledTrunks(), ip);
    if (trunk) {
      origin.trunk = trunk;
    } else {
      const device = await this.authenticate(r);
      if (!device) return;
      origin.device = device;
    }
    // RFC 4028 §8.1: an interval below our Min-SE is refused before anything rings.
    const sessionTimer = negotiateSessionTimer(msg, this.o.minSessionExpires ?? 90);
    if (sessionTimer.kind === 'too_small') {
      r.reply(422, 'Session Interval Too Small', { headers: { 'Min-SE': String(sessionTimer.minSe) } });
      return;
    }
    const uri = msg.requestUri;
    const dialed = uri.scheme === 'tel' ? (uri.opaque ?? uri.host) : (uri.user ?? '');
    const caller = origin.device?.username ?? msg.from.uri.user ?? 'anonymous';
    if (msg.getHeader('replaces') !== null) { await this.onReplaces(r, { name: caller, deviceId: origin.device?.id ?? null }, sessionTimer); return; }
    const decision = await this.router(dialed, caller, origin);
    if (this.o.handOff?.routed(r, decision)) return;
    this.counters.attempts++;
    // Twilio's CallSid is believed only from a trunk's inbound host, never from a device.
    const twilioCallSid = origin.trunk ? twilioCallSidOf(msg) : null;
    const who = {
      callerDeviceId: origin.device?.id ?? null, trunkId: origin.trunk?.id ?? null, caller, callee: dialed, twilioCallSid,
      callerSrtp: origin.device?.srtp ? { policy: origin.device.srtp, transport: r.source.protocol }
        : origin.trunk ? { policy: origin.trunk.srtp ?? 'off', transport: r.source.protocol } : undefined,
    };
    if (decision.kind === 'reject') {
      this.reject(r, who, decision);
      return;
    }
    let legs;
    try {
      const pair = await this.o.media.createLegPair(legFamilies(this.o.media.advertisedAddress6 !== null, msg.body, r.source.remoteAddress, decision.targets[0]));
      legs = await withWebRtcEndpoints(this.o.webrtc, this.o.media, pair, webRtcSides(msg.body, decision.targets)).catch(async (err) => {
        for (const leg of pair) await this.o.media.releaseLeg(leg.id);
        throw err;
      });
    } catch (err) {
      this.log.error({ err }, 'no media ports');
      this.reject(r, who, { status: 503, reason: 'Service Unavailable (no media ports)', disposition: 'failed', cause: 'no_media_ports', direction: decision.direction, didId: decision.didId, didNumber: decision.didNumber });
      return;
    }
    const call = new Call(this.env, r, decision, who, legs, sessionTimer);
    this.calls.set(call.id, call);
    for (const id of call.mediaLegIds) this.byLeg.set(id, call);
    try {
      await call.start();
    } catch (err) {
      // Whatever stops the offer from being set up ends the call here, so it never lingers with
      // its legs: errors of our catalogues carry their status (SDP 400, 488 with a Warning, media 488/503).
      const f = sdpFailure(err, this.o.domain) ?? dnsFailure(err, this.log) ?? { status: 500, reason: undefined, headers: undefined };
      if (f.status >= 500) this.log.error({ err }, 'call set-up failed'); else this.log.info({ err: (err as Error).message }, 'unusable SDP offer');
      call.caller.reject(f.status, f.reason, f.headers);
      call.hangup('system', 'failed');
    }
  }

  /** INVITE with Replaces (RFC 3891, `call-replaces.ts`): takes over a party of a call, or 400/481/486/603. */
  private async onReplaces(r: IncomingRequest, who: { name: string; deviceId: number | null }, sessionTimer: ReturnType<typeof negotiateSessionTimer>): Promise<void> {
    let replaces;
    try {
      replaces = replacesOfRequest(r.msg)!;
    } catch (err) {
      if (!(err instanceof SipReferError)) throw err;
      r.reply(400, 'Bad Request', { headers: { Warning: `399 ${this.o.domain} "${err.message.replace(/["\\]/g, '')}"` } });
      return;
    }
    const env: ReplacesEnv = {
      legEnv: { endpoint: this.env.endpoint, timers: this.env.timers, t1: this.env.t1, log: this.env.logger, advertise: this.env.advertise },
      media: this.o.media, domain: this.o.domain, log: this.log, transfers: this.transfers,
      findDialog: (key) => this.dialogs.get(key),
    };
    await inviteWithReplaces(env, r, replaces, who, sessionTimer);
  }

  /** Answers a call attempt that will not ring anything, with its CDR (rejects are CDRs too). */
  private reject(r: IncomingRequest, who: { callerDeviceId: number | null; trunkId: number | null; caller: string; callee: string; twilioCallSid: string | null }, d: Omit<Extract<RouteDecision, { kind: 'reject' }>, 'kind'>): void {
    this.counters.rejected++;
    r.reply(d.status, d.reason);
    const now = new Date().toISOString();
    const msg = r.msg;
    this.writeCdr({
      call_id: msg.callId.slice(0, 64), a_call_id: msg.callId, b_call_id: null, caller: who.caller, callee: who.callee,
      did_id: d.didId ?? null, did_number: d.didNumber ?? null, caller_device_id: who.callerDeviceId,
      callee_device_id: null, trunk_id: who.trunkId, direction: d.direction, start_time: now, answer_time: null,
      end_time: now, disposition: d.disposition, hangup_cause: d.cause, hangup_by: 'system', sip_code: d.status,
      twilio_call_sid: who.twilioCallSid,
    }, false);
    this.log.info({ a_call_id: msg.callId, status: d.status, cause: d.cause }, 'call rejected');
  }

  /** Digest for INVITEs from devices (407, RFC 3261 §22.3). Returns null when it answered. */
  private async authenticate(r: IncomingRequest): Promise<CallOrigin['device'] | null> {
    const auth = await this.deviceAuth(r);
    if (!auth.ok) return null;
    const row = await findDeviceById(this.o.db, auth.deviceId);
    return { id: auth.deviceId, username: auth.username, callerId: row?.caller_id ?? null, srtp: toSrtpPolicy(row?.srtp ?? 'off') };
  }

  private createEnv(): CallEnv {
    return {
    endpoint: this.o.endpoint,
    media: this.o.media,
    timers: this.o.timers ?? realTimers,
    logger: this.o.logger.child({ component: 'call' }),
    domain: this.o.domain,
    t1: this.o.t1 ?? 500,
    maxCallMs: this.o.maxCallMs,
    hold: { media: this.o.media, mohFile: () => this.o.moh?.currentMohFile() ?? Promise.resolve(null) },
    localParty: this.o.localParty,
    srtpInsecureSignalling: this.o.srtpInsecureSignalling,
    srtpSettings: this.o.srtpSettings,
    advertise: (p: TransportProtocol, family?: 4 | 6) => this.o.advertise(p, family),
    sendTargetsFor: async (target: CallTarget): Promise<SendTarget[]> => {
      if (target.kind === 'contact') {
        return [bindingTarget(target.binding)];
      }
      const targets = await trunkSendTargets(this.locator, target.trunk);
      if (!target.trunk.tls_verify && targets.some((t) => t.protocol === 'tls')) {
        this.log.warn({ trunk: target.trunk.id, host: target.trunk.host }, 'trunk TLS certificate verification is OFF (tls_verify false): anyone on the path can pose as this carrier');
      }
      return targets;
    },
    trunkCredentials: (id: number) => trunkCredentials(this.o.db, this.o.box, id),
    bindDialog: (key: string, call: Call, side: 'a' | 'b') => { this.dialogs.set(key, { call, side }); },
    unbindDialog: (key: string) => { this.dialogs.delete(key); },
    answered: (call: Call) => {
      this.counters.answered++;
      // Re-bridging re-arms the RTP timeout from the answer, not from the start of ringing.
      const [a, b] = call.mediaLegIds;
      void this.o.media.bridge(a, b).catch(() => {});
      this.o.zrtp?.callAnswered(call.id, call.mediaLegIds);
      return this.records.open(call.callStart());
    },
    finished: (call: Call, cdr: NewCdr, journalled: boolean) => {
      this.counters.ended++;
      this.calls.delete(call.id);
      this.transfers.callEnded(call);
      for (const id of call.mediaLegIds) this.byLeg.delete(id);
      this.o.zrtp?.callEnded(call.mediaLegIds);
      this.writeCdr(cdr, journalled);
    },
    };
  }

  /**
   * What calls placed by the PBX itself (`originate.ts`) share with the B2BUA: routing of a
   * dialled number as the PBX (blocklist, devices, default trunk), send targets, trunk
   * credentials and the dialog index.
   */
  dialing(): import('./originate.ts').OriginateDialing {
    return {
      route: (dialed, caller) => this.router(dialed, caller, {}),
      sendTargetsFor: (target) => this.env.sendTargetsFor(target),
      locate: (req) => this.locator.locate(req),
      trunkCredentials: (id) => this.env.trunkCredentials(id),
      bindDialog: (key, handler) => { this.ownDialogs.set(key, { request: handler }); },
      unbindDialog: (key) => { this.ownDialogs.delete(key); },
    };
  }

  /** Transfers (call-transfer.ts): routing as a party of the call, and the swap's bookkeeping. */
  private createTransfers(): CallTransfers {
    const env = this.env;
    return new CallTransfers({
      endpoint: env.endpoint, timers: env.timers, logger: env.logger, domain: env.domain, t1: env.t1,
      advertise: env.advertise, sendTargetsFor: env.sendTargetsFor, trunkCredentials: env.trunkCredentials,
      media: this.o.media,
      route: (dialed, call, side) => transferRoute({ db: this.o.db, trunks: () => this.cache.enabledTrunks(), router: this.router }, dialed, call, side),
      findDialog: (key) => this.dialogs.get(key),
      swapped: async (call, cdr, oldLegId, newLegId) => {
        this.writeCdr(cdr, true);
        this.byLeg.delete(oldLegId);
        this.byLeg.set(newLegId, call);
        void this.o.media.releaseLeg(oldLegId).catch(() => {});
        await this.records.open(call.callStart());
      },
    });
  }

  /**
   * API transfer of a call's callee side to `target` (call-transfer.ts says what happens).
   * undefined when the call is unknown.
   */
  transferCall(id: string, target: string, type: TransferType): Promise<RingResult | { refused: TransferRefusal }> | undefined {
    const call = this.calls.get(id);
    return call ? this.transfers.transfer(call, target, type) : undefined;
  }

  /** Cancels a pending API transfer: 'cancelled', 'none' (nothing pending) or 'unknown' (no such call). */
  cancelTransfer(id: string): 'cancelled' | 'none' | 'unknown' {
    if (!this.calls.has(id)) return 'unknown';
    return this.transfers.cancel(id) ? 'cancelled' : 'none';
  }

  private writeCdr(cdr: NewCdr, journalled: boolean): void {
    const key = `${cdr.disposition}/${cdr.hangup_cause}`;
    this.outcomes.set(key, (this.outcomes.get(key) ?? 0) + 1);
    this.records.close(cdr, journalled);
  }

  /** Media counters of one relay leg; null when the leg is gone. */
  private async legStats(legId: number): Promise<LegStats | null> {
    try {
      return await this.o.media.stats(legId);
    } catch {
      return null;
    }
  }

  /** Active calls, oldest first. */
  listCalls(): CallSnapshot[] {
    return [...this.calls.values()].map((c) => c.snapshot()).sort((x, y) => x.startedAt - y.startedAt);
  }

  /** One call, with its legs' media counters when `media` is set; undefined when unknown. */
  async describeCall(id: string, opts: { media?: boolean } = {}): Promise<CallView | undefined> {
    const call = this.calls.get(id);
    if (!call) return undefined;
    const snap = call.snapshot();
    if (!opts.media) return { ...snap, media: { a: null, b: null } };
    const [a, b] = await Promise.all([this.legStats(snap.legs.a.mediaLegId), this.legStats(snap.legs.b.mediaLegId)]);
    const [wa, wb] = call.webRtcEndpoints;
    return { ...snap, media: { a: mediaView(a, wa), b: mediaView(b, wb) } };
  }

  /** Hangs a call up from the API (BYE both sides, or CANCEL while ringing). False when unknown. */
  hangupCall(id: string, cause = 'api_hangup', by: 'api' | 'system' = 'api'): boolean {
    const call = this.calls.get(id);
    if (!call) return false;
    call.hangup(by, cause);
    return true;
  }

  /**
   * Holds (`hold` true) or resumes `party` of an answered call through a re-INVITE to it
   * (`call-hold.ts`). Resolves with the call's snapshot once the party accepted; undefined
   * when the call is unknown.
   * @throws HoldError when nothing changed (see `CallHold.request`).
   */
  async holdCall(id: string, hold: boolean, party: HoldParty = 'callee'): Promise<CallSnapshot | undefined> {
    const call = this.calls.get(id);
    if (!call) return undefined;
    await call.hold.request(hold, party);
    return call.snapshot();
  }

  get activeCalls(): number {
    return this.calls.size;
  }

  /** SIP dialogs the calls hold now (each answered or early leg of a call is one). */
  get dialogCount(): number {
    return this.dialogs.size;
  }

  /** Resolves once every CDR and journal row queued so far is committed. */
  recordsFlushed(): Promise<void> {
    return this.records.flushed();
  }

  /** True when a call here has a leg with this Call-ID. */
  hasCallId(callId: string): boolean {
    for (const c of this.calls.values()) if (c.aCallId === callId || c.bCallId === callId) return true;
    return false;
  }

  /** The Call-IDs of every call leg and of the PBX's own dialogs (`ownDialogs`) here: one pass, for a sweep over many Call-IDs. */
  heldCallIds(): Set<string> {
    const ids = new Set<string>();
    for (const c of this.calls.values()) { ids.add(c.aCallId); ids.add(c.bCallId); }
    for (const key of this.ownDialogs.keys()) ids.add(key.slice(0, key.indexOf('\u0000')));
    return ids;
  }

  find(id: string): Call | undefined {
    return this.calls.get(id);
  }

  status(): Record<string, unknown> {
    return { active_calls: this.calls.size, ...this.counters };
  }

  /** Hangs up every call (shutdown) and waits for the CDR writes. */
  async close(): Promise<void> {
    for (const call of [...this.calls.values()]) call.hangup('system', 'shutdown');
    this.cache.close();
    await this.records.flushed();
  }
}
