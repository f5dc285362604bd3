/**
 * Bridges between legs of different media workers. Each worker owns its sockets, so two legs
 * in different workers cannot be relayed inside one thread; instead each gets a hidden "link"
 * leg in its own worker, and the two link legs send RTP to each other over the loopback (or
 * the bind address):
 *
 *     a (worker 0) <-> la (worker 0) ~~UDP~~ lb (worker 1) <-> b (worker 1)
 *
 * The link legs carry b's codec (else a's; none: both pass-through), so worker 1 relays
 * b's packets without decoding and worker 0 transcodes only when a's and b's codecs differ,
 * exactly as a same-worker bridge would. Calls that are joined after they were set up
 * (attended transfer, Replaces, later rooms) can therefore meet wherever their legs live.
 *
 * The cost is one extra socket pair per worker and one extra UDP hop on the host. A link
 * lives as long as the bridge: it goes when either leg is bridged elsewhere, unbridged or
 * released, or when a worker dies.
 */
import type { LegCodec } from './leg-codec.ts';
import type { LegId } from './relay-protocol.ts';

/** What a link needs of the engine (the engine's own primitives, placed by worker). */
export interface LinkHost {
  workerOf(id: LegId): number;
  /** The codec last set on a leg (`setCodec`), null for a pass-through leg. */
  codecOf(id: LegId): LegCodec | null;
  /** A new RTP leg in `worker` (counted in placement `group` when given); returns its id and RTP port. */
  createIn(worker: number, group?: string): Promise<{ id: LegId; rtpPort: number }>;
  setRemote(id: LegId, remote: { address: string; rtpPort: number }): Promise<void>;
  setCodec(id: LegId, codec: LegCodec | null): Promise<void>;
  /** Bridge of two legs of one worker. */
  bridgeIn(a: LegId, b: LegId): Promise<void>;
  release(id: LegId): Promise<unknown>;
  /** Address the link legs reach each other at (loopback for a wildcard bind). */
  readonly address: string;
}

interface Link {
  a: LegId;
  b: LegId;
  /** Link legs in a's and b's workers, once created. */
  la: LegId | null;
  lb: LegId | null;
  codec: LegCodec | null;
  /** `b` is `lb` itself: a stand-in for `a` in another worker (see `standIn`), whose codec is a's. */
  standIn: boolean;
  /** The last operation on the link; the next one waits for it. */
  busy: Promise<void>;
  dropped: boolean;
}

const sameCodec = (x: LegCodec | null, y: LegCodec | null) => JSON.stringify(x) === JSON.stringify(y);

export class WorkerLinks {
  /** Link of each bridged leg (a and b both point at their link). */
  private readonly byLeg = new Map<LegId, Link>();
  /** The hidden link legs, so the engine can hide their events. */
  private readonly linkLegs = new Set<LegId>();

  constructor(private readonly host: LinkHost) {}

  isLinkLeg(id: LegId): boolean {
    return this.linkLegs.has(id);
  }

  /** Relays a <-> b through a link (a and b in different workers); reuses the link they have. */
  async bridge(a: LegId, b: LegId): Promise<void> {
    const existing = this.byLeg.get(a);
    if (existing && !existing.dropped && ((existing.a === a && existing.b === b) || (existing.a === b && existing.b === a))) {
      // Re-bridging an existing pair (after hold, or to re-arm the RTP timeout).
      await this.run(existing, async (l) => {
        await this.host.bridgeIn(l.a, l.la!);
        await this.host.bridgeIn(l.lb!, l.b);
      });
      return;
    }
    await Promise.all([this.drop(a), this.drop(b)]);
    const link: Link = { a, b, la: null, lb: null, codec: this.linkCodec(a, b), standIn: false, busy: Promise.resolve(), dropped: false };
    this.byLeg.set(a, link);
    this.byLeg.set(b, link);
    await this.run(link, async (l) => {
      const [la, lb] = await Promise.all([this.createLinkLeg(this.host.workerOf(a)), this.createLinkLeg(this.host.workerOf(b))]);
      if (!(await this.wire(l, la, lb))) return;
      await this.host.bridgeIn(lb.id, b);
    });
  }

  /**
   * A leg in `worker` standing in for `a`, which lives in another worker: RTP that reaches `a`
   * from its peer arrives on the stand-in, and what the stand-in is given to send (`connect`)
   * is what `a` sends to its peer. A mixer (a room) in one worker takes members from any
   * worker this way. The stand-in carries a's codec; it goes with `drop` of either, or when
   * `a` is released or bridged elsewhere.
   */
  async standIn(a: LegId, worker: number, group?: string): Promise<LegId> {
    await this.drop(a);
    const link: Link = { a, b: -1, la: null, lb: null, codec: this.host.codecOf(a), standIn: true, busy: Promise.resolve(), dropped: false };
    this.byLeg.set(a, link);
    await this.run(link, async (l) => {
      const [la, lb] = await Promise.all([this.createLinkLeg(this.host.workerOf(a)), this.createLinkLeg(worker, group)]);
      l.b = lb.id;
      if (!(await this.wire(l, la, lb))) return;
      // Only now: setCodec above reports codec changes of a linked leg, which would wait for this very operation.
      this.byLeg.set(lb.id, l);
    });
    return link.lb!;
  }

  /**
   * Points the new link legs at each other with the link's codec and relays `a` <-> `la`.
   * False when the link was dropped while its legs were being created (they go with it).
   */
  private async wire(l: Link, la: { id: LegId; rtpPort: number }, lb: { id: LegId; rtpPort: number }): Promise<boolean> {
    l.la = la.id;
    l.lb = lb.id;
    if (l.dropped) return false;
    await this.host.setRemote(la.id, { address: this.host.address, rtpPort: lb.rtpPort });
    await this.host.setRemote(lb.id, { address: this.host.address, rtpPort: la.rtpPort });
    await this.host.setCodec(la.id, l.codec);
    await this.host.setCodec(lb.id, l.codec);
    await this.host.bridgeIn(l.a, la.id);
    return true;
  }

  /** `leg`'s codec changed: the link legs follow (see the module comment). */
  async codecChanged(leg: LegId): Promise<void> {
    const link = this.byLeg.get(leg);
    if (!link || link.dropped) return;
    await this.run(link, async (l) => {
      const codec = l.standIn ? this.host.codecOf(l.a) : this.linkCodec(l.a, l.b);
      if (sameCodec(codec, l.codec)) return;
      l.codec = codec;
      await this.host.setCodec(l.la!, codec);
      await this.host.setCodec(l.lb!, codec);
    });
  }

  /** Removes `leg`'s link, if any (its partner is left unbridged); releases the link legs. */
  async drop(leg: LegId): Promise<void> {
    const link = this.byLeg.get(leg);
    if (!link) return;
    this.forget(link);
    await link.busy.catch(() => {});
    await this.releaseLinkLegs(link);
  }

  /** Legs lost with a dead worker: their links go (the survivors' link legs are released). */
  lost(ids: readonly LegId[]): void {
    const gone = new Set(ids);
    for (const link of new Set(this.byLeg.values())) {
      if ([link.a, link.b, link.la, link.lb].some((id) => id !== null && gone.has(id))) void this.drop(link.a).catch(() => {});
    }
    for (const id of ids) this.linkLegs.delete(id);
  }

  private forget(link: Link): void {
    link.dropped = true;
    if (this.byLeg.get(link.a) === link) this.byLeg.delete(link.a);
    if (this.byLeg.get(link.b) === link) this.byLeg.delete(link.b);
  }

  private async releaseLinkLegs(link: Link): Promise<void> {
    for (const id of [link.la, link.lb]) {
      if (id === null) continue;
      this.linkLegs.delete(id);
      await this.host.release(id).catch(() => {});
    }
  }

  private async createLinkLeg(worker: number, group?: string): Promise<{ id: LegId; rtpPort: number }> {
    const leg = await this.host.createIn(worker, group);
    this.linkLegs.add(leg.id);
    return leg;
  }

  private linkCodec(a: LegId, b: LegId): LegCodec | null {
    return this.host.codecOf(b) ?? this.host.codecOf(a);
  }

  /** Runs `op` after the link's previous operation; a link dropped meanwhile releases its legs. */
  private run(link: Link, op: (l: Link) => Promise<void>): Promise<void> {
    const next = link.busy.then(() => (link.dropped ? undefined : op(link)));
    link.busy = next.catch(() => {});
    return next.then(async () => {
      if (link.dropped) await this.releaseLinkLegs(link);
    }, async (err: unknown) => {
      this.forget(link);
      await this.releaseLinkLegs(link);
      throw err;
    });
  }
}
