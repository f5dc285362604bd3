/**
 * The endpoint graph of one media worker. Endpoints are RTP legs, players (frame sources) and
 * recorders (frame sinks); `connect(sink, sources)` says what a sink hears:
 *
 * - bridge a <-> b: `connect(a, [b])` + `connect(b, [a])`;
 * - a held party hears the player: `connect(held, [player])`;
 * - a recorder hears both legs: `connect(recorder, [a, b])`;
 * - a room: each member hears every other member.
 *
 * After every change the graph works out, per sink, how its audio travels:
 * - **relay** (zero decode): the sink is an RTP leg hearing exactly one RTP leg with the same
 *   codec (`canPassThrough`): packets go straight from socket to socket, PT byte rewritten and
 *   SSRC/sequence/timestamp rewritten into the sink's stream (`rtp-out-stream.ts`);
 * - **transcode**: each source is decoded (jitter buffer -> decoder), frames are resampled to
 *   the sink's rate, mixed (saturating) and encoded per sink in its stream, driven by the
 *   worker's 20 ms {@link MediaClock}.
 * Either way a sink leg sends ONE stream (its SSRC, sequence + 1 per packet, a timeline that
 * follows wall time) across every switch: hold/resume, transfer, DTMF played to a relayed leg. A source may be relayed to one sink and
 *   decoded for another (a recorded call stays zero-decode between its legs).
 *
 * DTMF (RFC 4733 §2.5, see `leg-dtmf.ts`): telephone-event packets of a leg that negotiated it
 * are reported once per key press (`onDtmf`), whether the leg is relayed or decoded; a decoded
 * leg without telephone-event is scanned for in-band tones. A relayed sink gets the events as
 * the source sent them (PT rewritten; `canPassThrough` relays a telephone-event source only to
 * a sink that has it too). A sink on the decode path gets each digit regenerated: RFC 4733 in
 * its stream if it negotiated telephone-event (audio muted meanwhile),
 * else Q.23 tones; in-band digits are regenerated only for telephone-event sinks (the tone is
 * in the audio already). `sendDtmf` plays digits to a leg; a relayed leg is moved to the
 * decode path while they play (same stream: the packetizer continues it) and back to relay after.
 * A relay without telephone-event on either side (PCMU <-> PCMU) is not decoded for in-band
 * detection: the tones reach the other side as audio, and decoding every such call for
 * `dtmf` events would cost the zero-decode relay its figure.
 *
 * The clock runs only while some sink is on the decode path. Its 20 ms frame is split into
 * {@link CLOCK_PHASES} ticks (5 ms apart); each group of endpoints that exchange audio (a call,
 * a room) is assigned one phase, the least loaded when it first appears, and keeps it while it
 * exists, so the codec work of many calls is spread over the frame rather than done in one
 * burst (bench/README.md "transcoded calls"). Sockets, codecs, resamplers and the clock are
 * injected, so the rules are tested without network or time.
 */
import { LevelMeter } from './level-meter.ts';
import type { AudioCodec } from './codec/types.ts';
import { frameSamples } from './frame-endpoint.ts';
import type { FrameResampler, FrameSink, FrameSource } from './frame-endpoint.ts';
import { canPassThrough } from './leg-codec.ts';
import type { LegCodec } from './leg-codec.ts';
import { MediaClock, realClockDriver } from './media-clock.ts';
import type { ClockDriver } from './media-clock.ts';
import { LegDtmfIn, LegDtmfOut } from './leg-dtmf.ts';
import type { DtmfInListener, DtmfSource } from './leg-dtmf.ts';
import { CLOCK_PHASES, emptyPhases, placeInPhases, removeFromPhases, runPhase } from './graph-phases.ts';
import { GraphTopology } from './graph-topology.ts';
import type { MixPlan, Phase, SourceState } from './graph-phases.ts';
import type { LegId } from './relay-protocol.ts';
import { passEdge } from './relay-leg.ts';
import type { RelayLeg, RtpInbound } from './relay-leg.ts';
import type { RtpHeader } from './rtp-header.ts';
import { RtpLegSink, RtpLegSource } from './rtp-leg-audio.ts';
import type { DtmfDigit } from './tone.ts';
import { legMediaStats, retireSink, retireSource } from './graph-nodes.ts';
import type { GraphNode, JitterTotals, LegMediaStats, RtpNode, SendMode, SinkEndpoint, SinkNode, SourceEndpoint, SourceNode } from './graph-nodes.ts';

export type { JitterTotals, LegMediaStats, SendMode, SinkEndpoint, SourceEndpoint } from './graph-nodes.ts';

/** Finds the implementation of a negotiated codec; null when we cannot decode it. */
export type CodecLookup = (name: string, clockRate: number, channels: number) => AudioCodec | null;
export type ResamplerFactory = (fromRate: number, toRate: number) => FrameResampler;

export interface MediaGraphOptions {
  codecs: CodecLookup;
  resampler: ResamplerFactory;
  clock?: ClockDriver;
  /** Jitter buffer delay in packets (default 3 = 60 ms at 20 ms ptime). */
  jitterPackets?: number;
  /** A digit received on a leg, once per key press (at its end). */
  onDtmf?: (event: GraphDtmfEvent) => void;
  /** Monotonic ms for the RFC 4733 receivers' timeout (default `performance.now`). */
  now?: () => number;
  /**
   * The pass edges and decode paths of `legs` were just re-derived (the worker hands the pairs
   * that became plain relays to the native relay, and takes back those that stopped being).
   * Only the part of the graph a change touched is re-derived, so other legs did not change.
   */
  onRecomputed?: (legs: RelayLeg[]) => void;
}

/** What `onDtmf` reports (the worker forwards it as the engine's `dtmf` event). */
export interface GraphDtmfEvent {
  legId: LegId;
  digit: DtmfDigit;
  durationMs: number;
  source: DtmfSource;
}

export class MediaGraph {
  readonly clock: MediaClock;
  private readonly nodes = new Map<LegId, GraphNode>();
  private readonly topology = new GraphTopology();
  /** Decode-path sinks -> the decodable sources they mix (derived). */
  private readonly sinkSources = new Map<LegId, LegId[]>();
  /** Mix plan of each decode-path sink and tick state of each decoded source (derived). */
  private readonly planOf = new Map<LegId, MixPlan>();
  private readonly stateOf = new Map<LegId, SourceState>();
  private readonly phases: Phase[] = emptyPhases();
  /** Phase of each decode-path sink, kept across recomputes so a call never changes phase. */
  private readonly phaseOf = new Map<LegId, number>();
  /** RTP legs on the decode path only because DTMF is being played to them. */
  private forced: RtpNode[] = [];
  /** Jitter-buffer totals of legs already removed, so {@link jitterTotals} never goes backwards. */
  private readonly removed: JitterTotals = { lost: 0, late: 0, concealed: 0 };
  /** Endpoints whose audio level is measured while they are decoded (room members). */
  private readonly meters = new Map<LegId, LevelMeter>();

  constructor(private readonly options: MediaGraphOptions) {
    this.clock = new MediaClock((phase) => this.tickPhase(phase), options.clock ?? realClockDriver, 3, undefined, CLOCK_PHASES);
  }

  has(id: LegId): boolean {
    return this.nodes.has(id);
  }

  addLeg(leg: RelayLeg): void {
    const node: RtpNode = {
      kind: 'rtp',
      id: leg.id,
      leg,
      source: null,
      sink: null,
      mode: 'idle',
      retired: { decoded: 0, encoded: 0, late: 0, lost: 0, duplicate: 0, concealed: 0, overflow: 0, resets: 0 },
      dtmfIn: 0,
      dtmfRx: null as unknown as LegDtmfIn,
      dtmfTx: new LegDtmfOut(leg.codec),
      dtmfTargets: [],
    };
    node.dtmfRx = new LegDtmfIn(leg.codec, this.dtmfListener(node), this.options.now);
    this.nodes.set(leg.id, node);
  }

  addSource(id: LegId, source: SourceEndpoint): void {
    this.nodes.set(id, { kind: 'source', id, source });
  }

  addSink(id: LegId, sink: SinkEndpoint): void {
    this.nodes.set(id, { kind: 'sink', id, sink });
  }

  /** Removes an endpoint and every connection to or from it. */
  remove(id: LegId): void {
    const node = this.nodes.get(id);
    if (node === undefined) return;
    this.forgetPeers(id, this.topology.partnerOf(id));
    const neighbours = this.topology.remove(id);
    this.nodes.delete(id);
    this.meters.delete(id);
    if (node.kind === 'rtp') {
      retireSource(node);
      retireSink(node);
      this.removed.lost += node.retired.lost;
      this.removed.late += node.retired.late;
      this.removed.concealed += node.retired.concealed;
      node.leg.passEdges = [];
      node.leg.inbound = null;
    } else if (node.kind === 'source') {
      node.source.close();
    } else {
      node.sink.close();
    }
    this.recompute([id, ...neighbours]);
  }

  setCodec(id: LegId, codec: LegCodec | null): void {
    const node = this.rtpNode(id);
    node.leg.codec = codec;
    node.dtmfRx = new LegDtmfIn(codec, this.dtmfListener(node), this.options.now);
    node.dtmfTx.setCodec(codec);
    // The codec changed under the decode path: rebuild it.
    retireSource(node);
    retireSink(node);
    this.recompute([id]);
  }

  /**
   * Measures (or stops measuring) an endpoint's audio level while it is on the decode path as a
   * source; it reads {@link LEVEL_FLOOR_DB} while it is not (silent, muted out of every mix).
   */
  setMetered(id: LegId, on: boolean): void {
    this.node(id);
    if (on === this.meters.has(id)) return;
    if (on) this.meters.set(id, new LevelMeter());
    else this.meters.delete(id);
    this.recompute([id]);
  }

  /** The smoothed level (dBFS) of every metered endpoint. */
  levels(): Array<[LegId, number]> {
    return [...this.meters].map(([id, m]) => [id, m.db]);
  }

  get meteredCount(): number {
    return this.meters.size;
  }

  /** What `sink` hears from now on (replacing what it heard). An empty list silences it. */
  connect(sink: LegId, sources: readonly LegId[]): void {
    this.node(sink);
    for (const s of sources) {
      this.node(s);
      if (s === sink) throw new RangeError(`endpoint ${s} cannot hear itself`);
    }
    const before = this.topology.sourcesOf(sink) ?? [];
    this.topology.setHeard(sink, sources);
    this.recompute([sink, ...before, ...sources]);
  }

  /**
   * `a` hears `b` and `b` hears `a`; each leaves a previous bridge partner first. Bridging a pair
   * again (the B2BUA does at the answer and after a hold, to re-arm the RTP timeout) only re-arms:
   * nothing the graph derives changes, so nothing is re-derived.
   */
  bridge(a: LegId, b: LegId, now: number): void {
    if (this.topology.bridgedOnly(a, b)) {
      const na = this.node(a);
      const nb = this.node(b);
      if (na.kind === 'rtp' && nb.kind === 'rtp') { na.leg.arm(now); nb.leg.arm(now); }
      return;
    }
    const before = [...this.topology.neighbours(a), ...this.topology.neighbours(b)];
    this.detachBridge(a);
    this.detachBridge(b);
    this.topology.bridge(a, b);
    const na = this.node(a);
    const nb = this.node(b);
    if (na.kind === 'rtp' && nb.kind === 'rtp') {
      na.leg.peer = nb.leg;
      nb.leg.peer = na.leg;
      na.leg.arm(now);
      nb.leg.arm(now);
    }
    this.recompute([a, b, ...before]);
  }

  /** Undoes `bridge` for `id` and its partner (both stop hearing each other). */
  unbridge(id: LegId): void {
    this.node(id);
    const partner = this.detachBridge(id);
    this.recompute(partner === undefined ? [id] : [id, partner]);
  }

  /** What `sink` hears (for stats and tests). */
  sourcesOf(sink: LegId): readonly LegId[] {
    return this.topology.sourcesOf(sink) ?? [];
  }

  modeOf(id: LegId): SendMode {
    return this.rtpNode(id).mode;
  }

  stats(id: LegId): LegMediaStats {
    return legMediaStats(this.rtpNode(id));
  }

  /**
   * Packets the decode path's jitter buffers found lost or late, and frames concealed, over
   * every leg since start (for the worker's tick report; relayed legs decode nothing, so
   * their loss shows only in the peers' RTCP). One pass over the endpoints.
   */
  jitterTotals(): JitterTotals {
    const t = { ...this.removed };
    for (const node of this.nodes.values()) {
      if (node.kind !== 'rtp') continue;
      const r = node.retired;
      const s = node.source;
      t.lost += r.lost + (s?.jitter.lost ?? 0);
      t.late += r.late + (s?.jitter.late ?? 0);
      t.concealed += r.concealed + (s?.framesConcealed ?? 0);
    }
    return t;
  }

  /** Frames produced on the decode path since start (for the worker's tick report). */
  get decodeSinks(): number {
    return this.planOf.size;
  }

  /**
   * Plays `digits` to an RTP leg, each `durationMs`: RFC 4733 events when it negotiated
   * telephone-event, else tones. A relayed leg goes through the decode path until they are done.
   * @throws RangeError when the leg has no codec we can encode (legacy pass-through).
   */
  sendDtmf(id: LegId, digits: readonly DtmfDigit[], durationMs: number): void {
    const node = this.rtpNode(id);
    if (!this.decodable(node)) throw new RangeError(`leg ${id} has no codec to play DTMF with`);
    node.dtmfTx.enqueue(digits, durationMs);
    if (node.sink === null) this.recompute([id]);
  }

  /**
   * Reports RFC 4733 events whose end packets were all lost (receiver timeout). Runs on every
   * tick of the 20 ms clock; the worker also calls it on its coarse tick for relay-only calls.
   */
  pollDtmf(): void {
    for (const node of this.nodes.values()) if (node.kind === 'rtp') node.dtmfRx.receiver?.tick();
  }

  /** One whole 20 ms frame: every phase in turn (tests drive the graph with this). */
  tick(): void {
    for (let p = 0; p < CLOCK_PHASES; p++) this.tickPhase(p);
  }

  /**
   * One phase of a frame: advance the phase's sources, then mix and deliver per sink. The last
   * phase also polls the RFC 4733 receivers (once per frame).
   */
  tickPhase(phase: number): void {
    const ph = this.phases[phase];
    if (ph !== undefined) runPhase(ph);
    if (phase === CLOCK_PHASES - 1) this.pollDtmf();
    // Legs moved to the decode path for sendDtmf go back to relay once their digits are out.
    const forced = this.forced;
    for (let i = 0; i < forced.length; i++) {
      if (!forced[i].dtmfTx.busy) {
        this.recompute([forced[i].id]);
        break;
      }
    }
  }

  /**
   * Re-derives pass edges, decode paths and mix plans from the connections, for the part of
   * the graph connected to `seeds` (the endpoints a change touched, and those it disconnected):
   * nothing outside it can have changed.
   */
  private recompute(seeds: readonly LegId[]): void {
    const part = this.topology.component(seeds);
    const decodeSinks = this.sinkSources;
    const oldPlans = new Set<MixPlan>();
    const oldStates = new Set<SourceState>();
    const forced: RtpNode[] = [];
    for (const id of part) {
      const plan = this.planOf.get(id);
      if (plan !== undefined) oldPlans.add(plan);
      const state = this.stateOf.get(id);
      if (state !== undefined) oldStates.add(state);
      this.planOf.delete(id);
      this.stateOf.delete(id);
      decodeSinks.delete(id);
      const node = this.nodes.get(id);
      if (node?.kind !== 'rtp') continue;
      node.leg.passEdges = [];
      node.dtmfTargets = [];
      if (node.dtmfTx.busy && this.decodable(node)) forced.push(node);
    }
    const isForced = (n: GraphNode): boolean => n.kind === 'rtp' && forced.includes(n);
    const partSinks = new Map<LegId, LegId[]>();
    for (const sinkId of part) {
      const sources = this.topology.sourcesOf(sinkId);
      const sink = this.nodes.get(sinkId);
      if (sources === undefined || sink === undefined) continue;
      if (sink.kind === 'rtp' && sources.length === 1 && !isForced(sink)) {
        const src = this.nodes.get(sources[0])!;
        if (src.kind === 'rtp' && canPassThrough(src.leg.codec, sink.leg.codec)) {
          src.leg.passEdges.push(passEdge(src.leg, sink.leg));
          continue;
        }
      }
      if (sink.kind === 'source') continue;
      if (sink.kind === 'rtp' && !this.decodable(sink)) continue;
      const usable = sources.filter((s) => {
        const n = this.nodes.get(s)!;
        return n.kind === 'source' || (n.kind === 'rtp' && this.decodable(n));
      });
      // Nothing it can hear (e.g. a codec we cannot decode): it stays quiet, no clock for it.
      if (usable.length > 0 || isForced(sink)) partSinks.set(sinkId, usable);
    }
    // Playing DTMF to a leg that hears nothing: a plan of silence carries the digits.
    for (const node of forced) if (!partSinks.has(node.id)) partSinks.set(node.id, []);
    for (const [sink, sources] of partSinks) decodeSinks.set(sink, sources);
    this.forced = this.forced.filter((n) => !part.has(n.id))
      .concat(forced.filter((n) => partSinks.has(n.id) && !this.heardDecoding(n.id, decodeSinks)));

    // Which RTP legs are decoded, and at which rate each endpoint works.
    const decoded = new Set<LegId>();
    for (const sources of partSinks.values()) for (const s of sources) decoded.add(s);
    const rate = new Map<LegId, number>();
    const rateOf = (id: LegId): number => {
      let r = rate.get(id);
      if (r === undefined) {
        r = this.naturalRate(id, decodeSinks);
        rate.set(id, r);
      }
      return r;
    };

    const legs: RelayLeg[] = [];
    for (const id of part) {
      const node = this.nodes.get(id);
      if (node?.kind !== 'rtp') continue;
      legs.push(node.leg);
      node.mode = 'idle';
      // Source side.
      if (decoded.has(node.id)) {
        const r = rateOf(node.id);
        if (node.source === null || node.source.rate !== r) {
          retireSource(node);
          const settings = node.leg.codec!;
          const codec = this.options.codecs(settings.name, settings.clockRate, settings.channels)!;
          node.source = new RtpLegSource(codec, settings, r, this.options.jitterPackets ?? 3);
        }
      } else {
        retireSource(node);
      }
      // Sink side.
      if (partSinks.has(node.id)) {
        const r = rateOf(node.id);
        if (node.sink === null || node.sink.rate !== r) {
          retireSink(node);
          const settings = node.leg.codec!;
          const codec = this.options.codecs(settings.name, settings.clockRate, settings.channels)!;
          node.sink = new RtpLegSink(codec, settings, r, node.leg, this.options.now);
        }
        node.sink.dtmf = node.dtmfTx;
        node.mode = 'transcode';
      } else {
        retireSink(node);
      }
      node.dtmfRx.setDecoded(node.source === null ? 0 : node.source.rate);
      node.leg.inbound = node.source === null && node.dtmfRx.receiver === null ? null : this.inboundOf(node);
    }
    for (const leg of legs) for (const e of leg.passEdges) (this.nodes.get(e.to.id) as RtpNode).mode = 'relay';

    // Mix plans and per-tick source states of the part, then its place in the phases.
    for (const [sinkId, sources] of partSinks) {
      const node = this.nodes.get(sinkId)!;
      const sink: FrameSink = node.kind === 'rtp' ? node.sink! : (node as SinkNode).sink;
      const n = frameSamples(sink.rate);
      const plan: MixPlan = { sink, samples: n, inputs: [], states: [], acc: new Int32Array(n), out: new Int16Array(n) };
      for (const s of sources) {
        const src = this.nodes.get(s)!;
        const source: FrameSource = src.kind === 'rtp' ? src.source! : (src as SourceNode).source;
        if (src.kind === 'rtp' && node.kind === 'rtp') src.dtmfTargets.push(node.dtmfTx);
        let st = this.stateOf.get(s);
        if (st === undefined) {
          st = { source, dtmf: src.kind === 'rtp' ? src.dtmfRx : null, active: false, meter: this.meters.get(s) ?? null, taps: [] };
          this.stateOf.set(s, st);
        }
        let input = source.frame;
        if (source.rate !== sink.rate) {
          let tap = st.taps.find((t) => t.rate === sink.rate);
          if (tap === undefined) {
            tap = { rate: sink.rate, resampler: this.options.resampler(source.rate, sink.rate), out: new Int16Array(n) };
            st.taps.push(tap);
          }
          input = tap.out;
        }
        plan.inputs.push(input);
        plan.states.push(st);
      }
      this.planOf.set(sinkId, plan);
    }
    // A metered endpoint no longer decoded reads silence, not its last level.
    for (const id of part) if (!this.stateOf.has(id)) this.meters.get(id)?.reset();
    removeFromPhases(this.phases, oldPlans, oldStates);
    placeInPhases(this.phases, partSinks, this.stateOf, this.planOf, this.phaseOf);
    for (const id of part) if (!partSinks.has(id)) this.phaseOf.delete(id);
    if (this.planOf.size > 0) this.clock.start();
    else this.clock.stop();
    this.options.onRecomputed?.(legs);
  }

  /** PCM rate an endpoint works at on the decode path. */
  private naturalRate(id: LegId, decodeSinks: Map<LegId, LegId[]>): number {
    const node = this.nodes.get(id)!;
    if (node.kind === 'source') return node.source.rate;
    if (node.kind === 'sink') return node.sink.rate;
    return this.fixedRate(id, decodeSinks);
  }

  /**
   * The rate of a leg's codec. Opus can run at 8-48 kHz (RFC 7587 §3.1.1): it takes the highest
   * rate among the endpoints it exchanges audio with, so an Opus <-> PCMU call needs no
   * resampler at all.
   */
  private fixedRate(id: LegId, decodeSinks?: Map<LegId, LegId[]>): number {
    const node = this.nodes.get(id)!;
    if (node.kind === 'source') return node.source.rate;
    if (node.kind === 'sink') return node.sink.rate;
    const c = node.leg.codec!;
    const codec = this.options.codecs(c.name, c.clockRate, c.channels)!;
    const natural = codec.info.sampleRate;
    if (c.name.toLowerCase() !== 'opus' || decodeSinks === undefined) return natural;
    let best = 8000;
    const consider = (other: LegId): void => {
      const o = this.nodes.get(other)!;
      const r = o.kind === 'rtp' && o.leg.codec !== null && o.leg.codec.name.toLowerCase() === 'opus' ? natural : this.fixedRate(other);
      if (r > best) best = r;
    };
    for (const s of decodeSinks.get(id) ?? []) consider(s);
    for (const sink of this.topology.hearersOf(id) ?? []) if (decodeSinks.get(sink)?.includes(id)) consider(sink);
    for (const allowed of [8000, 12000, 16000, 24000, 48000]) if (allowed >= best) return Math.min(allowed, natural);
    return natural;
  }

  private decodable(node: RtpNode): boolean {
    const c = node.leg.codec;
    return c !== null && this.options.codecs(c.name, c.clockRate, c.channels) !== null;
  }

  private inboundOf(node: RtpNode): RtpInbound {
    const source = node.source;
    const receiver = node.dtmfRx.receiver;
    return {
      listening: source !== null,
      // Not called unless `listening` (the leg is decoded).
      audio: source === null ? () => {} : (h: RtpHeader, msg: Buffer, offset: number) => source.push(h, msg, offset),
      event: receiver === null
        ? () => {}
        : (h: RtpHeader, msg: Buffer, offset: number) => {
          if (h.payloadLength >= 4) receiver.receive(h.timestamp, h.marker, msg, offset);
          else receiver.invalid++;
        },
    };
  }

  /** Whether `id` is a decode sink for a reason other than DTMF (it hears something decodable). */
  private heardDecoding(id: LegId, decodeSinks: Map<LegId, LegId[]>): boolean {
    const sources = this.topology.sourcesOf(id);
    if (sources === undefined || (decodeSinks.get(id)?.length ?? 0) === 0) return false;
    const sink = this.nodes.get(id)!;
    if (sink.kind !== 'rtp' || sources.length !== 1) return true;
    const src = this.nodes.get(sources[0])!;
    return !(src.kind === 'rtp' && canPassThrough(src.leg.codec, sink.leg.codec));
  }

  /** Routes a leg's digits: counted and reported at the end, regenerated on its decode-path sinks. */
  private dtmfListener(node: RtpNode): DtmfInListener {
    return {
      begin: (digit, source) => {
        for (const t of node.dtmfTargets) if (source === 'rfc4733' || t.usesEvents) t.begin(digit);
      },
      end: (digit, durationMs, source) => {
        node.dtmfIn++;
        this.options.onDtmf?.({ legId: node.id, digit, durationMs: Math.round(durationMs), source });
        for (const t of node.dtmfTargets) if (source === 'rfc4733' || t.usesEvents) t.end(digit, durationMs);
      },
    };
  }

  /** Ends the bridge of `id` (both legs forget their peer); answers the former partner. */
  private detachBridge(id: LegId): LegId | undefined {
    const partner = this.topology.unbridge(id);
    this.forgetPeers(id, partner);
    return partner;
  }

  /** The RTP legs of a bridge that ends forget each other. */
  private forgetPeers(id: LegId, partner: LegId | undefined): void {
    if (partner === undefined) return;
    const a = this.nodes.get(id);
    const b = this.nodes.get(partner);
    if (a?.kind === 'rtp') a.leg.peer = null;
    if (b?.kind === 'rtp') b.leg.peer = null;
  }

  private node(id: LegId): GraphNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new RangeError(`unknown endpoint ${id}`);
    return n;
  }

  private rtpNode(id: LegId): RtpNode {
    const n = this.node(id);
    if (n.kind !== 'rtp') throw new RangeError(`endpoint ${id} is not an RTP leg`);
    return n;
  }
}

