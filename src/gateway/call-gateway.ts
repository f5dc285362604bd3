/**
 * The call gateway service (seed 002, issue 14): outgoing calls placed for apps through the
 * PBX's originator, the registry of live (and recently ended) calls apps may address, their
 * events towards hooks (persistent outbox), call WebSockets and notify WebSockets.
 * HTTP handlers validate, call one function here and shape the answer.
 */
import type { Logger } from 'pino';
import type { MediaEngine } from '../media/media-engine.ts';
import type { Originator, OriginatedCall } from '../pbx/originate.ts';
import type { Timers } from '../sip/timers.ts';
import type { Db } from '../store/db.ts';
import type { SecretBox } from '../store/secret-box.ts';
import { findCallNumber, type CallNumber, type Credentials } from '../store/call-numbers.ts';
import type { CallEvent } from './call-events.ts';
import { GatewayCall, type CallControl, type CallEventListener } from './gateway-call.ts';
import type { HookDeliverer } from './hook-deliverer.ts';
import type { HookOutboxRow } from '../store/hooks-outbox.ts';
import { decodeHookAnswer } from './call-events.ts';
import { INCOMING_ACTIONS, type IncomingAction, type IncomingCalls } from './incoming-calls.ts';
import { CallMedia, CallMediaError, type CallMediaDeps } from './call-media.ts';
import type { Room } from '../rooms/room.ts';

/** A refusal the API turns into `{"status":false,"error"}` with `status`. */
export class GatewayError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

export interface OutgoingRequest {
  sip_server?: string;
  sip_proxy?: string;
  sip_auth?: Credentials;
  from_number: string;
  to_number: string;
  hook?: string;
  hook_content_type?: 'Json' | 'Protobuf';
  streaming?: { room: string; peer: string; record?: boolean };
}

export interface CallGatewayOptions {
  db: Db;
  box: SecretBox;
  logger: Logger;
  timers: Timers;
  hooks: HookDeliverer;
  /** Absent in HTTP-only servers: outgoing calls answer 503. */
  originator?: Originator;
  media?: Pick<MediaEngine, 'setDirection'>;
  /** Rooms and WebRTC for calls' audio (`streaming`, `stream`, `webrtc_offer`). */
  callMedia?: CallMediaDeps;
  /** How long an ended call stays addressable (DELETE stays idempotent, late WebSockets see `ended`). */
  keepEndedMs?: number;
}

/** `host[:port]`, `[v6]:port` or a `sip:`/`sips:` URI → the URI to send to, with `user` when given. */
export function sipUriOf(server: string, user?: string): string {
  const m = /^(sips?):(?:[^@]*@)?(.+)$/i.exec(server.trim());
  const scheme = m ? m[1]!.toLowerCase() : 'sip';
  const hostPart = m ? m[2]! : server.trim();
  return `${scheme}:${user === undefined ? '' : `${user}@`}${hostPart}`;
}

export class CallGateway {
  private readonly calls = new Map<string, GatewayCall>();
  private readonly appListeners = new Map<string, Set<CallEventListener>>();
  private readonly log: Logger;
  /** Incoming calls to app numbers (set when SIP runs). */
  incoming: IncomingCalls | undefined;
  /** Where calls' audio goes besides our endpoint: rooms, WebRTC peers. */
  readonly media: CallMedia;

  constructor(private readonly o: CallGatewayOptions) {
    this.log = o.logger.child({ component: 'callgw' });
    this.media = new CallMedia(o.callMedia ?? { recordingsDir: '' });
  }

  /** Live (or recently ended) call `id` of `appId`; undefined for another app's call. */
  find(appId: string, id: string): GatewayCall | undefined {
    const c = this.calls.get(id);
    return c && c.appId === appId ? c : undefined;
  }

  get activeCalls(): number {
    let n = 0;
    for (const c of this.calls.values()) if (!c.ended) n++;
    return n;
  }

  /** Listens to every event of `appId`'s calls (notify_ws). Returns the unsubscribe. */
  listenApp(appId: string, l: CallEventListener): () => void {
    let set = this.appListeners.get(appId);
    if (!set) this.appListeners.set(appId, (set = new Set()));
    set.add(l);
    return () => { set.delete(l); if (set.size === 0) this.appListeners.delete(appId); };
  }

  /** Registers a call and wires its events to hooks and listeners. */
  register(init: ConstructorParameters<typeof GatewayCall>[0]): GatewayCall {
    const call = new GatewayCall(init, (c, e) => this.publish(c, e), () => this.o.timers.now());
    this.calls.set(call.id, call);
    return call;
  }

  private publish(call: GatewayCall, e: CallEvent): void {
    if (call.hook) {
      void this.o.hooks.enqueue(call.hook.url, call.hook.contentType, e).catch((err) => this.log.error({ err, call_id: call.id }, 'hook event not queued'));
    }
    for (const l of this.appListeners.get(call.appId) ?? []) l(e);
    if (e.event === 'ended') {
      const t = this.o.timers.setTimeout(() => this.calls.delete(call.id), this.o.keepEndedMs ?? 5 * 60_000);
      (t as { unref?: () => void }).unref?.();
    }
  }

  /**
   * Places an outgoing call for `appId`: INVITE to `to_number@sip_server` (through
   * `sip_proxy`, digest with `sip_auth`), From `from_number`. Settings missing from the
   * request come from the app's number `from_number` when it has one.
   * With `streaming`, the answered call's leg joins the room (see `call-media.ts`).
   * @throws GatewayError 403 (another app's number), 400 (no SIP server, bad room), 409 (room limit), 503 (no SIP, no rooms).
   */
  async outgoing(appId: string, req: OutgoingRequest): Promise<GatewayCall> {
    const number = await findCallNumber(this.o.db, this.o.box, req.from_number);
    if (number && number.app_id !== appId) throw new GatewayError(403, `from_number ${req.from_number} belongs to another app`);
    const originator = this.o.originator;
    if (!originator) throw new GatewayError(503, 'SIP is not running on this server');
    let room: Room | undefined;
    try {
      room = req.streaming ? this.media.roomFor(req.streaming) : undefined;
    } catch (err) {
      if (err instanceof CallMediaError) throw new GatewayError(err.status, err.message);
      throw err;
    }
    const server = req.sip_server ?? number?.sip_server ?? null;
    if (!server) throw new GatewayError(400, 'sip_server is required (none in the request, none set for from_number)');
    const proxy = req.sip_proxy ?? number?.sip_proxy ?? undefined;
    const auth = req.sip_auth ?? number?.sip_auth ?? undefined;
    const hookUrl = req.hook ?? number?.hook ?? null;
    const contentType = req.hook_content_type ?? number?.hook_content_type ?? 'Json';
    const oc = originator.originate({
      target: { kind: 'uri', uri: sipUriOf(server, req.to_number), proxy: proxy ? sipUriOf(proxy) : undefined, credentials: auth },
      from: req.from_number, group: room?.group,
    });
    const call = this.register({
      id: oc.id, appId, direction: 'outgoing', from: req.from_number, to: req.to_number,
      hook: hookUrl ? { url: hookUrl, contentType } : null, control: this.originatedControl(oc),
    });
    this.wireOriginated(call, oc);
    if (room && req.streaming) {
      const stream = req.streaming;
      oc.on('answered', ({ legId }) => {
        void this.media.joinRoom(call, legId, room, stream).catch((err: Error) => {
          this.log.warn({ call_id: call.id, room: stream.room, err: err.message }, 'the answered call could not join its room; hanging up');
          oc.hangup('failed');
        });
      });
    }
    this.log.info({ call_id: call.id, app_id: appId, to: req.to_number }, 'outgoing call placed');
    return call;
  }

  private originatedControl(oc: OriginatedCall): CallControl {
    return {
      end: () => oc.hangup(),
      sendDtmf: (digits) => oc.sendDtmf(digits),
      setMuted: async (muted) => {
        if (oc.legId === null || !this.o.media) throw new Error('no media yet');
        await this.o.media.setDirection(oc.legId, muted ? 'recvonly' : 'sendrecv');
      },
    };
  }

  private wireOriginated(call: GatewayCall, oc: OriginatedCall): void {
    oc.on('ringing', () => { if (!call.history.some((e) => e.event === 'ringing')) call.emit('ringing'); });
    oc.on('earlyMedia', () => call.emit('early_media'));
    oc.on('answered', ({ legId }) => { call.legId = legId; call.emit('accepted'); });
    oc.on('dtmf', (d) => call.emit('dtmf', { digit: d.digit, duration_ms: d.durationMs }));
    oc.on('ended', (e) => call.emit('ended', { reason: e.reason, sip_code: e.sipCode }));
  }

  /** Ends call `id` of `appId` (CANCEL before the answer, BYE after). false: unknown. Idempotent. */
  hangup(appId: string, id: string): boolean {
    const call = this.find(appId, id);
    if (!call) return false;
    if (!call.ended) call.control.end();
    return true;
  }

  /** The number record behind an incoming call's To (used by incoming handling). */
  number(n: string): Promise<CallNumber | undefined> {
    return findCallNumber(this.o.db, this.o.box, n);
  }

  /**
   * The answer of a delivered hook: for `incoming`, an action (`Ring`, `Accept`, `End`,
   * `Continue`) in the body, JSON or protobuf as the hook's content type, is carried out.
   */
  hookAnswered(row: HookOutboxRow, body: Buffer): void {
    if (row.event !== 'incoming' || !this.incoming) return;
    const answer = decodeHookAnswer(body, row.content_type === 'Protobuf' ? 'protobuf' : 'json');
    if (!answer.action) return;
    if (!INCOMING_ACTIONS.includes(answer.action as IncomingAction)) {
      this.log.warn({ call_id: row.call_id, action: answer.action }, 'hook answered an unknown action; ignored');
      return;
    }
    void this.incoming.act(row.app_id, row.call_id, answer.action as IncomingAction, answer.stream)
      .catch((err: Error) => this.log.warn({ call_id: row.call_id, action: answer.action, err: err.message }, 'hook action refused'));
  }

  /** Hangs up every call (shutdown). */
  close(): void {
    this.incoming?.close();
    for (const c of this.calls.values()) if (!c.ended) c.control.end();
  }
}
