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
import type { Logger } from 'pino';
import type { MessageHandler, TransportLayer } from '../sip/transport-layer.ts';
import type { LocationService } from './location-service.ts';
import type { SipGuard } from './sip-guard.ts';
import { NOT_REGISTER, registerShard, UNREAD } from './registrar-shard-route.ts';
import type { FromShard, ShardConfig, ShardStats, ToShard } from './registrar-shard-protocol.ts';
import { ShardThreads } from './shard-threads.ts';
import { SipShardSet } from './sip-shard-set.ts';

const WORKER_ENTRY = new URL('./registrar-shard-worker.ts', import.meta.url);

export interface RegistrarShardsOptions {
  count: number;
  config: Omit<ShardConfig, 'index' | 'count' | 'locks' | 'udp' | 'maxDatagramBytes'>;
  transports: TransportLayer;
  location: LocationService;
  guard: SipGuard;
  logger: Logger;
}

export class RegistrarShards extends SipShardSet<ShardConfig, ToShard, FromShard, ShardStats> {
  private constructor(private readonly opts: RegistrarShardsOptions) {
    super(opts.transports, opts.guard, opts.logger.child({ component: 'registrar-shards' }));
  }

  /** Starts the shards and resolves once each has loaded its bindings. */
  static async start(opts: RegistrarShardsOptions): Promise<RegistrarShards> {
    const self = new RegistrarShards(opts);
    self.threads = await ShardThreads.start({
      name: 'registrar shard', threadName: 'registrar', component: 'registrar-shards', entry: WORKER_ENTRY,
      indexes: Array.from({ length: opts.count }, (_, i) => i),
      // Made at each (re)start: a shard started again knows the locks set meanwhile.
      workerData: (index) => ({ ...opts.config, ...self.workerBase(), index, count: opts.count }),
      receive: (_, m: FromShard) => self.receive(m),
      logger: opts.logger,
    });
    return self;
  }

  get count(): number {
    return this.threads.size;
  }

  /**
   * Wraps the transports' message handler: REGISTERs go to their shard, the rest (and anything
   * from a banned address, which the endpoint's filter then drops) to `inner`.
   */
  divert(inner: MessageHandler): MessageHandler {
    const { guard } = this;
    return (data, source) => {
      const shard = registerShard(data, this.count);
      if (shard === NOT_REGISTER || guard.isBanned(source.remoteAddress)) { inner(data, source); return; }
      // Unread: shard 0 parses it and hands it on when another shard owns its AOR.
      if (shard === UNREAD) this.threads.send(0, { in: [data, source, false] });
      else this.threads.send(shard, { in: [data, source, true] });
    };
  }

  deviceDeleted(id: number): void {
    this.threads.toAll({ deletedDevice: id });
  }

  /**
   * One item from a shard, in the order the shard made them: an AOR's new bindings come before
   * the 200 that announces them (a phone that got its 200 may place a call at once).
   */
  private receive(m: FromShard): void {
    if (this.common(m)) return;
    if (m.aor) this.opts.location.applyRemote(...m.aor);
    else if (m.pin !== undefined) this.transports.setIdleExempt(m.pin, true);
    else if (m.reroute) this.threads.send(m.reroute[2], { in: [m.reroute[0], m.reroute[1], true] });
  }
}
