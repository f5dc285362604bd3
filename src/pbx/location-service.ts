/**
 * The location service (RFC 3261 §10): bindings of each address-of-record, held in memory
 * for lookups and persisted so they survive a restart. Changes to one AOR are applied one
 * at a time (REGISTERs "MUST be processed in the order received", §10.3), and a change is
 * committed to the database before the caller answers the REGISTER.
 */
import { EventEmitter } from 'node:events';
import type { Kysely } from 'kysely';
import type { DB } from '../store/schema.ts';
import { deleteDeviceRegistrations, deleteExpiredRegistrations, loadLiveRegistrations, saveBindings } from '../store/registrations.ts';
import { applyRegister, DEFAULT_EXPIRY_POLICY, type Binding, type ExpiryPolicy, type RegisterInput, type RegisterOutcome } from './registrar-bindings.ts';

export interface LocationServiceOptions {
  policy?: ExpiryPolicy;
  now?: () => number;
  /** How often expired bindings are swept from memory and the database. */
  sweepIntervalMs?: number;
}

export interface LocationEvents {
  registered: [Binding];
  unregistered: [Binding, 'unregister' | 'expired' | 'device_deleted'];
}

export class LocationService extends EventEmitter<LocationEvents> {
  private readonly byAor = new Map<string, Binding[]>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly policy: ExpiryPolicy;
  private readonly now: () => number;
  private sweeper: NodeJS.Timeout | undefined;
  private bindingCount = 0;

  constructor(private readonly db: Kysely<DB>, opts: LocationServiceOptions = {}) {
    super();
    this.policy = opts.policy ?? DEFAULT_EXPIRY_POLICY;
    this.now = opts.now ?? Date.now;
    const interval = opts.sweepIntervalMs ?? 5_000;
    if (interval > 0) {
      this.sweeper = setInterval(() => { void this.sweep().catch(() => {}); }, interval);
      this.sweeper.unref();
    }
  }

  get expiryPolicy(): ExpiryPolicy {
    return this.policy;
  }

  async load(): Promise<number> {
    const rows = await loadLiveRegistrations(this.db, this.now());
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
      await saveBindings(this.db, outcome.upserts, outcome.removals);
      this.replace(input.aor, outcome.bindings);
      for (const b of outcome.removals) this.emit('unregistered', b, 'unregister');
      for (const b of outcome.upserts) this.emit('registered', b);
      return outcome;
    });
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

  private replace(aor: string, list: Binding[]): void {
    this.bindingCount += list.length - (this.byAor.get(aor)?.length ?? 0);
    if (list.length === 0) this.byAor.delete(aor); else this.byAor.set(aor, list);
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
