/**
 * Mix-minus: what each participant of a room is given to hear. Every participant that hears
 * gets the sum of every other participant that speaks and is not muted — never itself (a caller
 * hearing its own voice back with a delay cannot talk). A `whip` link (publishing to an external
 * system) does not hear `whep` links (audio pulled from one): a remote room's audio sent back
 * to it would loop. Pure, so the rules have unit tests.
 */
import type { LegId } from '../media/relay-protocol.ts';

export interface MixMember {
  /** The endpoint the mixer connects (the member's own, or its stand-in in the room's worker). */
  mixId: LegId;
  hears: boolean;
  speaks: boolean;
  muted: boolean;
  kind?: string;
}

/** sink -> sources for every member that hears (in member order). */
export function mixMinus(members: readonly MixMember[]): Map<LegId, LegId[]> {
  const out = new Map<LegId, LegId[]>();
  for (const sink of members) {
    if (!sink.hears) continue;
    out.set(sink.mixId, members.filter((m) => m !== sink && m.speaks && !m.muted && !(sink.kind === 'whip' && m.kind === 'whep')).map((m) => m.mixId));
  }
  return out;
}
