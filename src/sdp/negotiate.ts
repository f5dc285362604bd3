/**
 * Codec negotiation for the answerer side of RFC 3264 offer/answer (§6, §6.1).
 *
 * Rules implemented:
 * - one result per offered m= line, same order (§6: "the answer MUST contain exactly the same
 *   number of m= lines as the offer");
 * - the answer keeps the offerer's payload type numbers (§6.1: "the answerer MUST use the same
 *   payload type numbers") and, by default, the offerer's preference order;
 * - a stream is rejected (port 0 in the answer) when the offerer disabled it (port 0), when its
 *   proto is not one we accept, or when no primary codec is in common;
 * - telephone-event (RFC 4733 §7.1.1) is accepted only at a clock rate used by an accepted
 *   primary codec: `telephone-event/8000` goes with PCMU/PCMA/G722, `/48000` with Opus;
 * - comfort noise (CN, RFC 3389) is likewise an auxiliary format that never accepts a stream
 *   alone.
 */
import { codecs, isTelephoneEvent } from './codec-list.ts';
import { SdpError } from './errors.ts';
import { PLAIN_RTP_PROTOS } from './media-proto.ts';
import type { Codec, SessionDescription } from './types.ts';

/** One codec we can handle. Matching is by media type, name (case-insensitive), clock rate and channels. */
export interface CodecCapability {
  name: string;
  clockRate: number;
  /** Default 1. */
  channels?: number;
  /**
   * fmtp parameters to put in the answer. `undefined` echoes the offer's parameters
   * (right for telephone-event `0-16`); a string (or null for none) replaces them.
   */
  fmtp?: string | null;
  /** m= media type this codec belongs to; default `audio`. */
  media?: string;
}

export interface NegotiateOptions {
  /** Protos we accept; default RTP/AVP and RTP/AVPF. Others are rejected (port 0). */
  protos?: readonly string[];
  /** Order accepted codecs by our capability order instead of the offerer's (default false). */
  preferLocalOrder?: boolean;
  /**
   * Keep only the first primary codec (plus its telephone-event and CN): avoids asymmetric
   * codec switches when we relay without transcoding. Default false.
   */
  singleCodec?: boolean;
}

export type NegotiatedOutcome = 'accepted' | 'disabled-by-offerer' | 'unsupported-proto' | 'no-common-codec';

export interface NegotiatedMedia {
  /** Index of the m= line in the offer. */
  index: number;
  type: string;
  proto: string;
  accepted: boolean;
  outcome: NegotiatedOutcome;
  /** Codecs for the answer (offerer's payload types), empty when rejected. */
  codecs: Codec[];
}

export interface Negotiation {
  media: NegotiatedMedia[];
}

/**
 * Negotiates each m= line of `offer` against `local`.
 *
 * @example
 * const n = negotiate(offer, [{ name: 'PCMA', clockRate: 8000 }, { name: 'telephone-event', clockRate: 8000 }]);
 * n.media[0].codecs.map((c) => c.pt) // [8, 101]
 * @throws SdpError `SDP_ERR_NO_COMMON_CODEC` (sipStatus 488) when the offer has at least one
 *   enabled stream and none could be accepted.
 */
export function negotiate(
  offer: SessionDescription,
  local: readonly CodecCapability[],
  options: NegotiateOptions = {},
): Negotiation {
  const protos = options.protos ?? PLAIN_RTP_PROTOS;
  const media: NegotiatedMedia[] = [];
  let enabled = 0;
  let accepted = 0;
  for (let index = 0; index < offer.media.length; index++) {
    const m = offer.media[index];
    const base = { index, type: m.type, proto: m.proto };
    if (m.port === 0) {
      media.push({ ...base, accepted: false, outcome: 'disabled-by-offerer', codecs: [] });
      continue;
    }
    enabled++;
    if (!protos.includes(m.proto)) {
      media.push({ ...base, accepted: false, outcome: 'unsupported-proto', codecs: [] });
      continue;
    }
    const chosen = matchCodecs(codecs(m), local.filter((c) => (c.media ?? 'audio') === m.type), options);
    if (chosen.length === 0) {
      media.push({ ...base, accepted: false, outcome: 'no-common-codec', codecs: [] });
      continue;
    }
    accepted++;
    media.push({ ...base, accepted: true, outcome: 'accepted', codecs: chosen });
  }
  if (enabled > 0 && accepted === 0) {
    const offered = offer.media.flatMap((m) => codecs(m).map((c) => `${c.name}/${c.clockRate}`));
    throw new SdpError('SDP_ERR_NO_COMMON_CODEC', { detail: `offered ${offered.join(', ') || 'nothing'}` });
  }
  return { media };
}

function isAuxiliary(codec: { name: string }): boolean {
  return isTelephoneEvent(codec) || codec.name.toUpperCase() === 'CN';
}

function findCapability(offered: Codec, local: readonly CodecCapability[]): number {
  const name = offered.name.toLowerCase();
  return local.findIndex(
    (c) => c.name.toLowerCase() === name && c.clockRate === offered.clockRate && (c.channels ?? 1) === offered.channels,
  );
}

function matchCodecs(offered: Codec[], local: readonly CodecCapability[], options: NegotiateOptions): Codec[] {
  const primary: Array<{ codec: Codec; rank: number }> = [];
  for (const codec of offered) {
    if (isAuxiliary(codec)) continue;
    const rank = findCapability(codec, local);
    if (rank < 0) continue;
    primary.push({ codec: withFmtp(codec, local[rank]), rank });
  }
  if (options.preferLocalOrder === true) primary.sort((a, b) => a.rank - b.rank);
  if (primary.length === 0) return [];
  const kept = options.singleCodec === true ? primary.slice(0, 1) : primary;
  const rates = new Set(kept.map((p) => p.codec.clockRate));

  // One telephone-event and one CN per clock rate in use (RFC 4733 §7.1.1), in offer order.
  const auxiliary: Codec[] = [];
  const taken = new Set<string>();
  for (const codec of offered) {
    if (!isAuxiliary(codec) || !rates.has(codec.clockRate)) continue;
    const key = `${codec.name.toLowerCase()}/${codec.clockRate}`;
    if (taken.has(key)) continue;
    const rank = findCapability(codec, local);
    if (rank < 0) continue;
    taken.add(key);
    auxiliary.push(withFmtp(codec, local[rank]));
  }
  return [...kept.map((p) => p.codec), ...auxiliary];
}

function withFmtp(codec: Codec, capability: CodecCapability): Codec {
  return capability.fmtp === undefined ? { ...codec } : { ...codec, fmtp: capability.fmtp };
}
