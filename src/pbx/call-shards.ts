/**
 * Calls on more than one core (issue 17): `STROWGER_SIP_CALL_THREADS` worker threads
 * (`call-shard-worker.ts`) each carry the calls whose Call-ID hashes to them; the main thread
 * is shard 0 and carries its own share, the calls the others hand over and everything that is
 * not a call (registrations, subscriptions, messages, the API).
 *
 * The main thread reads every socket and routes each message unparsed (`call-shard-route.ts`):
 * a call's requests by Call-ID, responses by the shard their Via branch names. A shard answers
 * on its own duplicate of the UDP socket; stream sends come back here, where the connections
 * are. B-leg Call-IDs and branches minted by a shard name that shard (`sip/shard-identity.ts`),
 * so every message of a call — retransmissions, re-INVITEs, the callee's BYE — meets the
 * thread that holds its transactions and dialogs, with no table to consult.
 *
 * What the shards copy from here: bindings (each change posted), credentials (dropped on a
 * device change), the routing caches (dropped on the bus events that drop the main thread's),
 * SRTP settings, room numbers, username locks. Calls a shard cannot carry are handed back with
 * their INVITE (`call-shard-handoff.ts`) and their Call-ID is then routed here until the call
 * is over. An INVITE with Replaces (RFC 3891) naming a dialog of another shard's call goes on to
 * that shard ({@link forwardReplaces}), and its Call-ID is routed there while the shard holds it.
 * The API sees every thread's calls through {@link CallDirectory}.
 */
import type { Logger } from 'pino';
import type { MessageHandler, TransportLayer } from '../sip/transport-layer.ts';
import type { EventBus, EventName } from '../events.ts';
import type { LocationService } from './location-service.ts';
import type { SipGuard } from './sip-guard.ts';
import { callIdOf, callShardOf, MAIN } from './call-shard-route.ts';
import { ownerOfCallId } from '../sip/shard-identity.ts';
import { AdoptedCallIds } from './call-shard-adopted.ts';
import type { CallApiOp, CallShardConfig, CallShardStats, FromCallShard, RoomEntries, ToCallShard } from './call-shard-protocol.ts';
import type { SrtpSettings } from './srtp-settings.ts';
import { ShardThreads } from './shard-threads.ts';
import { SipShardSet } from './sip-shard-set.ts';

const WORKER_ENTRY = new URL('./call-shard-worker.ts', import.meta.url);
const API_TIMEOUT_MS = 10_000;
/** A handed-over Call-ID stays routed here this long after the main thread last held its call (late retransmissions). */
const ADOPTED_GRACE_MS = 32_000;
const SWEEP_MS = 10_000;

/** The bus events after which a shard's routing caches must drop what they hold (`call-router-cache.ts`). */
const CACHE_EVENTS: EventName[] = ['pbx.trunk.changed', 'pbx.blocklist.changed', 'pbx.routes.changed', 'pbx.dids.changed', 'pbx.dnd.changed', 'system.restored'];

export interface CallShardsOptions {
  /** Worker threads (the main thread is one more shard). */
  threads: number;
  config: Omit<CallShardConfig, 'index' | 'count' | 'locks' | 'udp' | 'maxDatagramBytes' | 'media'>;
  /** The media engine options of shard `index` (its slice of the RTP ports). */
  media(index: number): CallShardConfig['media'];
  transports: TransportLayer;
  location: LocationService;
  guard: SipGuard;
  events: EventBus;
  logger: Logger;
}

export class CallShards extends SipShardSet<CallShardConfig, ToCallShard, FromCallShard, CallShardStats> {
  /** Call-IDs handed to a thread other than their hash's owner. */
  private readonly adopted = new AdoptedCallIds(ADOPTED_GRACE_MS);
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  private nextApi = 1;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly traced = new Set<string>();
  private readonly detach: Array<() => void> = [];
  /** The Call-IDs the main thread still holds a call or dialog of; set by the SIP server once its B2BUA exists. */
  held: () => ReadonlySet<string> = () => new Set();

  private constructor(private readonly opts: CallShardsOptions) {
    super(opts.transports, opts.guard, opts.logger.child({ component: 'call-shards' }));
  }

  static async start(opts: CallShardsOptions): Promise<CallShards> {
    const self = new CallShards(opts);
    const count = opts.threads + 1;
    self.threads = await ShardThreads.start({
      name: 'call shard', threadName: 'calls', component: 'call-shards', entry: WORKER_ENTRY,
      indexes: Array.from({ length: opts.threads }, (_, i) => i + 1),
      workerData: (index) => ({ ...opts.config, ...self.workerBase(), index, count, media: opts.media(index) }),
      receive: (index, m: FromCallShard) => self.receive(index, m),
      logger: opts.logger,
    });
    const onChanged = (aor: string, list: Parameters<LocationService['applyRemote']>[1]) => self.threads.toAll({ aor: [aor, list] });
    opts.location.on('changed', onChanged);
    self.detach.push(() => opts.location.off('changed', onChanged));
    for (const name of CACHE_EVENTS) {
      const listener = (...args: unknown[]) => self.threads.toAll({ event: [name, args] });
      opts.events.on(name, listener as never);
      self.detach.push(() => opts.events.off(name, listener as never));
    }
    self.sweeper = setInterval(() => self.sweep(), SWEEP_MS);
    self.sweeper.unref();
    return self;
  }

  /** Threads owning calls, the main thread included. */
  get count(): number {
    return this.threads.size + 1;
  }

  /** Wraps the transports' handler: a call's messages go to their shard, the rest (and banned sources, which the endpoint drops) to `inner`. */
  divert(inner: MessageHandler): MessageHandler {
    const { guard } = this;
    return (data, source) => {
      const shard = callShardOf(data, this.count, this.adopted.owners);
      if (shard === MAIN || guard.isBanned(source.remoteAddress)) {
        if (this.opts.config.trace) this.trace(data);
        inner(data, source);
        return;
      }
      this.threads.send(shard, { in: [data, source] });
    };
  }

  srtpChanged(settings: SrtpSettings): void {
    this.threads.toAll({ srtp: settings });
  }

  roomsChanged(entries: RoomEntries): void {
    this.threads.toAll({ rooms: entries });
  }

  /** Asks shard `index` to run an API operation on its calls. */
  ask(index: number, op: CallApiOp): Promise<unknown> {
    const id = this.nextApi++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`call shard ${index} did not answer ${op.op} within ${API_TIMEOUT_MS} ms`));
      }, API_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      this.threads.send(index, { api: [id, op] });
    });
  }

  /**
   * An INVITE with Replaces that reached the main thread (its Call-ID hashes here, or a shard
   * handed it over) naming a dialog no call here has: sent on to the shard the replaced
   * Call-ID belongs to, which then carries the new dialog too. False (the caller answers it
   * here: 481) when that is this thread, or when this INVITE was sent on once already.
   */
  forwardReplaces(data: Buffer, source: Parameters<MessageHandler>[1], callId: string, replacedCallId: string): boolean {
    const owner = this.adopted.owners.get(replacedCallId) ?? ownerOfCallId(replacedCallId, this.count);
    if (owner === MAIN || !this.adopted.forwardOnce(callId)) return false;
    this.adopt(data, source, owner, callId);
    return true;
  }

  /** Shards 1..n (the workers). */
  get workers(): number[] {
    return Array.from({ length: this.threads.size }, (_, i) => i + 1);
  }

  /** Call-IDs whose messages the main thread handled (trace on): the acceptance test's record. */
  mainTrace(): string[] {
    return [...this.traced];
  }

  override async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    for (const d of this.detach) d();
    for (const p of this.pending.values()) { clearTimeout(p.timer); p.reject(new Error('call shards closed')); }
    this.pending.clear();
    await super.close();
  }

  private trace(data: Buffer): void {
    const id = callIdOf(data);
    if (id !== null) this.traced.add(id);
  }

  private receive(index: number, m: FromCallShard): void {
    if (this.common(m)) return;
    if (m.handoff) this.adopt(...m.handoff);
    else if (m.api) {
      const [id, result, error] = m.api;
      const p = this.pending.get(id);
      if (p === undefined) return;
      this.pending.delete(id);
      clearTimeout(p.timer);
      if (error) p.reject(Object.assign(new Error(error.message), error)); else p.resolve(result);
    } else this.log.warn({ shard: index, keys: Object.keys(m) }, 'unknown message from a call shard');
  }

  /** A shard gave up a call: its Call-ID is routed to `owner` from now on, and the INVITE goes there. */
  /** `id`: the Call-ID when the caller parsed it (the scanner leaves folded headers to the parser). */
  private adopt(data: Uint8Array, source: Parameters<MessageHandler>[1], owner: number, id: string | null = null): void {
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    id ??= callIdOf(buf);
    if (id === null) return;
    this.adopted.route(id, owner, Date.now());
    if (owner === MAIN) this.transports.onMessage(buf, source);
    else this.threads.send(owner, { in: [buf, source] });
  }

  /** Forgets handed-over Call-IDs whose call their thread no longer holds (`AdoptedCallIds.sweep`). */
  private sweep(): void {
    void this.adopted.sweep(Date.now(), () => this.held(), (owner, ids) => this.ask(owner, { op: 'held', ids }) as Promise<string[]>);
  }
}

/**
 * `n` disjoint slices of an RTP port range, one per thread owning calls (each has its own media
 * engine): equal shares of whole RTP/RTCP pairs, the first slice to the main thread.
 * @throws RangeError when the range holds fewer than one pair per slice.
 */
export function portSlices([lo, hi]: [number, number], n: number): Array<[number, number]> {
  if (n === 1) return [[lo, hi]];
  const first = lo % 2 === 0 ? lo : lo + 1;
  const pairs = Math.floor((hi - first + 1) / 2);
  const each = Math.floor(pairs / n);
  if (each < 1) throw new RangeError(`RTP port range ${lo}-${hi} too small for ${n} media engines`);
  return Array.from({ length: n }, (_, i): [number, number] => {
    const start = first + i * each * 2;
    return [start, i === n - 1 ? hi : start + each * 2 - 1];
  });
}
