/**
 * Which registrar shard answers a REGISTER (`registrar-shards.ts`): the one that owns its
 * address-of-record, the To URI's user part (RFC 3261 §10.3 step 5, as the registrar reads it).
 *
 * By AOR, not by Call-ID: a shard's location service then holds every binding of the AORs it
 * owns, so the per-AOR rules (in-order Call-ID/CSeq, the contact limit, one REGISTER at a time)
 * need no agreement between threads. Retransmissions carry the same To and meet the same
 * shard's transaction. The digest nonce-count table stays per shard: a replay names the same
 * AOR (or gets `403`, §10.3 step 4), so it reaches the shard that saw the first use.
 *
 * Read from the bytes with the overload fast path's scanner (`triage`), before any parse. A
 * REGISTER that scanner leaves to the full parser (folded lines, unusual bytes) is
 * {@link UNREAD}: it goes to shard 0, which parses it and hands it on when another shard owns
 * its AOR (or answers it, `400` included).
 */
import { triage } from '../sip/overload-fast-path.ts';
import { parseNameAddr } from '../sip/header-name-addr.ts';
import { hashKey } from '../sip/completed-responses.ts';

/** The shard owning `aor` among `shards`. */
export function shardOfAor(aor: string, shards: number): number {
  return hashKey(aor) % shards;
}

const REGISTER_SP = 'REGISTER ';

/** True when the message's first bytes are a REGISTER request line (methods are case-sensitive, §7.1). */
export function isRegister(data: Uint8Array): boolean {
  if (data.length < REGISTER_SP.length) return false;
  for (let i = 0; i < REGISTER_SP.length; i++) if (data[i] !== REGISTER_SP.charCodeAt(i)) return false;
  return true;
}

/** {@link registerShard}: not a REGISTER (the main thread's). */
export const NOT_REGISTER = -1;
/** {@link registerShard}: a REGISTER whose AOR the scanner could not read. */
export const UNREAD = -2;

/** The shard owning a message, {@link NOT_REGISTER} or {@link UNREAD}. */
export function registerShard(data: Buffer, shards: number): number {
  if (!isRegister(data)) return NOT_REGISTER;
  if (shards === 1) return 0;
  const t = triage(data);
  if (t === null || t.kind !== 'new') return UNREAD;
  try {
    const user = parseNameAddr(data.toString('latin1', t.req.to, t.req.toEnd)).uri.user;
    return user ? shardOfAor(user, shards) : UNREAD;
  } catch {
    return UNREAD;
  }
}
