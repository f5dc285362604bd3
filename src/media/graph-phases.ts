/**
 * The media graph's tick split into phases. The worker clock runs {@link CLOCK_PHASES} ticks per
 * 20 ms frame (5 ms apart); every connected part of the decode path (a call, a room: sinks plus
 * the sources they hear) belongs to one phase, so a worker with many transcoded calls does a
 * quarter of their codec work every 5 ms instead of all of it in one burst every 20 ms (a burst
 * holds the event loop: received packets wait and the next tick starts late). A part keeps its
 * phase while it exists (its frames keep their spacing); a new one goes to the least loaded.
 */
import type { FrameResampler, FrameSink, FrameSource } from './frame-endpoint.ts';
import type { LegDtmfIn } from './leg-dtmf.ts';
import { accumulate, saturate } from './mixer.ts';
import type { LegId } from './relay-protocol.ts';
import type { LevelMeter } from './level-meter.ts';

/** Ticks per 20 ms frame: each runs the calls assigned to its phase. */
export const CLOCK_PHASES = 4;

/** A source as the tick sees it: advanced once, resampled once per rate that hears it. */
export interface SourceState {
  source: FrameSource;
  /** DTMF input of an RTP source (its in-band detector, if any, reads the decoded frame). */
  dtmf: LegDtmfIn | null;
  active: boolean;
  /** Level of the source for active-speaker detection (only endpoints asked for: `MediaGraph.setMetered`). */
  meter: LevelMeter | null;
  taps: { rate: number; resampler: FrameResampler; out: Int16Array }[];
}

export interface MixPlan {
  sink: FrameSink;
  samples: number;
  inputs: Int16Array[];
  /** Parallel to `inputs`: the state whose `active` says whether to mix it this tick. */
  states: SourceState[];
  acc: Int32Array;
  out: Int16Array;
}

/** What one phase tick runs: its sources, then its sinks' mixes. */
export interface Phase {
  states: SourceState[];
  plans: MixPlan[];
}

/** Phases with nothing assigned yet. */
export function emptyPhases(): Phase[] {
  return Array.from({ length: CLOCK_PHASES }, () => ({ states: [], plans: [] }));
}

/**
 * Takes the mixes and sources of a part of the graph about to be re-derived out of their
 * phases. The arrays are replaced, not edited: a tick iterating them goes on undisturbed.
 */
export function removeFromPhases(phases: Phase[], plans: ReadonlySet<MixPlan>, states: ReadonlySet<SourceState>): void {
  if (plans.size === 0 && states.size === 0) return;
  for (const ph of phases) {
    if (ph.plans.some((p) => plans.has(p))) ph.plans = ph.plans.filter((p) => !plans.has(p));
    if (ph.states.some((s) => states.has(s))) ph.states = ph.states.filter((s) => !states.has(s));
  }
}

/**
 * Places decode-path sinks (with what they hear) into the phases, grouped into connected parts
 * (a sink and the sources it hears belong together: a source is advanced once per frame for
 * all its sinks). A part takes the phase one of its sinks had in `phaseOf`, else the least
 * loaded one; `phaseOf` is updated. Arrays are replaced, as in {@link removeFromPhases}.
 */
export function placeInPhases(
  phases: Phase[],
  sinks: ReadonlyMap<LegId, readonly LegId[]>,
  stateOf: ReadonlyMap<LegId, SourceState>,
  planOf: ReadonlyMap<LegId, MixPlan>,
  phaseOf: Map<LegId, number>,
): void {
  const parent = new Map<LegId, LegId>();
  const find = (x: LegId): LegId => {
    let r = x;
    while (parent.has(r) && parent.get(r) !== r) r = parent.get(r)!;
    parent.set(x, r);
    return r;
  };
  for (const [sink, sources] of sinks) {
    if (!parent.has(sink)) parent.set(sink, sink);
    for (const s of sources) {
      if (!parent.has(s)) parent.set(s, s);
      const a = find(sink);
      const b = find(s);
      if (a !== b) parent.set(a, b);
    }
  }
  const groups = new Map<LegId, LegId[]>();
  for (const sink of sinks.keys()) {
    const root = find(sink);
    const g = groups.get(root);
    if (g === undefined) groups.set(root, [sink]);
    else g.push(sink);
  }
  const added = phases.map(() => ({ plans: [] as MixPlan[], states: [] as SourceState[] }));
  const load = phases.map((ph) => ph.plans.length);
  const placed = new Set<SourceState>();
  const place = (group: LegId[], p: number): void => {
    for (const sink of group) {
      phaseOf.set(sink, p);
      added[p].plans.push(planOf.get(sink)!);
      load[p]++;
      for (const s of sinks.get(sink)!) {
        const st = stateOf.get(s)!;
        if (placed.has(st)) continue;
        placed.add(st);
        added[p].states.push(st);
      }
    }
  };
  const pending: LegId[][] = [];
  for (const group of groups.values()) {
    let p: number | undefined;
    for (const sink of group) if ((p = phaseOf.get(sink)) !== undefined) break;
    if (p === undefined) pending.push(group);
    else place(group, p);
  }
  for (const group of pending) {
    let best = 0;
    for (let p = 1; p < phases.length; p++) if (load[p] < load[best]) best = p;
    place(group, best);
  }
  for (let p = 0; p < phases.length; p++) {
    if (added[p].plans.length > 0) phases[p].plans = phases[p].plans.concat(added[p].plans);
    if (added[p].states.length > 0) phases[p].states = phases[p].states.concat(added[p].states);
  }
}

/** Advances the sources of a phase, then mixes and delivers each of its sinks' frame. */
export function runPhase(ph: Phase): void {
  const states = ph.states;
  for (let i = 0; i < states.length; i++) {
    const st = states[i];
    st.active = st.source.advance();
    st.dtmf?.inspect(st.active ? st.source.frame : null);
    st.meter?.frame(st.active ? st.source.frame : null);
    if (!st.active) continue;
    const taps = st.taps;
    for (let t = 0; t < taps.length; t++) taps[t].resampler.process(st.source.frame, taps[t].out);
  }
  const plans = ph.plans;
  for (let p = 0; p < plans.length; p++) {
    const plan = plans[p];
    const n = plan.samples;
    const inputs = plan.inputs;
    if (inputs.length === 1) {
      // A bridge: nothing to add up. Copied, since the sink may write a DTMF tone into it.
      if (plan.states[0].active) plan.out.set(inputs[0]);
      else plan.out.fill(0);
    } else {
      for (let i = 0; i < inputs.length; i++) {
        if (plan.states[i].active) accumulate(plan.acc, inputs[i], n);
      }
      saturate(plan.acc, plan.out, n);
    }
    plan.sink.writeFrame(plan.out);
  }
}
