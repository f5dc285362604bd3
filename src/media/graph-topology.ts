/**
 * Who hears whom in a media graph: `sink -> sources` with its reverse index, and the bridges.
 *
 * The reverse index and {@link GraphTopology.component} are what let the graph re-derive only
 * the part a change touched (a call, a room): a worker relaying 2,000 calls used to rebuild
 * every call's routes for every request of every call set-up.
 */
import type { LegId } from './relay-protocol.ts';

export class GraphTopology {
  /** sink -> what it hears (no duplicates, never empty). */
  private readonly heard = new Map<LegId, LegId[]>();
  /** source -> the sinks hearing it. */
  private readonly hearers = new Map<LegId, Set<LegId>>();
  private readonly bridges = new Map<LegId, LegId>();

  sourcesOf(sink: LegId): readonly LegId[] | undefined {
    return this.heard.get(sink);
  }

  /** The sinks hearing `source`. */
  hearersOf(source: LegId): ReadonlySet<LegId> | undefined {
    return this.hearers.get(source);
  }

  partnerOf(id: LegId): LegId | undefined {
    return this.bridges.get(id);
  }

  /** What `sink` hears from now on; an empty list: nothing. */
  setHeard(sink: LegId, sources: readonly LegId[]): void {
    for (const s of this.heard.get(sink) ?? []) {
      const h = this.hearers.get(s)!;
      h.delete(sink);
      if (h.size === 0) this.hearers.delete(s);
    }
    if (sources.length === 0) {
      this.heard.delete(sink);
      return;
    }
    const unique = [...new Set(sources)];
    this.heard.set(sink, unique);
    for (const s of unique) {
      let h = this.hearers.get(s);
      if (h === undefined) this.hearers.set(s, (h = new Set()));
      h.add(sink);
    }
  }

  /** `a` and `b` hear each other (their previous partners are detached first by the caller). */
  bridge(a: LegId, b: LegId): void {
    this.bridges.set(a, b);
    this.bridges.set(b, a);
    this.setHeard(a, [b]);
    this.setHeard(b, [a]);
  }

  /** `a` and `b` are bridged and hear each other only: bridging them again would change nothing. */
  bridgedOnly(a: LegId, b: LegId): boolean {
    return this.bridges.get(a) === b && this.hearsOnly(a, b) && this.hearsOnly(b, a);
  }

  /**
   * Ends the bridge of `id`: each side stops hearing the other unless it was connected to
   * something else since. Answers the former partner, undefined when not bridged.
   */
  unbridge(id: LegId): LegId | undefined {
    const partner = this.bridges.get(id);
    if (partner === undefined) return undefined;
    this.bridges.delete(id);
    this.bridges.delete(partner);
    if (this.hearsOnly(id, partner)) this.setHeard(id, []);
    if (this.hearsOnly(partner, id)) this.setHeard(partner, []);
    return partner;
  }

  /** Forgets `id` and every connection to or from it; answers the endpoints it was connected to. */
  remove(id: LegId): LegId[] {
    const neighbours = this.neighbours(id);
    this.unbridge(id);
    this.setHeard(id, []);
    for (const sink of [...(this.hearers.get(id) ?? [])]) {
      const rest = this.heard.get(sink)!.filter((s) => s !== id);
      this.setHeard(sink, rest);
    }
    return neighbours;
  }

  /** The endpoints `id` hears or is heard by. */
  neighbours(id: LegId): LegId[] {
    return [...(this.heard.get(id) ?? []), ...(this.hearers.get(id) ?? [])];
  }

  /**
   * Every endpoint connected to one of `seeds` through what hears what (either way), the
   * seeds included: the part of the graph whose routes a change of the seeds can alter.
   */
  component(seeds: Iterable<LegId>): Set<LegId> {
    const seen = new Set<LegId>();
    const stack: LegId[] = [];
    for (const s of seeds) {
      if (seen.has(s)) continue;
      seen.add(s);
      stack.push(s);
    }
    while (stack.length > 0) {
      const id = stack.pop()!;
      for (const n of this.heard.get(id) ?? []) if (!seen.has(n)) { seen.add(n); stack.push(n); }
      for (const n of this.hearers.get(id) ?? []) if (!seen.has(n)) { seen.add(n); stack.push(n); }
    }
    return seen;
  }

  private hearsOnly(sink: LegId, source: LegId): boolean {
    const h = this.heard.get(sink);
    return h !== undefined && h.length === 1 && h[0] === source;
  }
}
