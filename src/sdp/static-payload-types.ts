/**
 * Static RTP payload types of the RTP/AVP profile (RFC 3551 §6, Tables 4 and 5). A media
 * description may list these without an `a=rtpmap` (sipp, older phones), so codec listing
 * resolves them here. Names are written as RFC 3551 registers them.
 */

export interface StaticPayloadType {
  name: string;
  clockRate: number;
  channels: number;
}

const TABLE: ReadonlyArray<readonly [number, string, number, number]> = [
  // Audio (Table 4). G722's RTP clock is 8000 Hz although it samples at 16 kHz (§4.5.2).
  [0, 'PCMU', 8000, 1],
  [3, 'GSM', 8000, 1],
  [4, 'G723', 8000, 1],
  [5, 'DVI4', 8000, 1],
  [6, 'DVI4', 16000, 1],
  [7, 'LPC', 8000, 1],
  [8, 'PCMA', 8000, 1],
  [9, 'G722', 8000, 1],
  [10, 'L16', 44100, 2],
  [11, 'L16', 44100, 1],
  [12, 'QCELP', 8000, 1],
  [13, 'CN', 8000, 1],
  [14, 'MPA', 90000, 1],
  [15, 'G728', 8000, 1],
  [16, 'DVI4', 11025, 1],
  [17, 'DVI4', 22050, 1],
  [18, 'G729', 8000, 1],
  // Video (Table 5); channels is meaningless there and left at 1.
  [25, 'CelB', 90000, 1],
  [26, 'JPEG', 90000, 1],
  [28, 'nv', 90000, 1],
  [31, 'H261', 90000, 1],
  [32, 'MPV', 90000, 1],
  [33, 'MP2T', 90000, 1],
  [34, 'H263', 90000, 1],
];

const BY_PT: ReadonlyArray<StaticPayloadType | undefined> = (() => {
  const out: Array<StaticPayloadType | undefined> = new Array(35).fill(undefined);
  for (const [pt, name, clockRate, channels] of TABLE) out[pt] = { name, clockRate, channels };
  return out;
})();

/** The RFC 3551 assignment of a static payload type, or undefined (dynamic or unassigned). */
export function staticPayloadType(pt: number): StaticPayloadType | undefined {
  return BY_PT[pt];
}

/** The static payload type registered for an encoding, e.g. `PCMA/8000` -> 8; undefined if none. */
export function findStaticPayloadType(name: string, clockRate: number, channels = 1): number | undefined {
  const upper = name.toUpperCase();
  for (const [pt, n, rate, ch] of TABLE) {
    if (n.toUpperCase() === upper && rate === clockRate && ch === channels) return pt;
  }
  return undefined;
}
