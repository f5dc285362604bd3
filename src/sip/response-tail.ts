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

/** Marks the two forms of a stored response (first octet), and separates the tail form's parts. */
const WHOLE = 0x57; // 'W'
const TAIL = 0x54; // 'T'
const SEP = 0;
const CRLF = '\r\n';
const TAG_NAME = 'tag=';
/** Octets that end a tag read backwards: `;`, `>`, NUL and what `\s` matches in a latin1 line. */
const TAG_STOP = new Uint8Array(256);
for (const c of [0x3b, 0x3e, 0x00, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0]) TAG_STOP[c] = 1;

/** The single header lines `createResponse` copies after the Via lines, in its order (names as our serializer writes them). */
const COPIED = ['From: ', 'To: ', 'Call-ID: ', 'CSeq: '];

/**
 * Writes the stored form of `bytes` at `target[offset]` and answers its length: the tail form
 * when its head is exactly the copies `createResponse` makes (Via lines, From, To ending in a
 * tag, Call-ID, CSeq), else the whole. Never longer than {@link maxStoredLength}. Written in
 * place (into the completed-responses arena): no intermediate Buffer per response.
 */
export function storeResponseInto(bytes: Buffer, target: Buffer, offset: number): number {
  const statusEnd = bytes.indexOf(CRLF);
  let at = statusEnd + 2;
  if (statusEnd < 0 || !startsWith(bytes, 'Via: ', at)) return writeWhole(bytes, target, offset);
  while (startsWith(bytes, 'Via: ', at)) {
    at = lineEnd(bytes, at);
    if (at < 0) return writeWhole(bytes, target, offset);
  }
  let tagStart = -1;
  let tagEnd = -1;
  for (const name of COPIED) {
    const end = startsWith(bytes, name, at) ? lineEnd(bytes, at) : -1;
    if (end < 0) return writeWhole(bytes, target, offset);
    if (name === 'To: ') {
      tagEnd = end - 2;
      tagStart = lastTagAt(bytes, at, tagEnd);
      if (tagStart < 0) return writeWhole(bytes, target, offset);
    }
    at = end;
  }
  let n = offset;
  target[n++] = TAIL;
  n += bytes.copy(target, n, 0, statusEnd);
  target[n++] = SEP;
  n += bytes.copy(target, n, tagStart, tagEnd);
  target[n++] = SEP;
  n += bytes.copy(target, n, at);
  return n - offset;
}

/** The most {@link storeResponseInto} writes for `bytes` (the whole form). */
export function maxStoredLength(bytes: Buffer): number {
  return bytes.length + 1;
}

/** The stored form of `bytes` in a Buffer of its own. */
export function storeResponse(bytes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(maxStoredLength(bytes));
  return out.subarray(0, storeResponseInto(bytes, out, 0));
}

function writeWhole(bytes: Buffer, target: Buffer, offset: number): number {
  target[offset] = WHOLE;
  return 1 + bytes.copy(target, offset + 1);
}

/**
 * Where the To tag starts when the To value in `[from, end)` ends in `;tag=<token>`, else -1:
 * the pattern `/;tag=([^;>\s\u0000]+)$/` over the line's octets, read backwards without
 * decoding the line into a string.
 */
function lastTagAt(b: Buffer, from: number, end: number): number {
  let i = end;
  while (i > from && TAG_STOP[b[i - 1]!] === 0) i--;
  // `i` starts the longest run of non-stop octets: `tag=<token>` after a `;`.
  if (i === from || b[i - 1] !== 0x3b || end - i <= TAG_NAME.length) return -1;
  for (let k = 0; k < TAG_NAME.length; k++) if (b[i + k] !== TAG_NAME.charCodeAt(k)) return -1;
  return i + TAG_NAME.length;
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
  if (s[0] === WHOLE) return Buffer.from(s.subarray(1));
  const a = s.indexOf(SEP, 0);
  const b = s.indexOf(SEP, a + 1);
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
