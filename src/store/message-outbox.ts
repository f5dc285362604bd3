/**
 * The outbound SMS queue, kept in the `messages` table itself: `status = 'queued'` rows with
 * `next_attempt_at` due are waiting for Twilio. A sender leases a row by moving its
 * `next_attempt_at` forward with a conditional UPDATE (so two nodes never send the same row
 * at once); a sender that dies mid-call leaves the lease to expire and the row is tried again.
 * Delivery is therefore at least once: a crash between Twilio's answer and our write resends.
 */
import type { MessageRow } from './schema.ts';
import { RESENDABLE_STATUSES } from './messages.ts';
import { isoNow } from './time.ts';
import type { Db } from './db.ts';

/**
 * How far along a status is, so a late callback never moves a message back (Twilio does not
 * order its callbacks: `sent` may arrive after `delivered`). Unknown statuses rank 1.
 */
const STATUS_RANK: Record<string, number> = {
  queued: 0, accepted: 1, scheduled: 1, sending: 1, sent: 2,
  delivered: 3, undelivered: 3, failed: 3, canceled: 3, read: 4,
};
const rank = (s: string) => STATUS_RANK[s] ?? 1;

/** Twilio's status right after it accepted a message, in our words: it left our queue. */
export function statusAfterHandOff(twilioStatus: string): string {
  return rank(twilioStatus) <= 1 ? 'sending' : twilioStatus;
}

/** Claims up to `limit` due rows until `leaseUntil`; only rows this call won are returned. */
export async function claimDueMessages(db: Db, now: string, leaseUntil: string, limit: number): Promise<MessageRow[]> {
  const due = await db.selectFrom('messages').select(['id', 'next_attempt_at'])
    .where('status', '=', 'queued').where('next_attempt_at', '<=', now)
    .orderBy('next_attempt_at').limit(limit).execute();
  const won: MessageRow[] = [];
  for (const d of due) {
    const row = await db.updateTable('messages').set({ next_attempt_at: leaseUntil })
      .where('id', '=', d.id).where('status', '=', 'queued').where('next_attempt_at', '=', d.next_attempt_at)
      .returningAll().executeTakeFirst();
    if (row) won.push(row);
  }
  return won;
}

/** When the earliest queued row is due (ISO), or null when the queue is empty. */
export async function nextDueAt(db: Db): Promise<string | null> {
  const r = await db.selectFrom('messages').select((eb) => eb.fn.min('next_attempt_at').as('at'))
    .where('status', '=', 'queued').executeTakeFirst();
  return (r?.at as string | null | undefined) ?? null;
}

/**
 * Twilio accepted the message. Its status moves to `sending` unless a status callback got
 * there first (Twilio may call back before its create answer reaches us); a cancel that raced
 * with the hand-off is overridden, because the message did go out.
 */
export async function recordHandOff(db: Db, id: number, attempts: number, twilio: { sid: string; status: string }): Promise<void> {
  const now = isoNow();
  const current = await db.selectFrom('messages').select('status').where('id', '=', id).executeTakeFirst();
  const status = statusAfterHandOff(twilio.status);
  const moveStatus = current?.status === 'queued' || current?.status === 'canceled';
  await db.updateTable('messages').set({
    twilio_sid: twilio.sid, attempts, next_attempt_at: null, updated_at: now,
    ...(moveStatus ? { status, error_code: null, error_message: null, ...(rank(status) >= 2 ? { sent_at: now } : {}) } : {}),
  }).where('id', '=', id).execute();
}

export interface AttemptError {
  code: number | null;
  message: string;
}

/** A retryable failure: the row stays queued until `nextAt`; the error is kept for the API. */
export async function recordRetry(db: Db, id: number, attempts: number, nextAt: string, err: AttemptError): Promise<void> {
  await db.updateTable('messages').set({ attempts, next_attempt_at: nextAt, error_code: err.code, error_message: err.message, updated_at: isoNow() })
    .where('id', '=', id).where('status', '=', 'queued').execute();
}

/** Out of attempts, or refused by Twilio: `failed` with Twilio's code and message. */
export async function recordFailure(db: Db, id: number, attempts: number, err: AttemptError): Promise<void> {
  await db.updateTable('messages').set({ status: 'failed', attempts, next_attempt_at: null, error_code: err.code, error_message: err.message, updated_at: isoNow() })
    .where('id', '=', id).where('status', '=', 'queued').execute();
}

/** Cancels a message still in our queue; undefined when it is not queued (any more). */
export async function cancelQueuedMessage(db: Db, id: number): Promise<MessageRow | undefined> {
  return db.updateTable('messages').set({ status: 'canceled', next_attempt_at: null, updated_at: isoNow() })
    .where('id', '=', id).where('status', '=', 'queued').returningAll().executeTakeFirst();
}

/** Puts a failed or undelivered outbound message back in the queue; undefined when it is neither. */
export async function requeueMessage(db: Db, id: number): Promise<MessageRow | undefined> {
  const now = isoNow();
  return db.updateTable('messages').set({
    status: 'queued', attempts: 0, next_attempt_at: now, twilio_sid: null, error_code: null, error_message: null,
    sent_at: null, delivered_at: null, updated_at: now,
  }).where('id', '=', id).where('direction', '=', 'outbound').where('status', 'in', RESENDABLE_STATUSES)
    .returningAll().executeTakeFirst();
}

export interface TwilioStatusUpdate {
  status: string;
  errorCode: number | null;
  errorMessage: string | null;
}

/**
 * Applies a status Twilio reported (callback or fetch) to the message with this sid — or, for
 * a callback that beat the create answer, to the outbound message `messageId` (from the
 * callback URL) that has no sid yet — unless the message is already further along. Returns
 * the row as it is afterwards.
 */
export async function applyTwilioStatus(db: Db, sid: string, u: TwilioStatusUpdate, messageId?: number): Promise<MessageRow | undefined> {
  let row = await db.selectFrom('messages').selectAll().where('twilio_sid', '=', sid).executeTakeFirst();
  if (!row && messageId !== undefined) {
    row = await db.selectFrom('messages').selectAll().where('id', '=', messageId).where('twilio_sid', 'is', null).where('direction', '=', 'outbound').executeTakeFirst();
  }
  if (!row || row.direction !== 'outbound' || rank(u.status) < rank(row.status)) return row;
  const now = isoNow();
  const failed = u.status === 'failed' || u.status === 'undelivered';
  return db.updateTable('messages').set({
    status: u.status, twilio_sid: sid, updated_at: now,
    ...(rank(u.status) >= 2 && !row.sent_at ? { sent_at: now } : {}),
    ...(u.status === 'delivered' || u.status === 'read' ? { delivered_at: row.delivered_at ?? now } : {}),
    ...(failed || u.errorCode !== null ? { error_code: u.errorCode, error_message: u.errorMessage } : {}),
  }).where('id', '=', row.id).returningAll().executeTakeFirst();
}

/** Messages waiting in the queue (for the system status). */
export async function countQueued(db: Db): Promise<number> {
  const r = await db.selectFrom('messages').select((eb) => eb.fn.countAll().as('n')).where('status', '=', 'queued').executeTakeFirstOrThrow();
  return Number(r.n);
}
