/**
 * Which SIP shard this thread is (issue 17, call shards: `pbx/call-shards.ts`), so that every
 * message of a dialog or transaction it starts comes back to it without a table anywhere:
 *
 * - a Call-ID it mints hashes to it ({@link ownerOfCallId}): requests of the dialog (BYE,
 *   re-INVITE, ACK) are routed by their Call-ID;
 * - a Via branch it mints names it (`z9hG4bK-<shard>-…`, {@link shardOfBranch}): responses
 *   are routed by the branch of their top Via, which is always ours.
 *
 * Each worker thread has its own copy of this module, so the setting is per thread. Without
 * shards (the default) it is shard 0 of 1 and identifiers look as they always did.
 */
import { hashString } from './probe-index.ts';

let index = 0;
let count = 1;

/** Sets this thread's shard; `total` 1 turns the scheme off. */
export function setShardIdentity(shard: number, total: number): void {
  if (!Number.isInteger(total) || total < 1 || total > MAX_SHARDS) throw new RangeError(`shard count ${total} outside 1..${MAX_SHARDS}`);
  if (!Number.isInteger(shard) || shard < 0 || shard >= total) throw new RangeError(`shard ${shard} outside 0..${total - 1}`);
  index = shard;
  count = total;
}

/** This thread's shard and the total (1: not sharded). */
export function shardIdentity(): { index: number; count: number } {
  return { index, count };
}

/** Branch markers are one base-36 digit. */
export const MAX_SHARDS = 36;

/** The shard owning a Call-ID among `total` (FNV-1a of its characters). */
export function ownerOfCallId(callId: string, total: number): number {
  return (hashString(callId) >>> 0) % total;
}

/** {@link ownerOfCallId} over the Call-ID's bytes in `buf[start, end)` (latin1, as the parser reads them). */
export function ownerOfCallIdBytes(buf: Uint8Array, start: number, end: number, total: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return (h >>> 0) % total;
}

/** True when a Call-ID minted here would be ours: what the Call-ID generator draws until. */
export function ownsCallId(callId: string): boolean {
  return count === 1 || ownerOfCallId(callId, count) === index;
}

const MAGIC = 'z9hG4bK';
const MARK = `${MAGIC}-`;

/** The branch prefix this thread's branches start with (the magic cookie alone when not sharded). */
export function branchPrefix(): string {
  return count === 1 ? MAGIC : `${MARK}${index.toString(36)}-`;
}

/** The shard a branch of ours names, or -1 when it names none (not ours, or minted unsharded). */
export function shardOfBranch(branch: string): number {
  if (branch.length < MARK.length + 2 || !branch.startsWith(MARK) || branch.charCodeAt(MARK.length + 1) !== 0x2d) return -1;
  const n = parseInt(branch[MARK.length]!, 36);
  return Number.isNaN(n) ? -1 : n;
}
