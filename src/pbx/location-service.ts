/**
 * The location service (RFC 3261 §10): bindings of each address-of-record, held in memory
 * for lookups and persisted so they survive a restart. Changes to one AOR are applied one
 * at a time (REGISTERs "MUST be processed in the order received", §10.3), and a change is
 * committed to the database before the caller answers the REGISTER.
 *
 * Group commit: the changes of REGISTERs that arrive together (different AORs; one AOR waits
 * for its previous commit) are written in one transaction, flushed on the next turn of the
 * event loop. A REGISTER storm then costs one BEGIN/COMMIT per batch instead of per
 * request; each REGISTER still gets its 200 only after its own rows are committed.
 */
import { EventEmitter } from 'node:events';
import { deleteDeviceRegistrations, deleteExpiredRegistrations, loadLiveRegistrations, saveBindings } from '../store/registrations.ts';
import { applyRegister, DEFAULT_EXPIRY_POLICY, type Binding, type ExpiryPolicy, type RegisterInput, type RegisterOutcome } from './registrar-bindings.ts';
import type { Db } from '../store/db.ts';

/** The registrar's expiry policy from STROWGER_SIP_MIN_EXPIRES / MAX_EXPIRES (the main thread's and every shard's). */
export function registrationPolicy(sip: { minExpires: number; maxExpires: number }): ExpiryPolicy {
  return { minExpires: sip.minExpires, maxExpires: sip.maxExpires, defaultExpires: Math.min(3600, sip.maxExpires), maxContacts: 10 };
}

export interface LocationServiceOptions {
  policy?: ExpiryPolicy;
  now?: () => number;
  /** How often expired bindings are swept from memory and the database. */
  sweepIntervalMs?: number;
  /** Most bindings (upserts + removals) written in one group-commit transaction. Default 256. */
  maxBatch?: number;
}

/** One REGISTER's rows waiting for the next group commit. */
interface PendingWrite {
  upserts: readonly Binding[];
  removals: readonly Binding[];
  resolve(): void;
  reject(err: unknown): void;
}

export interface LocationEvents {
  registered: [Binding];
  unregistered: [Binding, 'unregister' | 'expired' | 'device_deleted'];
  /** An AOR's bindings in memory were replaced (by a REGISTER, an expiry, a deletion): its new list. */
  changed: [string, Binding[]];
}

export class LocationService extends EventEmitter<LocationEvents> {
  private readonly byAor = new Map<string, Binding[]>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly policy: ExpiryPolicy;
  private readonly now: () => number;
  private sweeper: NodeJS.Timeout | undefined;
  private bindingCount = 0;
  private readonly maxBatch: number;
  private pending: PendingWrite[] = [];
  private flushing = false;
  private flushScheduled = false;

  constructor(private readonly db: Db, opts: LocationServiceOptions = {}) {
    super();
    this.policy = opts.policy ?? DEFAULT_EXPIRY_POLICY;
    this.now = opts.now ?? Date.now;
    this.maxBatch = opts.maxBatch ?? 256;
    const interval = opts.sweepIntervalMs ?? 5_000;
    if (interval > 0) {
      this.sweeper = setInterval(() => { void this.sweep().catch(() => {}); }, interval);
      this.sweeper.unref();
    }
  }

  get expiryPolicy(): ExpiryPolicy {
    return this.policy;
  }

  /**
   * Reads the live bindings from the database. `owns` keeps only some AORs: a registrar shard
   * loads those it answers for (`registrar-shards.ts`).
   */
  async load(owns?: (aor: string) => boolean): Promise<number> {
    const all = await loadLiveRegistrations(this.db, this.now());
    const rows = owns === undefined ? all : all.filter((b) => owns(b.aor));
    this.byAor.clear();
    for (const b of rows) {
      const list = this.byAor.get(b.aor);
      if (list) list.push(b); else this.byAor.set(b.aor, [b]);
    }
    for (const list of this.byAor.values()) list.sort((a, b) => b.q - a.q || b.updatedAt - a.updatedAt);
    this.bindingCount = rows.length;
    return rows.length;
  }

  /** Live bindings of an AOR, best first. */
  lookup(aor: string): Binding[] {
    const list = this.byAor.get(aor);
    if (!list) return [];
    const now = this.now();
    return list.filter((b) => b.expiresAt > now);
  }

  all(): Binding[] {
    const now = this.now();
    const out: Binding[] = [];
    for (const list of this.byAor.values()) for (const b of list) if (b.expiresAt > now) out.push(b);
    return out;
  }

  get size(): number {
    return this.bindingCount;
  }

  /** Applies one REGISTER: decide, commit, then update memory; serialized per AOR. */
  register(input: RegisterInput): Promise<RegisterOutcome> {
    return this.serialize(input.aor, async () => {
      const now = this.now();
      const outcome = applyRegister(this.byAor.get(input.aor) ?? [], input, now, this.policy);
      if (!outcome.ok) return outcome;
      await this.commit(outcome.upserts, outcome.removals);
      this.replace(input.aor, outcome.bindings);
      for (const b of outcome.removals) this.emit('unregistered', b, 'unregister');
      for (const b of outcome.upserts) this.emit('registered', b);
      return outcome;
    });
  }

  /**
   * Takes an AOR's bindings as another location service holding the AOR decided and committed
   * them (a registrar shard): memory only, no database write, no event but `changed`.
   */
  applyRemote(aor: string, list: Binding[]): void {
    this.replace(aor, list);
  }

  /** A device was deleted: its bindings go at once. */
  removeDevice(deviceId: number): Promise<void> {
    return (async () => {
      await deleteDeviceRegistrations(this.db, deviceId);
      for (const [aor, list] of this.byAor) {
        const keep = list.filter((b) => b.deviceId !== deviceId);
        if (keep.length !== list.length) {
          for (const b of list) if (b.deviceId === deviceId) this.emit('unregistered', b, 'device_deleted');
          this.replace(aor, keep);
        }
      }
    })();
  }

  /** A stream connection closed: bindings on it fall back to the source address. */
  connectionClosed(connectionId: number): void {
    for (const list of this.byAor.values()) for (const b of list) if (b.connectionId === connectionId) b.connectionId = null;
  }

  async sweep(): Promise<void> {
    const now = this.now();
    for (const [aor, list] of this.byAor) {
      if (list.every((b) => b.expiresAt > now)) continue;
      for (const b of list) if (b.expiresAt <= now) this.emit('unregistered', b, 'expired');
      this.replace(aor, list.filter((b) => b.expiresAt > now));
    }
    await deleteExpiredRegistrations(this.db, now);
  }

  close(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  /** Resolves once these rows are committed (in a batch with whatever else is waiting). */
  private commit(upserts: readonly Binding[], removals: readonly Binding[]): Promise<void> {
    if (upserts.length === 0 && removals.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ upserts, removals, resolve, reject });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.flushing || this.pending.length === 0) return;
    this.flushScheduled = true;
    // setImmediate: after the I/O phase, so every datagram read in this turn joins the batch.
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    let rows = 0;
    let n = 0;
    while (n < this.pending.length && (n === 0 || rows + this.pending[n]!.upserts.length + this.pending[n]!.removals.length <= this.maxBatch)) {
      rows += this.pending[n]!.upserts.length + this.pending[n]!.removals.length;
      n++;
    }
    const batch = this.pending.splice(0, n);
    try {
      if (batch.length === 1) {
        await saveBindings(this.db, batch[0]!.upserts, batch[0]!.removals, this.stored);
      } else {
        await saveBindings(this.db, batch.flatMap((w) => w.upserts), batch.flatMap((w) => w.removals), this.stored);
      }
      for (const w of batch) w.resolve();
    } catch (err) {
      if (batch.length === 1) batch[0]!.reject(err);
      // One bad row (say, its device deleted meanwhile) must not fail its neighbours: retry
      // each on its own so only the culprit's REGISTER fails.
      else for (const w of batch) await saveBindings(this.db, w.upserts, w.removals, this.stored).then(w.resolve, w.reject);
    } finally {
      this.flushing = false;
      this.scheduleFlush();
    }
  }

  /**
   * What the database holds for a binding about to be written: memory takes a REGISTER's
   * bindings only after their commit, and one AOR's REGISTERs commit one at a time, so until
   * then memory has the stored row (saveBindings writes a refresh of it as three columns).
   */
  private readonly stored = (b: Binding): Binding | undefined => {
    const list = this.byAor.get(b.aor);
    if (list === undefined) return undefined;
    for (const s of list) if (s.key === b.key) return s;
    return undefined;
  };

  private replace(aor: string, list: Binding[]): void {
    this.bindingCount += list.length - (this.byAor.get(aor)?.length ?? 0);
    if (list.length === 0) this.byAor.delete(aor); else this.byAor.set(aor, list);
    if (this.listenerCount('changed') > 0) this.emit('changed', aor, list);
  }

  private serialize<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => {});
    this.queues.set(key, tail);
    void tail.then(() => { if (this.queues.get(key) === tail) this.queues.delete(key); });
    return next;
  }
}
