/**
 * The offer of a transfer leg. The party that stays (Y) keeps its SDP with us unchanged: we
 * anchor, so only our endpoint towards the new target is new. The new leg's offer is derived
 * from what Y negotiated: Y's codec first (so the target can pick it and the bridge stays a
 * zero-decode relay), then every other codec the media graph can transcode, and
 * telephone-event per clock rate (RFC 4733 §7.1.1). The target's answer then goes through
 * `anchorSdp` like every other answer (the leg is its own offerer, see `anchorTransferAnswer`).
 */
import { codecs, isTelephoneEvent, parseSdp } from '../sdp/index.ts';
import { anchorSdp, TRANSCODABLE, type LegMedia, type LegMediaEngine } from './anchor-sdp.ts';

const STATIC_PT: Record<string, number> = { 'pcmu/8000': 0, 'pcma/8000': 8, 'g722/8000': 9 };

interface OfferedCodec { pt: number; name: string; clockRate: number; channels: number; fmtp: string | null }

const same = (a: { name: string; clockRate: number }, b: { name: string; clockRate: number }) =>
  a.name.toLowerCase() === b.name.toLowerCase() && a.clockRate === b.clockRate;

/**
 * The SDP offer for the transfer leg `leg` (pointing at its endpoint), derived from the kept
 * party's negotiated codec; records the offer on `leg.offer` so the answer can be anchored.
 */
export function transferOffer(kept: LegMedia, leg: LegMedia): string {
  const list: OfferedCodec[] = [];
  const used = new Set<number>();
  const k = kept.codec;
  if (k) { list.push({ pt: k.pt, name: k.name, clockRate: k.clockRate, channels: k.channels, fmtp: k.fmtp }); used.add(k.pt); }
  let next = 96;
  const free = (preferred: number | undefined): number => {
    if (preferred !== undefined && !used.has(preferred)) { used.add(preferred); return preferred; }
    while (used.has(next)) next++;
    used.add(next);
    return next;
  };
  for (const cap of TRANSCODABLE) {
    if (list.some((c) => same(c, cap))) continue;
    list.push({ pt: free(STATIC_PT[`${cap.name.toLowerCase()}/${cap.clockRate}`]), name: cap.name, clockRate: cap.clockRate, channels: cap.channels ?? 1, fmtp: null });
  }
  const rates = [...new Set(list.map((c) => c.clockRate))];
  for (const rate of rates) list.push({ pt: free(rate === 8000 && k?.telephoneEventPt != null ? k.telephoneEventPt : rate === 8000 ? 101 : undefined), name: 'telephone-event', clockRate: rate, channels: 1, fmtp: '0-16' });
  const ep = leg.endpoint;
  const ip = ep.address.includes(':') ? 'IP6' : 'IP4';
  const lines = [
    'v=0', `o=strowger ${leg.origin.sessionId} ${leg.origin.next()} IN ${ip} ${ep.address}`, 's=-', `c=IN ${ip} ${ep.address}`, 't=0 0',
    `m=audio ${ep.rtpPort} RTP/AVP ${list.map((c) => c.pt).join(' ')}`,
  ];
  for (const c of list) {
    lines.push(`a=rtpmap:${c.pt} ${c.name}/${c.clockRate}${c.channels > 1 ? `/${c.channels}` : ''}`);
    if (c.fmtp !== null) lines.push(`a=fmtp:${c.pt} ${c.fmtp}`);
  }
  lines.push('a=ptime:20', 'a=sendrecv', '');
  const sdp = lines.join('\r\n');
  const audio = parseSdp(sdp).media[0];
  const all = codecs(audio);
  leg.offer = { formats: [...audio.formats], codecs: all, supported: all.filter((c) => !isTelephoneEvent(c)) };
  return sdp;
}

/**
 * The target's answer to `transferOffer`: sets the leg's remote media and codec through the
 * one anchoring function (the leg answers its own offer: nothing is sent onwards, Y's SDP with
 * us is unchanged and the media engine transcodes when Y's and the target's codecs differ).
 */
export async function anchorTransferAnswer(engine: LegMediaEngine, body: Buffer | string, leg: LegMedia): Promise<void> {
  await anchorSdp(engine, body, 'answer', leg, leg);
}
