/**
 * The life of a set of SIP worker threads (registrar shards, call shards): start them and wait
 * until each says it is ready, one batched inbox per thread, start a thread again when it dies
 * (its share of the traffic meanwhile goes unanswered and phones retransmit), ask for fresh
 * counters, close them in order.
 *
 * The protocol's items are the caller's; a thread speaks the few lifecycle items below.
 */
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { spawnWorker } from '../media/spawn-worker.ts';
import { forEachMessage, MessageBatcher } from '../media/message-batcher.ts';

const START_TIMEOUT_MS = 30_000;
const CLOSE_TIMEOUT_MS = 5_000;
const RESTART_DELAY_MS = 1_000;
const STATS_TIMEOUT_MS = 1_000;

/** What every thread of a set sends besides the caller's items. */
export interface LifecycleFrom<S> {
  ready?: unknown;
  failed?: string;
  closed?: true;
  stats?: S;
}

/** What every thread of a set understands besides the caller's items. */
export interface LifecycleTo {
  stats?: true;
  close?: true;
}

export interface ShardThreadsOptions<C, From> {
  /** What logs call a thread (`registrar shard`). */
  name: string;
  /** Threads are named `strowger-<threadName>-<index>`; logs carry `component`. */
  threadName: string;
  component: string;
  entry: URL;
  /** Indexes of the threads (a call shard set starts at 1: 0 is the main thread). */
  indexes: readonly number[];
  /** The thread's start-up data, made at each (re)start. */
  workerData(index: number): C;
  /** An item of the caller's protocol from thread `index`, in the order it was sent. */
  receive(index: number, m: From): void;
  logger: Logger;
}

class ShardThread<To, S> {
  worker!: Worker;
  stats: S | undefined;
  closing = false;
  /** One post per turn of the event loop, to the thread running now (after a restart too). */
  readonly inbox = new MessageBatcher<To>((m) => this.worker.postMessage(m));

  constructor(readonly index: number) {}
}

export class ShardThreads<C, To extends LifecycleTo, From extends LifecycleFrom<S>, S> {
  private readonly threads = new Map<number, ShardThread<To, S>>();
  private readonly log: Logger;

  private constructor(private readonly opts: ShardThreadsOptions<C, From>) {
    this.log = opts.logger.child({ component: opts.component });
    for (const i of opts.indexes) this.threads.set(i, new ShardThread(i));
  }

  /** Starts every thread and resolves once each is ready; on a failure closes those started and rejects. */
  static async start<C, To extends LifecycleTo, From extends LifecycleFrom<S>, S>(opts: ShardThreadsOptions<C, From>): Promise<ShardThreads<C, To, From, S>> {
    const self = new ShardThreads<C, To, From, S>(opts);
    try {
      await Promise.all([...self.threads.values()].map((t) => self.spawn(t)));
    } catch (err) {
      await self.close();
      throw err;
    }
    return self;
  }

  get size(): number {
    return this.threads.size;
  }

  /** The thread of shard `i` now (it changes with a restart): diagnostics and tests. */
  worker(i: number): Worker | undefined {
    return this.threads.get(i)?.worker;
  }

  send(i: number, m: To): void {
    this.threads.get(i)?.inbox.send(m);
  }

  toAll(m: To): void {
    for (const t of this.threads.values()) t.inbox.send(m);
  }

  /** Each thread's latest counters (about a second old). */
  stats(): S[] {
    return [...this.threads.values()].flatMap((t) => (t.stats === undefined ? [] : [t.stats]));
  }

  /** One counter summed over the threads' latest reports. */
  sum(counter: (x: S) => number): number {
    let n = 0;
    for (const t of this.threads.values()) if (t.stats !== undefined) n += counter(t.stats);
    return n;
  }

  /** Asks every thread for fresh counters; one that does not answer within a second keeps its last report. */
  async refreshStats(): Promise<S[]> {
    await Promise.all([...this.threads.values()].map((t) => new Promise<void>((resolve) => {
      const w = t.worker;
      const done = () => { clearTimeout(timer); w.off('message', onMessage); resolve(); };
      const onMessage = (m: From | From[]) => { if (!Array.isArray(m) && m.stats) done(); };
      const timer = setTimeout(done, STATS_TIMEOUT_MS);
      w.on('message', onMessage);
      w.postMessage({ stats: true } satisfies LifecycleTo);
    })));
    return this.stats();
  }

  async close(): Promise<void> {
    await Promise.all([...this.threads.values()].map(async (t) => {
      t.closing = true;
      const w = t.worker as Worker | undefined;
      if (w === undefined) return;
      const closed = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
        w.on('message', (m: From | From[]) => { if (!Array.isArray(m) && m.closed) { clearTimeout(timer); resolve(); } });
        w.once('exit', () => { clearTimeout(timer); resolve(); });
      });
      w.postMessage({ close: true } satisfies LifecycleTo);
      await closed;
      await w.terminate();
    }));
  }

  private spawn(t: ShardThread<To, S>): Promise<void> {
    const { name } = this.opts;
    const worker = spawnWorker(this.opts.entry, { workerData: this.opts.workerData(t.index), name: `strowger-${this.opts.threadName}-${t.index}` });
    t.worker = worker;
    return new Promise<void>((resolve, reject) => {
      let started = false;
      const timer = setTimeout(() => reject(new Error(`${name} ${t.index} did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      worker.on('message', (data: From | From[]) => forEachMessage(data, (m) => {
        if (m.ready !== undefined) { started = true; clearTimeout(timer); resolve(); return; }
        if (m.failed !== undefined) { clearTimeout(timer); reject(new Error(`${name} ${t.index} failed to start: ${m.failed}`)); return; }
        if (m.stats !== undefined) { t.stats = m.stats; return; }
        if (m.closed) return;
        this.opts.receive(t.index, m);
      }));
      worker.on('error', (err) => this.log.error({ err, shard: t.index }, `${name} crashed`));
      worker.on('exit', (code) => {
        clearTimeout(timer);
        if (!started) { reject(new Error(`${name} ${t.index} exited with code ${code} while starting`)); return; }
        if (t.closing) return;
        this.log.error({ shard: t.index, code }, `${name} exited; starting it again`);
        setTimeout(() => {
          if (!t.closing) this.spawn(t).catch((err) => this.log.error({ err, shard: t.index }, `${name} did not start again`));
        }, RESTART_DELAY_MS).unref();
      });
    });
  }
}
