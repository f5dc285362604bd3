/**
 * The offer of a transfer leg. The party that stays (Y) keeps its SDP with us unchanged: we
 * anchor, so only our endpoint towards the new target is new. The new leg's offer is derived
 * from what Y negotiated: Y's codec first (so the target can pick it and the bridge stays a
 * zero-decode relay), then every other codec the media graph can transcode, and
 * telephone-event per clock rate (RFC 4733 §7.1.1). The target's answer then goes through
 * `anchorSdp` like every other answer (the leg is its own offerer, see `anchorTransferAnswer`).
 */
import type { LegMedia, LegMediaEngine } from './anchor-sdp.ts';
import { anchorOwnAnswer, localOffer } from './local-offer.ts';

/**
 * The SDP offer for the transfer leg `leg` (pointing at its endpoint), derived from the kept
 * party's negotiated codec; records the offer on `leg.offer` so the answer can be anchored.
 */
export function transferOffer(kept: LegMedia, leg: LegMedia): string {
  return localOffer(leg, kept.codec);
}

/**
 * The target's answer to `transferOffer`: sets the leg's remote media and codec through the
 * one anchoring function (the leg answers its own offer: nothing is sent onwards, Y's SDP with
 * us is unchanged and the media engine transcodes when Y's and the target's codecs differ).
 */
export async function anchorTransferAnswer(engine: LegMediaEngine, body: Buffer | string, leg: LegMedia): Promise<void> {
  await anchorOwnAnswer(engine, body, leg);
}
