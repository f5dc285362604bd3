/**
 * Whether an RTP payload of VP8 (RFC 7741) starts a key frame: what a forwarder waits for before
 * it shows a new source to a receiver (delta frames before the first key frame cannot be decoded).
 *
 * ```
 *  payload descriptor (RFC 7741 §4.2)         payload header (§4.3), first octet
 *      0 1 2 3 4 5 6 7                            0 1 2 3 4 5 6 7
 *     +-+-+-+-+-+-+-+-+                          +-+-+-+-+-+-+-+-+
 *     |X|R|N|S|R| PID |  required                |Size0|H| VER |P|   P = 0: key frame
 *     +-+-+-+-+-+-+-+-+                          +-+-+-+-+-+-+-+-+
 * X:  |I|L|T|K| RSV   |  if X
 * I:  |M| PictureID   |  if I (a second octet if M)
 * L:  |   TL0PICIDX   |  if L
 * T/K:|TID|Y| KEYIDX  |  if T or K
 * ```
 * The payload header is present only in the first packet of a partition 0 (S = 1, PID = 0).
 */
export function isVp8KeyframeStart(payload: Uint8Array): boolean {
  if (payload.length < 1) return false;
  const b0 = payload[0]!;
  if ((b0 & 0x10) === 0 || (b0 & 0x07) !== 0) return false; // not S=1, PID=0
  let i = 1;
  if (b0 & 0x80) {
    if (payload.length <= i) return false;
    const x = payload[i++]!;
    if (x & 0x80) {
      if (payload.length <= i) return false;
      i += payload[i]! & 0x80 ? 2 : 1;
    }
    if (x & 0x40) i++;
    if (x & 0x30) i++;
  }
  return payload.length > i && (payload[i]! & 0x01) === 0;
}
