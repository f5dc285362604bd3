/**
 * REGISTER on more than one core (issue 17): `STROWGER_SIP_REGISTRAR_THREADS` worker threads
 * (`registrar-shard-worker.ts`) answer REGISTERs, each for the AORs it owns
 * (`registrar-shard-route.ts`), while the main thread keeps the sockets, the calls and the API.
 *
 * The main thread reads a message, sees `REGISTER ` at its start and hands the bytes to the
 * owner, unparsed: its cost per REGISTER is the read, a scan of the header lines and a share
 * of one post per burst. Everything else — parse, transaction, digest, database commit, the
 * response — happens on the shard; the response comes back in the shard's next post and goes
 * out on the socket (or stream connection) the request came in on.
 *
 * What must agree across threads, and how:
 * - bindings: a shard commits, then posts the AOR's new list, applied to the main thread's
 *   location service before the response is sent (a call placed once the phone saw its 200
 *   finds it);
 * - device credentials: the main thread passes on every change the API makes;
 * - the guard: failures are counted on the main thread, which announces locks to the shards
 *   (`registrar-shard-guard.ts`) and drops banned addresses before routing;
 * - stream connections closing and devices deleted: passed on to every shard.
 *
 * A shard that dies is started again (its AORs' REGISTERs meanwhile go unanswered and the
 * phones retransmit); the error is logged.
 */
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { MessageHandler, TransportLayer } from '../sip/transport-layer.ts';
import { UdpTransport } from '../sip/transport-udp.ts';
import type { LocationService } from './location-service.ts';
import type { SipBanChange, SipGuard } from './sip-guard.ts';
import { logBan } from './device-auth.ts';
import { NOT_REGISTER, registerShard, UNREAD } from './registrar-shard-route.ts';
import type { FromShard, ShardConfig, ShardStats, ToShard } from './registrar-shard-protocol.ts';
import { ShardThreads } from './shard-threads.ts';

const WORKER_ENTRY = new URL('./registrar-shard-worker.ts', import.meta.url);

export interface RegistrarShardsOptions {
  count: number;
  config: Omit<ShardConfig, 'index' | 'count' | 'locks' | 'udp' | 'maxDatagramBytes'>;
  transports: TransportLayer;
  location: LocationService;
  guard: SipGuard;
  logger: Logger;
}

export class RegistrarShards {
  private threads!: ShardThreads<ShardConfig, ToShard, FromShard, ShardStats>;
  private readonly log: Logger;

  private constructor(private readonly opts: RegistrarShardsOptions) {
    this.log = opts.logger.child({ component: 'registrar-shards' });
  }

  /** Starts the shards and resolves once each has loaded its bindings. */
  static async start(opts: RegistrarShardsOptions): Promise<RegistrarShards> {
    const self = new RegistrarShards(opts);
    const { config, guard, transports } = opts;
    const udp = transports.transports.flatMap((t) => (t instanceof UdpTransport && t.fd >= 0 ? [{ fd: t.fd, local: t.local }] : []));
    self.threads = await ShardThreads.start<ShardConfig, ToShard, FromShard, ShardStats>({
      name: 'registrar shard', threadName: 'registrar', component: 'registrar-shards', entry: WORKER_ENTRY,
      indexes: Array.from({ length: opts.count }, (_, i) => i),
      workerData: (index) => ({
        ...config, index, count: opts.count, locks: guard.list().filter((b) => b.username !== null),
        udp, maxDatagramBytes: transports.limits.maxDatagramBytes,
      }),
      receive: (_, m) => self.receive(m),
      logger: opts.logger,
    });
    return self;
  }

  get count(): number {
    return this.threads.size;
  }

  /** The thread of shard `i` now (it changes when a shard is started again): diagnostics and tests. */
  worker(i: number): Worker | undefined {
    return this.threads.worker(i);
  }

  /**
   * Wraps the transports' message handler: REGISTERs go to their shard, the rest (and anything
   * from a banned address, which the endpoint's filter then drops) to `inner`.
   */
  divert(inner: MessageHandler): MessageHandler {
    const { guard } = this.opts;
    return (data, source) => {
      const shard = registerShard(data, this.count);
      if (shard === NOT_REGISTER || guard.isBanned(source.remoteAddress)) { inner(data, source); return; }
      // Unread: shard 0 parses it and hands it on when another shard owns its AOR.
      if (shard === UNREAD) this.threads.send(0, { in: [data, source, false] });
      else this.threads.send(shard, { in: [data, source, true] });
    };
  }

  /** Cached credentials of `username` (all: `null`) are stale in every shard. */
  invalidate(username: string | null): void {
    this.threads.toAll({ invalidate: username });
  }

  deviceDeleted(id: number): void {
    this.threads.toAll({ deletedDevice: id });
  }

  connectionClosed(id: number): void {
    this.threads.toAll({ closedConnection: id });
  }

  /** Passes on a ban or lift of the main thread's guard. */
  banChanged(change: SipBanChange): void {
    this.threads.toAll({ ban: change });
  }

  /** The latest counters of each shard (about a second old). */
  stats(): ShardStats[] {
    return this.threads.stats();
  }

  /** One counter summed over the shards' latest reports (what status and metrics add to the main thread's). */
  sum(counter: (x: ShardStats) => number): number {
    return this.threads.sum(counter);
  }

  /** Asks every shard for fresh counters and resolves when they are in (a shard that does not answer within a second keeps its last report). */
  refreshStats(): Promise<ShardStats[]> {
    return this.threads.refreshStats();
  }

  close(): Promise<void> {
    return this.threads?.close() ?? Promise.resolve();
  }

  /**
   * One item from a shard, in the order the shard made them: an AOR's new bindings come before
   * the 200 that announces them (a phone that got its 200 may place a call at once).
   */
  private receive(m: FromShard): void {
    const { transports, location, guard } = this.opts;
    if (m.aor) location.applyRemote(...m.aor);
    else if (m.out) void transports.send(m.out[0], Buffer.from(m.out[1].buffer, m.out[1].byteOffset, m.out[1].byteLength)).catch(() => {});
    else if (m.auth) {
      const [ok, ip, username] = m.auth;
      if (ok) guard.recordSuccess(ip, username!);
      else {
        const ban = guard.recordFailure(ip, username);
        if (ban !== null) logBan(this.log, ban);
      }
    } else if (m.pin !== undefined) transports.setIdleExempt(m.pin, true);
    else if (m.reroute) this.threads.send(m.reroute[2], { in: [m.reroute[0], m.reroute[1], true] });
  }
}
