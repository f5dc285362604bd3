/**
 * Calls the PBX places itself (no SIP caller): a UAC leg towards a SIP URI (straight, or
 * through an outbound proxy, answering 401/407 with given credentials) or towards a number
 * routed like any dialled number (devices, default trunk), with a LOCAL media endpoint on our
 * side. That endpoint lives in the placement `group` the caller chooses, so the caller can
 * connect it to a room, a player or a recorder (`engine.connect`). Gateways (seeds 000-002)
 * build on this.
 *
 * @example
 * const call = sip.originator.originate({ target: { kind: 'uri', uri: 'sip:100@pbx.example', credentials },
 *   from: '+15550100', group: roomId });
 * call.on('answered', ({ legId }) => engine.connect(legId, [player.id]));
 * call.on('ended', ({ reason, sipCode }) => log.info({ reason, sipCode }));
 */
import type { Logger } from 'pino';
import type { Kysely } from 'kysely';
import type { IncomingRequest } from '../sip/endpoint.ts';
import type { SendTarget, TransportProtocol } from '../sip/transport-types.ts';
import type { LocateRequest, LocatedTarget } from '../sip/dns-resolve.ts';
import type { MediaEngine } from '../media/media-engine.ts';
import type { DB } from '../store/schema.ts';
import type { CallTarget, RouteDecision } from './call-router.ts';
import type { Timers } from './call-timers.ts';
import type { CallEndpoint } from './leg-sip.ts';
import { CallRecordWriter } from './call-cdr-writer.ts';
import { OriginatedCall, type OriginateRequest } from './originated-call.ts';

export type { OriginateRequest, OriginateTarget, OriginateEndReason, OriginatedCallEvents } from './originated-call.ts';
export { OriginatedCall };

/** What originated calls borrow from the B2BUA (`B2bua.dialing()`). */
export interface OriginateDialing {
  /** Routes `dialed` as the PBX itself would (blocklist, devices, default trunk). */
  route(dialed: string, caller: string): Promise<RouteDecision>;
  sendTargetsFor(target: CallTarget): Promise<SendTarget[]>;
  /** RFC 3263 for a URI's host. */
  locate(req: LocateRequest): Promise<LocatedTarget[]>;
  trunkCredentials(trunkId: number): Promise<{ username: string; password: string } | undefined>;
  /** In-dialog requests of `key` go to `handler` until unbound. */
  bindDialog(key: string, handler: (r: IncomingRequest) => void): void;
  unbindDialog(key: string): void;
}

/** The media engine as originated calls use it. */
export type OriginateMedia = Pick<MediaEngine, 'createLeg' | 'releaseLeg' | 'setRemote' | 'setCodec' | 'setSrtp' | 'sendDtmf' | 'on' | 'off'>;

export interface OriginatorOptions {
  endpoint: CallEndpoint;
  media: OriginateMedia;
  dialing: OriginateDialing;
  /** CDRs of originated calls (none: no CDRs, unit tests). */
  db?: Kysely<DB>;
  logger: Logger;
  domain: string;
  advertise(protocol: TransportProtocol, family?: 4 | 6): { host: string; port: number };
  /** Default ring timeout (ms) when a request gives none. */
  ringTimeoutMs: number;
  /** Longest answered call (ms). */
  maxCallMs: number;
  /** Clock and timers; default Node's. */
  timers: Timers;
  t1?: number;
}

/** Places calls and routes the media engine's events (RTP timeout, worker exit, digits) to them. */
export class Originator {
  private readonly byLeg = new Map<number, OriginatedCall>();
  readonly calls = new Map<string, OriginatedCall>();
  private readonly records: CallRecordWriter | undefined;
  private readonly listeners: { timeout: (id: number) => void; workerExit: (i: { lostLegs: number[] }) => void; dtmf: (e: { legId: number; digit: string; durationMs: number; source: 'rfc4733' | 'inband' }) => void };

  constructor(private readonly o: OriginatorOptions) {
    this.records = o.db ? new CallRecordWriter(o.db, o.logger) : undefined;
    this.listeners = {
      timeout: (id) => this.byLeg.get(id)?.mediaTimeout(),
      workerExit: (info) => { for (const id of info.lostLegs) this.byLeg.get(id)?.workerExit(); },
      dtmf: (e) => this.byLeg.get(e.legId)?.digit(e.digit, e.durationMs, e.source),
    };
    o.media.on('timeout', this.listeners.timeout);
    o.media.on('workerExit', this.listeners.workerExit);
    o.media.on('dtmf', this.listeners.dtmf);
  }

  /**
   * Starts a call; it rings at once (events on the returned call). Bad requests (a URI that
   * does not parse, no route) end the call with reason `rejected` or `failed` rather than throw.
   */
  originate(req: OriginateRequest): OriginatedCall {
    const o = this.o;
    const call = new OriginatedCall({
      endpoint: o.endpoint, media: o.media, dialing: o.dialing, timers: o.timers, logger: o.logger, domain: o.domain,
      advertise: o.advertise, t1: o.t1 ?? 500, ringTimeoutMs: o.ringTimeoutMs, maxCallMs: o.maxCallMs,
      records: this.records,
      legCreated: (id) => this.byLeg.set(id, call),
    }, req);
    this.calls.set(call.id, call);
    call.on('ended', () => {
      this.calls.delete(call.id);
      if (call.legId !== null) this.byLeg.delete(call.legId);
    });
    void call.start();
    return call;
  }

  get activeCalls(): number {
    return this.calls.size;
  }

  /** Resolves once every CDR queued so far is committed. */
  async recordsFlushed(): Promise<void> {
    await this.records?.flushed();
  }

  /** Hangs up every call (shutdown), stops listening, waits for the CDRs. */
  async close(): Promise<void> {
    for (const call of [...this.calls.values()]) call.hangup('shutdown');
    this.o.media.off('timeout', this.listeners.timeout);
    this.o.media.off('workerExit', this.listeners.workerExit);
    this.o.media.off('dtmf', this.listeners.dtmf);
    await this.recordsFlushed();
  }
}
