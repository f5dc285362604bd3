/**
 * Which call shard a SIP message belongs to (`call-shards.ts`), read from its bytes before any
 * parse, on the main thread:
 *
 * - a response: the shard its top Via's branch names (every branch we mint names its thread's
 *   shard, `sip/shard-identity.ts`), so it meets the client transaction that sent the request;
 * - a request of a call (INVITE, ACK, CANCEL, BYE, UPDATE, INFO, PRACK, REFER): the owner of its
 *   Call-ID, the shard the Call-ID hashes to, unless the call was handed to another thread
 *   (`adopted`). A call's requests, their retransmissions and its B-leg's requests (whose
 *   Call-ID the owner drew to hash to itself) so always meet one shard;
 * - anything else (REGISTER, SUBSCRIBE, NOTIFY, MESSAGE, OPTIONS, PUBLISH, garbage): the main
 *   thread, {@link MAIN}, which keeps subscriptions, messages and the registrar.
 *
 * What the scanner cannot read with certainty (no Call-ID line, a folded one, no start line)
 * goes to the main thread, which parses it and answers as it would without shards.
 */
import { ownerOfCallIdBytes, shardOfBranch } from '../sip/shard-identity.ts';

/** The main thread's shard number. */
export const MAIN = 0;

const CALL_METHODS = new Set(['INVITE', 'ACK', 'CANCEL', 'BYE', 'UPDATE', 'INFO', 'PRACK', 'REFER']);

const SP = 0x20, HT = 0x09, CR = 0x0d, LF = 0x0a, COLON = 0x3a;

/** Lower-cased header name `buf[start, end)`; only called for short names. */
function nameAt(buf: Buffer, start: number, end: number): string {
  return buf.toString('latin1', start, end).trimEnd().toLowerCase();
}

/** [start, end) of the value of the first header named one of `names` (trimmed), or null (absent, folded, or no header block). */
function headerValue(buf: Buffer, names: readonly string[]): [number, number] | null {
  let i = buf.indexOf(LF);
  if (i < 0) return null;
  i++;
  while (i < buf.length) {
    if (buf[i] === CR || buf[i] === LF) return null; // end of headers
    let eol = buf.indexOf(LF, i);
    if (eol < 0) eol = buf.length;
    const colon = buf.indexOf(COLON, i);
    if (colon > i && colon < eol && colon - i <= 16 && names.includes(nameAt(buf, i, colon))) {
      // A folded value (RFC 3261 §7.3.1) continues on the next line: left to the parser.
      const next = eol + 1;
      if (next < buf.length && (buf[next] === SP || buf[next] === HT)) return null;
      let s = colon + 1;
      let e = eol;
      while (s < e && (buf[s] === SP || buf[s] === HT)) s++;
      while (e > s && (buf[e - 1] === CR || buf[e - 1] === SP || buf[e - 1] === HT)) e--;
      return s < e ? [s, e] : null;
    }
    i = eol + 1;
  }
  return null;
}

const BRANCH = Buffer.from('branch=');

/** The shard named by the branch of the top Via of a response, else {@link MAIN}. */
function responseShard(buf: Buffer, total: number): number {
  const via = headerValue(buf, ['via', 'v']);
  if (via === null) return MAIN;
  // The first via-parm ends at a comma (several values on one line); its branch param is ours.
  let end = buf.indexOf(0x2c, via[0]);
  if (end < 0 || end > via[1]) end = via[1];
  const lower = buf.toString('latin1', via[0], end).toLowerCase();
  const at = lower.indexOf(BRANCH.toString('latin1'));
  if (at < 0) return MAIN;
  const value = buf.toString('latin1', via[0] + at + BRANCH.length, end).split(/[;\s]/, 1)[0]!;
  const shard = shardOfBranch(value);
  return shard >= 0 && shard < total ? shard : MAIN;
}

/**
 * The shard of a message (0 = {@link MAIN}) among `total` threads. `adopted` maps Call-IDs
 * handed to a thread other than their hash's owner.
 */
export function callShardOf(buf: Buffer, total: number, adopted: ReadonlyMap<string, number>): number {
  if (total === 1) return MAIN;
  const sp = buf.indexOf(SP);
  if (sp <= 0 || sp > 16) return MAIN;
  if (sp === 7 && buf.toString('latin1', 0, 7) === 'SIP/2.0') return responseShard(buf, total);
  if (!CALL_METHODS.has(buf.toString('latin1', 0, sp))) return MAIN;
  const id = headerValue(buf, ['call-id', 'i']);
  if (id === null) return MAIN;
  if (adopted.size > 0) {
    const owner = adopted.get(buf.toString('latin1', id[0], id[1]));
    if (owner !== undefined) return owner;
  }
  return ownerOfCallIdBytes(buf, id[0], id[1], total);
}

/** The Call-ID of a message as the scanner reads it, or null (tests' trace, diagnostics). */
export function callIdOf(buf: Buffer): string | null {
  const id = headerValue(buf, ['call-id', 'i']);
  return id === null ? null : buf.toString('latin1', id[0], id[1]);
}
