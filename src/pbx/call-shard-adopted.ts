/**
 * Call-IDs routed to a thread other than the one they hash to (`call-shards.ts`): calls a shard
 * handed to the main thread, and INVITEs with Replaces the main thread sent on to the shard
 * holding the replaced dialog. A route lives while its thread holds the call, and a grace
 * period after (late retransmissions, Timer J's 32 s); the main thread's own are checked in
 * place, a shard is asked about its own.
 */
import { MAIN } from './call-shard-route.ts';

/** Which of `ids` thread `owner` still holds a call or dialog of. */
export type HeldQuery = (owner: number, ids: string[]) => Promise<string[]>;

export class AdoptedCallIds {
  /** Call-ID → the thread its messages go to (what `callShardOf` consults). */
  readonly owners = new Map<string, number>();
  /** When each route was set or last seen held (ms). */
  private readonly seen = new Map<string, number>();
  private readonly forwarded = new Set<string>();
  private sweeping = false;

  constructor(private readonly graceMs: number) {}

  get size(): number {
    return this.owners.size;
  }

  route(callId: string, owner: number, now: number): void {
    this.owners.set(callId, owner);
    this.seen.set(callId, now);
  }

  /** True the first time for `callId`: an INVITE with Replaces is sent on at most once, so one that comes back is answered where it is. */
  forwardOnce(callId: string): boolean {
    if (this.forwarded.has(callId)) return false;
    this.forwarded.add(callId);
    return true;
  }

  /**
   * Forgets routes whose thread no longer holds the call, once past the grace period. `heldHere`:
   * the main thread's Call-IDs; `ask`: a shard's answer for its own (a shard that does not
   * answer keeps its routes until the next sweep). One sweep at a time; a second call while one
   * waits for answers does nothing.
   */
  async sweep(now: number, heldHere: () => ReadonlySet<string>, ask: HeldQuery): Promise<void> {
    if (this.seen.size === 0 || this.sweeping) return;
    const held = heldHere();
    const toAsk = new Map<number, string[]>();
    for (const [id, seen] of this.seen) {
      const owner = this.owners.get(id)!;
      if (owner === MAIN && held.has(id)) { this.seen.set(id, now); continue; }
      if (now - seen < this.graceMs) continue;
      if (owner === MAIN) this.forget(id);
      else toAsk.set(owner, [...(toAsk.get(owner) ?? []), id]);
    }
    if (toAsk.size === 0) return;
    this.sweeping = true;
    try {
      await Promise.allSettled([...toAsk].map(async ([owner, ids]) => {
        const still = new Set(await ask(owner, ids));
        for (const id of ids) {
          if (this.owners.get(id) !== owner) continue; // routed elsewhere meanwhile
          if (still.has(id)) this.seen.set(id, now); else this.forget(id);
        }
      }));
    } finally {
      this.sweeping = false;
    }
  }

  private forget(id: string): void {
    this.owners.delete(id);
    this.seen.delete(id);
    this.forwarded.delete(id);
  }
}
