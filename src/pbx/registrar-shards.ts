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
import { spawnWorker } from '../media/spawn-worker.ts';
import { forEachMessage, MessageBatcher } from '../media/message-batcher.ts';
import type { MessageHandler, TransportLayer } from '../sip/transport-layer.ts';
import { UdpTransport } from '../sip/transport-udp.ts';
import type { LocationService } from './location-service.ts';
import type { SipBanChange, SipGuard } from './sip-guard.ts';
import { logBan } from './device-auth.ts';
import { NOT_REGISTER, registerShard, UNREAD } from './registrar-shard-route.ts';
import type { FromShard, ShardConfig, ShardStats, ToShard } from './registrar-shard-protocol.ts';

const WORKER_ENTRY = new URL('./registrar-shard-worker.ts', import.meta.url);
const START_TIMEOUT_MS = 30_000;
const CLOSE_TIMEOUT_MS = 5_000;
const RESTART_DELAY_MS = 1_000;
const STATS_TIMEOUT_MS = 1_000;

export interface RegistrarShardsOptions {
  count: number;
  config: Omit<ShardConfig, 'index' | 'count' | 'locks' | 'udp' | 'maxDatagramBytes'>;
  transports: TransportLayer;
  location: LocationService;
  guard: SipGuard;
  logger: Logger;
}

class Shard {
  worker!: Worker;
  stats: ShardStats | undefined;
  closing = false;
  /** What goes to the shard, one post per turn of the event loop (to the thread running now, after a restart too). */
  readonly inbox = new MessageBatcher<ToShard>((m) => this.worker.postMessage(m));

  constructor(readonly index: number) {}
}

export class RegistrarShards {
  private readonly shards: Shard[];
  private readonly log: Logger;

  private constructor(private readonly opts: RegistrarShardsOptions) {
    this.log = opts.logger.child({ component: 'registrar-shards' });
    this.shards = Array.from({ length: opts.count }, (_, i) => new Shard(i));
  }

  /** Starts the shards and resolves once each has loaded its bindings. */
  static async start(opts: RegistrarShardsOptions): Promise<RegistrarShards> {
    const self = new RegistrarShards(opts);
    try {
      await Promise.all(self.shards.map((s) => self.spawn(s)));
    } catch (err) {
      await self.close();
      throw err;
    }
    return self;
  }

  get count(): number {
    return this.shards.length;
  }

  /** The thread of shard `i` now (it changes when a shard is started again): diagnostics and tests. */
  worker(i: number): Worker | undefined {
    return this.shards[i]?.worker;
  }

  /**
   * Wraps the transports' message handler: REGISTERs go to their shard, the rest (and anything
   * from a banned address, which the endpoint's filter then drops) to `inner`.
   */
  divert(inner: MessageHandler): MessageHandler {
    const { guard } = this.opts;
    return (data, source) => {
      const shard = registerShard(data, this.shards.length);
      if (shard === NOT_REGISTER || guard.isBanned(source.remoteAddress)) { inner(data, source); return; }
      // Unread: shard 0 parses it and hands it on when another shard owns its AOR.
      if (shard === UNREAD) this.shards[0]!.inbox.send({ in: [data, source, false] });
      else this.shards[shard]!.inbox.send({ in: [data, source, true] });
    };
  }

  /** Cached credentials of `username` (all: `null`) are stale in every shard. */
  invalidate(username: string | null): void {
    this.toAll({ invalidate: username });
  }

  deviceDeleted(id: number): void {
    this.toAll({ deletedDevice: id });
  }

  connectionClosed(id: number): void {
    this.toAll({ closedConnection: id });
  }

  /** Passes on a ban or lift of the main thread's guard. */
  banChanged(change: SipBanChange): void {
    this.toAll({ ban: change });
  }

  /** The latest counters of each shard (about a second old). */
  stats(): ShardStats[] {
    return this.shards.flatMap((s) => (s.stats === undefined ? [] : [s.stats]));
  }

  /** One counter summed over the shards' latest reports (what status and metrics add to the main thread's). */
  sum(counter: (x: ShardStats) => number): number {
    let n = 0;
    for (const s of this.shards) if (s.stats !== undefined) n += counter(s.stats);
    return n;
  }

  private toAll(m: ToShard): void {
    for (const s of this.shards) s.inbox.send(m);
  }

  /** Asks every shard for fresh counters and resolves when they are in (a shard that does not answer within a second keeps its last report). */
  async refreshStats(): Promise<ShardStats[]> {
    await Promise.all(this.shards.map((s) => new Promise<void>((resolve) => {
      const w = s.worker;
      const done = () => { clearTimeout(timer); w.off('message', onMessage); resolve(); };
      const onMessage = (m: FromShard | FromShard[]) => { if (!Array.isArray(m) && m.stats) done(); };
      const timer = setTimeout(done, STATS_TIMEOUT_MS);
      w.on('message', onMessage);
      w.postMessage({ stats: true } satisfies ToShard);
    })));
    return this.stats();
  }

  async close(): Promise<void> {
    await Promise.all(this.shards.map(async (s) => {
      s.closing = true;
      const w = s.worker as Worker | undefined;
      if (w === undefined) return;
      const closed = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
        w.on('message', (m: FromShard | FromShard[]) => { if (!Array.isArray(m) && m.closed) { clearTimeout(timer); resolve(); } });
        w.once('exit', () => { clearTimeout(timer); resolve(); });
      });
      w.postMessage({ close: true } satisfies ToShard);
      await closed;
      await w.terminate();
    }));
  }

  private spawn(shard: Shard): Promise<void> {
    const { config, guard, transports } = this.opts;
    const udp = transports.transports.flatMap((t) => (t instanceof UdpTransport && t.fd >= 0 ? [{ fd: t.fd, local: t.local }] : []));
    const workerData: ShardConfig = {
      ...config, index: shard.index, count: this.shards.length, locks: guard.list().filter((b) => b.username !== null),
      udp, maxDatagramBytes: transports.limits.maxDatagramBytes,
    };
    const worker = spawnWorker(WORKER_ENTRY, { workerData, name: `strowger-registrar-${shard.index}` });
    shard.worker = worker;
    return new Promise<void>((resolve, reject) => {
      let started = false;
      const timer = setTimeout(() => reject(new Error(`registrar shard ${shard.index} did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      worker.on('message', (data: FromShard | FromShard[]) => forEachMessage(data, (m) => {
        if (m.ready) { started = true; clearTimeout(timer); resolve(); return; }
        if (m.failed) { clearTimeout(timer); reject(new Error(`registrar shard ${shard.index} failed to start: ${m.failed}`)); return; }
        this.receive(shard, m);
      }));
      worker.on('error', (err) => this.log.error({ err, shard: shard.index }, 'registrar shard crashed'));
      worker.on('exit', (code) => {
        clearTimeout(timer);
        if (!started) { reject(new Error(`registrar shard ${shard.index} exited with code ${code} while starting`)); return; }
        if (shard.closing) return;
        this.log.error({ shard: shard.index, code }, 'registrar shard exited; starting it again');
        setTimeout(() => {
          if (!shard.closing) this.spawn(shard).catch((err) => this.log.error({ err, shard: shard.index }, 'registrar shard did not start again'));
        }, RESTART_DELAY_MS).unref();
      });
    });
  }

  /**
   * One item from a shard, in the order the shard made them: an AOR's new bindings come before
   * the 200 that announces them (a phone that got its 200 may place a call at once).
   */
  private receive(shard: Shard, m: FromShard): void {
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
    else if (m.reroute) this.shards[m.reroute[2]]?.inbox.send({ in: [m.reroute[0], m.reroute[1], true] });
    else if (m.stats) shard.stats = m.stats;
  }
}
