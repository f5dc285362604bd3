/**
 * An SDP offer of our own, for a leg we call out on (a transfer target, a PBX-originated call):
 * `prefer` first when given (the codec of the party the leg will be bridged to, so the far end
 * can pick it and the bridge stays a zero-decode relay), then every codec the media graph can
 * transcode, and telephone-event per clock rate (RFC 4733 §7.1.1). The far end's answer goes
 * through `anchorSdp` like every other answer, the leg being its own offerer (`anchorOwnAnswer`).
 */
import { codecs, isTelephoneEvent, parseSdp } from '../sdp/index.ts';
import { anchorSdp, TRANSCODABLE, type LegCodec, type LegMedia, type LegMediaEngine } from './anchor-sdp.ts';

const STATIC_PT: Record<string, number> = { 'pcmu/8000': 0, 'pcma/8000': 8, 'g722/8000': 9 };

interface OfferedCodec { pt: number; name: string; clockRate: number; channels: number; fmtp: string | null }

const same = (a: { name: string; clockRate: number }, b: { name: string; clockRate: number }) =>
  a.name.toLowerCase() === b.name.toLowerCase() && a.clockRate === b.clockRate;

/**
 * The SDP offer for `leg` (pointing at its endpoint); records the offer on `leg.offer` so the
 * answer can be anchored.
 */
export function localOffer(leg: LegMedia, prefer: LegCodec | null): string {
  const list: OfferedCodec[] = [];
  const used = new Set<number>();
  if (prefer) { list.push({ pt: prefer.pt, name: prefer.name, clockRate: prefer.clockRate, channels: prefer.channels, fmtp: prefer.fmtp }); used.add(prefer.pt); }
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
  for (const rate of rates) list.push({ pt: free(rate === 8000 && prefer?.telephoneEventPt != null ? prefer.telephoneEventPt : rate === 8000 ? 101 : undefined), name: 'telephone-event', clockRate: rate, channels: 1, fmtp: '0-16' });
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
 * The far end's answer to `localOffer`: sets the leg's remote media and codec through the one
 * anchoring function (the leg answers its own offer: nothing is sent onwards; the media
 * engine transcodes wherever the leg's codec differs from what it is connected to).
 */
export async function anchorOwnAnswer(engine: LegMediaEngine, body: Buffer | string, leg: LegMedia): Promise<void> {
  await anchorSdp(engine, body, 'answer', leg, leg);
}
