/**
 * Placement groups of the media engine: endpoints created with the same group land on one relay
 * worker (a room's mixer must reach its members' legs without crossing threads). A group lives
 * while it counts an endpoint or a pin (`reserveGroup`), and is forgotten with the last one.
 */
interface Group {
  worker: number;
  endpoints: number;
}

export class PlacementGroups {
  private readonly groups = new Map<string, Group>();

  /** The worker of `group`, undefined when it has no endpoint (or pin). */
  workerOf(group: string): number | undefined {
    return this.groups.get(group)?.worker;
  }

  /** Counts a new endpoint (or pin) of `group` on `worker`; a null group is no group. */
  join(group: string | null, worker: number): void {
    if (group === null) return;
    const g = this.groups.get(group);
    if (g === undefined) this.groups.set(group, { worker, endpoints: 1 });
    else g.endpoints++;
  }

  /** Uncounts an endpoint of `group` on `worker` (one counted elsewhere, e.g. before a worker restart, is ignored). */
  leave(group: string | null, worker: number): void {
    if (group === null) return;
    const g = this.groups.get(group);
    if (g === undefined || g.worker !== worker) return;
    if (--g.endpoints === 0) this.groups.delete(group);
  }

  /** Forgets every group on `worker` (it exited: its endpoints are gone). */
  dropWorker(worker: number): void {
    for (const [group, g] of this.groups) if (g.worker === worker) this.groups.delete(group);
  }

  clear(): void {
    this.groups.clear();
  }
}
