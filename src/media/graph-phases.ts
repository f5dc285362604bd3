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

/**
 * Groups the decode path into its connected parts (a sink and the sources it hears belong
 * together: a source is advanced once per frame for all its sinks) and gives each part a
 * phase: the phase one of its sinks had in `previous`, else the least loaded one.
 */
export function assignPhases(
  decodeSinks: Map<LegId, LegId[]>,
  stateOf: Map<LegId, SourceState>,
  planOf: Map<LegId, MixPlan>,
  previous: Map<LegId, number>,
): { phases: Phase[]; phaseOf: Map<LegId, number> } {
  const parent = new Map<LegId, LegId>();
  const find = (x: LegId): LegId => {
    let r = x;
    while (parent.has(r) && parent.get(r) !== r) r = parent.get(r)!;
    parent.set(x, r);
    return r;
  };
  for (const [sink, sources] of decodeSinks) {
    if (!parent.has(sink)) parent.set(sink, sink);
    for (const s of sources) {
      if (!parent.has(s)) parent.set(s, s);
      const a = find(sink);
      const b = find(s);
      if (a !== b) parent.set(a, b);
    }
  }
  const groups = new Map<LegId, LegId[]>();
  for (const sink of decodeSinks.keys()) {
    const root = find(sink);
    const g = groups.get(root);
    if (g === undefined) groups.set(root, [sink]);
    else g.push(sink);
  }
  const phases: Phase[] = Array.from({ length: CLOCK_PHASES }, () => ({ states: [], plans: [] }));
  const phaseOf = new Map<LegId, number>();
  const pending: LegId[][] = [];
  const placed = new Set<SourceState>();
  const place = (sinks: LegId[], p: number): void => {
    const ph = phases[p];
    for (const sink of sinks) {
      phaseOf.set(sink, p);
      ph.plans.push(planOf.get(sink)!);
      for (const s of decodeSinks.get(sink)!) {
        const st = stateOf.get(s)!;
        if (placed.has(st)) continue;
        placed.add(st);
        ph.states.push(st);
      }
    }
  };
  for (const sinks of groups.values()) {
    let p: number | undefined;
    for (const sink of sinks) if ((p = previous.get(sink)) !== undefined) break;
    if (p === undefined) pending.push(sinks);
    else place(sinks, p);
  }
  for (const sinks of pending) {
    let best = 0;
    for (let p = 1; p < CLOCK_PHASES; p++) if (phases[p].plans.length < phases[best].plans.length) best = p;
    place(sinks, best);
  }
  return { phases, phaseOf };
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
