/**
 * The main thread's side of a set of SIP worker threads (`registrar-shards.ts`,
 * `call-shards.ts`): what every set passes on to its threads (stale credentials, closed stream
 * connections, the guard's bans and locks), the items every thread sends back (a message to
 * send through the main thread's transports, a digest outcome for its guard), and the counters.
 * Lifecycle: `shard-threads.ts`; protocol: `sip-worker-protocol.ts`.
 */
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { TransportLayer } from '../sip/transport-layer.ts';
import { UdpTransport } from '../sip/transport-udp.ts';
import type { SipBanChange, SipGuard } from './sip-guard.ts';
import { logBan } from './device-auth.ts';
import type { ShardThreads } from './shard-threads.ts';
import type { SipWorkerConfig, SipWorkerFrom, SipWorkerStats, SipWorkerTo } from './sip-worker-protocol.ts';

export abstract class SipShardSet<C extends SipWorkerConfig, To extends SipWorkerTo, From extends SipWorkerFrom<S>, S extends SipWorkerStats> {
  /** Typed items of the set and the common ones alike. */
  protected threads!: ShardThreads<C, To | SipWorkerTo, From, S>;

  protected constructor(
    protected readonly transports: TransportLayer,
    protected readonly guard: SipGuard,
    protected readonly log: Logger,
  ) {}

  /** The parts of a thread's start-up data every set fills the same way (read at each start: the locks change). */
  protected workerBase(): Pick<SipWorkerConfig, 'locks' | 'udp' | 'maxDatagramBytes'> {
    const { transports, guard } = this;
    return {
      locks: guard.list().filter((b) => b.username !== null),
      udp: transports.transports.flatMap((t) => (t instanceof UdpTransport && t.fd >= 0 ? [{ fd: t.fd, local: t.local }] : [])),
      maxDatagramBytes: transports.limits.maxDatagramBytes,
    };
  }

  /** The thread of shard `i` now (it changes when a shard is started again): diagnostics and tests. */
  worker(i: number): Worker | undefined {
    return this.threads.worker(i);
  }

  /** Cached credentials of `username` (all: `null`) are stale in every thread. */
  invalidate(username: string | null): void {
    this.threads.toAll({ invalidate: username });
  }

  connectionClosed(id: number): void {
    this.threads.toAll({ closedConnection: id });
  }

  /** Passes on a ban or lift of the main thread's guard. */
  banChanged(change: SipBanChange): void {
    this.threads.toAll({ ban: change });
  }

  /** The latest counters of each thread (about a second old). */
  stats(): S[] {
    return this.threads.stats();
  }

  /** One counter summed over the threads' latest reports (what status and metrics add to the main thread's). */
  sum(counter: (x: S) => number): number {
    return this.threads.sum(counter);
  }

  /** Asks every thread for fresh counters and resolves when they are in (one that does not answer within a second keeps its last report). */
  refreshStats(): Promise<S[]> {
    return this.threads.refreshStats();
  }

  close(): Promise<void> {
    return this.threads?.close() ?? Promise.resolve();
  }

  /** Handles the items every thread sends; false for the set's own items. */
  protected common(m: From): boolean {
    if (m.out) {
      void this.transports.send(m.out[0], Buffer.from(m.out[1].buffer, m.out[1].byteOffset, m.out[1].byteLength)).catch(() => {});
      return true;
    }
    if (m.auth) {
      const [ok, ip, username] = m.auth;
      if (ok) this.guard.recordSuccess(ip, username!);
      else {
        const ban = this.guard.recordFailure(ip, username);
        if (ban !== null) logBan(this.log, ban);
      }
      return true;
    }
    return false;
  }
}
