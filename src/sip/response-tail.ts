/**
 * A final response kept for retransmissions of its request, stored without what the request
 * itself will supply again (RFC 3261 §8.2.6.2: Via, From, To, Call-ID and CSeq of a response are
 * copied from the request, and §17.2.3 matches a retransmission by the same Via branch).
 *
 * A 200 to a REGISTER is ~480 octets, ~260 of them those copies. At 10,000 REGISTER pairs/s,
 * Timer J (32 s) holds 320,000 of them: storing the status line, the To tag and the headers after
 * CSeq keeps about half the memory. The copies are rebuilt from the retransmitted request with
 * the same `createResponse` that built them first, so the bytes come out identical. A response
 * whose head is anything else (Record-Route copied for a dialog, a Timestamp, headers in another
 * order) is kept whole.
 */
import { createResponse } from './message-build.ts';
import type { SipMessage } from './message.ts';

/** Marks the two forms of a stored response (first character). */
const WHOLE = 'W';
const TAIL = 'T';
const SEP = '\u0000';

/** The single header lines `createResponse` copies after the Via lines, in its order (names as our serializer writes them). */
const COPIED = ['From: ', 'To: ', 'Call-ID: ', 'CSeq: '];

/**
 * The stored form of `bytes`: the tail form when its head is exactly the copies
 * `createResponse` makes (Via lines, From, To ending in a tag, Call-ID, CSeq), else the whole.
 * Fresh bytes of their own (a slice of `bytes` would keep the whole response alive), which the
 * caller may copy where it keeps them.
 */
export function storeResponse(bytes: Buffer): Buffer {
  const statusEnd = bytes.indexOf('\r\n');
  let at = statusEnd + 2;
  if (statusEnd < 0 || !startsWith(bytes, 'Via: ', at)) return whole(bytes);
  while (startsWith(bytes, 'Via: ', at)) {
    at = lineEnd(bytes, at);
    if (at < 0) return whole(bytes);
  }
  let tag = '';
  for (const name of COPIED) {
    const end = startsWith(bytes, name, at) ? lineEnd(bytes, at) : -1;
    if (end < 0) return whole(bytes);
    if (name === 'To: ') {
      const m = /;tag=([^;>\s\u0000]+)$/.exec(bytes.toString('latin1', at, end - 2));
      if (m === null) return whole(bytes);
      tag = m[1]!;
    }
    at = end;
  }
  const out = Buffer.allocUnsafe(1 + statusEnd + 1 + tag.length + 1 + bytes.length - at);
  let n = out.write(TAIL, 0, 'latin1');
  n += bytes.copy(out, n, 0, statusEnd);
  n += out.write(SEP + tag + SEP, n, 'latin1');
  bytes.copy(out, n, at);
  return out;
}

function whole(bytes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(bytes.length + 1);
  out.write(WHOLE, 0, 'latin1');
  bytes.copy(out, 1);
  return out;
}

function startsWith(b: Buffer, prefix: string, at: number): boolean {
  if (at + prefix.length > b.length) return false;
  for (let i = 0; i < prefix.length; i++) if (b[at + i] !== prefix.charCodeAt(i)) return false;
  return true;
}

/**
 * The response bytes to resend for `request` (a retransmission of the one answered), from the
 * stored form; null when a tail form cannot be rebuilt (not the request it belongs to).
 */
export function loadResponse(stored: Uint8Array, request: SipMessage): Buffer | null {
  const s = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
  if (s[0] === WHOLE.charCodeAt(0)) return Buffer.from(s.subarray(1));
  const a = s.indexOf(SEP, 0, 'latin1');
  const b = s.indexOf(SEP, a + 1, 'latin1');
  const m = /^SIP\/2\.0 (\d{3}) (.*)$/.exec(s.toString('latin1', 1, a));
  if (m === null) return null;
  // A request without a To tag gets the stored one appended, as the first time; one with a tag
  // (in a dialog) has its To copied as is, as the first time.
  const head = createResponse(request, Number(m[1]), m[2], { toTag: s.toString('latin1', a + 1, b) }).toBuffer();
  const cseq = head.indexOf('\r\nCSeq: ');
  const end = cseq < 0 ? -1 : head.indexOf('\r\n', cseq + 2);
  if (end < 0) return null;
  return Buffer.concat([head.subarray(0, end + 2), s.subarray(b + 1)]);
}

/** Index after the CRLF ending the line that starts at `at`, -1 when there is none. */
function lineEnd(s: Buffer, at: number): number {
  const i = s.indexOf('\r\n', at);
  return i < 0 ? -1 : i + 2;
}
