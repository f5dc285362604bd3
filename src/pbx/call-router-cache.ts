/**
 * What the call router reads on every INVITE (trunks, DIDs, their routes, the blocklist, the
 * users whose Do Not Disturb is on), kept in memory so a new call costs no database round
 * trip. Each part is loaded on first use and dropped when the API announces a change on
 * `events` (`pbx.trunk.changed`, `pbx.routes.changed`, `pbx.blocklist.changed`,
 * `pbx.dids.changed`, `pbx.dnd.changed`, `system.restored`; see `src/events.ts`).
 *
 * DIDs are kept per number as they are asked for: a number missing from the cache is always
 * looked up (a DID created a moment ago rings at once; misses are not cached), and a cached
 * DID is dropped by `pbx.dids.changed` and in any case trusted for `didTtlMs` only (a bound
 * for writes this node hears no event of, e.g. another node's before events cross nodes).
 *
 * Loads are single-flight: calls arriving during a reload share it.
 */
import type { Db } from '../store/db.ts';
import type { DidRow } from '../store/schema.ts';
import { findDidByNumber } from '../store/dids.ts';
import { listBlockedNumbers } from '../store/blocklist.ts';
import { listDndUserIds } from '../store/users.ts';
import { routesForDid, type Route } from '../store/routes.ts';
import { listEnabledTrunks, type Trunk } from '../store/trunks.ts';
import { LazyValue } from '../store/lazy-value.ts';
import { hasWildcard } from './phone-number.ts';
import type { EventSource, RoutesChanged } from '../events.ts';

export interface RouterCacheOptions {
  db: Db;
  events?: EventSource;
  /** How long a cached DID is trusted without `pbx.dids.changed`. Default 2000 ms. */
  didTtlMs?: number;
  now?: () => number;
}

/** The blocklist split the way it is matched: exact numbers by lookup, patterns by scan. */
export interface BlocklistSnapshot {
  exact: ReadonlySet<string>;
  patterns: readonly string[];
}

export class RouterCache {
  private readonly db: Db;
  private readonly now: () => number;
  private readonly didTtlMs: number;
  private readonly trunks: LazyValue<Trunk[]>;
  private readonly blocklist: LazyValue<BlocklistSnapshot>;
  private readonly dnd: LazyValue<ReadonlySet<number>>;
  private readonly dids = new Map<string, { row: DidRow; at: number }>();
  private readonly routes = new Map<number, Promise<Route[]>>();
  private readonly detach: () => void;

  constructor(o: RouterCacheOptions) {
    this.db = o.db;
    this.now = o.now ?? Date.now;
    this.didTtlMs = o.didTtlMs ?? 2000;
    this.trunks = new LazyValue(() => listEnabledTrunks(this.db));
    this.blocklist = new LazyValue(async () => {
      const exact = new Set<string>();
      const patterns: string[] = [];
      for (const n of await listBlockedNumbers(this.db)) {
        if (hasWildcard(n)) patterns.push(n); else exact.add(n);
      }
      return { exact, patterns };
    });
    this.dnd = new LazyValue(async () => new Set(await listDndUserIds(this.db)));
    const onTrunks = () => this.trunks.invalidate();
    const onBlocklist = () => this.blocklist.invalidate();
    const onRoutes = (e: RoutesChanged) => {
      for (const id of e.did_ids) if (id !== null) this.routes.delete(id);
    };
    // A renumbered DID must stop answering on its old number at once: drop every number
    // (the event names the row, not its numbers) and the routes of a deleted one.
    const onDids = () => { this.dids.clear(); this.routes.clear(); };
    const onDnd = () => this.dnd.invalidate();
    const onRestored = () => { onTrunks(); onBlocklist(); onDids(); onDnd(); };
    const events = o.events;
    if (events) {
      events.on('pbx.trunk.changed', onTrunks);
      events.on('pbx.blocklist.changed', onBlocklist);
      events.on('pbx.routes.changed', onRoutes);
      events.on('pbx.dids.changed', onDids);
      events.on('pbx.dnd.changed', onDnd);
      events.on('system.restored', onRestored);
    }
    this.detach = () => {
      if (!events) return;
      events.off('pbx.trunk.changed', onTrunks);
      events.off('pbx.blocklist.changed', onBlocklist);
      events.off('pbx.routes.changed', onRoutes);
      events.off('pbx.dids.changed', onDids);
      events.off('pbx.dnd.changed', onDnd);
      events.off('system.restored', onRestored);
    };
  }

  /** Enabled trunks in id order (inbound matching). */
  enabledTrunks(): Promise<Trunk[]> {
    return this.trunks.get();
  }

  /** The default trunk, if one is set and enabled. */
  async defaultTrunk(): Promise<Trunk | undefined> {
    return (await this.trunks.get()).find((t) => t.default);
  }

  blocklistSnapshot(): Promise<BlocklistSnapshot> {
    return this.blocklist.get();
  }

  /** Ids of the users whose Do Not Disturb is on (a device's own flag is on its row). */
  dndUsers(): Promise<ReadonlySet<number>> {
    return this.dnd.get();
  }

  async did(number: string): Promise<DidRow | undefined> {
    const hit = this.dids.get(number);
    if (hit && this.now() - hit.at < this.didTtlMs) return hit.row;
    const row = await findDidByNumber(this.db, number);
    if (row) this.dids.set(number, { row, at: this.now() }); else this.dids.delete(number);
    return row;
  }

  routesFor(didId: number): Promise<Route[]> {
    let p = this.routes.get(didId);
    if (p === undefined) {
      p = routesForDid(this.db, didId);
      this.routes.set(didId, p);
      const mine = p;
      mine.catch(() => { if (this.routes.get(didId) === mine) this.routes.delete(didId); });
    }
    return p;
  }

  close(): void {
    this.detach();
  }
}
