/**
 * Narrowband Opus towards G.711 bridges. When an Opus leg is transcoded to a G.711 leg, nothing
 * above 4 kHz survives the bridge, so we ask the Opus peer for narrowband in the SDP we send it:
 * `maxplaybackrate=8000` (what we want to receive, RFC 7587 §6.1) and `sprop-maxcapturerate=8000`
 * (what we will send; the encoder codes narrowband anyway at the bridge's 8 kHz rate). A
 * compliant peer then sends SILK narrowband, which decodes at 8 kHz for about a third of the CPU
 * of its wideband/fullband packets (bench/README.md "transcoded calls") and costs the peer less
 * to encode. G.722 is wideband audio despite its 8000 Hz RTP clock: not narrowed.
 */
import { parseFmtp } from '../media/codec/fmtp.ts';

const NARROWBAND_PARAMS: readonly (readonly [string, string])[] = [['maxplaybackrate', '8000'], ['sprop-maxcapturerate', '8000']];

/** Whether the codec carries 8 kHz audio (G.711 µ-law or A-law). */
export function isNarrowbandCodec(codec: { name: string; clockRate: number } | null | undefined): boolean {
  if (!codec || codec.clockRate !== 8000) return false;
  const name = codec.name.toUpperCase();
  return name === 'PCMU' || name === 'PCMA';
}

export function isOpus(codec: { name: string } | null | undefined): boolean {
  return codec?.name.toLowerCase() === 'opus';
}

/** `fmtp` with the narrowband parameters set (replacing any value they had), other parameters kept in order. */
export function narrowbandOpusFmtp(fmtp: string | null): string {
  const params = parseFmtp(fmtp);
  for (const [key, value] of NARROWBAND_PARAMS) params.set(key, value);
  return [...params].map(([k, v]) => (v === '' ? k : `${k}=${v}`)).join(';');
}
