/**
 * Hook deliveries of the call gateway (`hooks_outbox`). A row is `pending` until delivered
 * or out of attempts (`failed`). A deliverer leases due rows by moving `next_attempt_at`
 * forward with a conditional UPDATE (as the SMS queue does), so a crash mid-delivery lets
 * the lease expire and the row is tried again (at least once). Per-call order: a row is due
 * only while no earlier (`seq`) row of its call is pending.
 */
import type { Db } from './db.ts';
import type { HookOutboxRow } from './schema-call-gateway.ts';
import { inTransaction } from './in-transaction.ts';
import { isoNow } from './time.ts';

export type { HookOutboxRow };

export interface NewHook {
  call_id: string;
  app_id: string;
  url: string;
  content_type: string;
  event: string;
  payload: string;
}

/** Queues a delivery after every earlier one of its call; due at once. */
export async function enqueueHook(db: Db, h: NewHook): Promise<HookOutboxRow> {
  return inTransaction(db, async (tx) => {
    const last = await tx.selectFrom('hooks_outbox').select((eb) => eb.fn.max('seq').as('seq')).where('call_id', '=', h.call_id).executeTakeFirst();
    const now = isoNow();
    return tx.insertInto('hooks_outbox').values({
      ...h, seq: Number(last?.seq ?? 0) + 1, status: 'pending', attempts: 0, next_attempt_at: now, created_at: now,
    }).returningAll().executeTakeFirstOrThrow();
  });
}

/** Claims up to `limit` due rows (heads of their call) until `leaseUntil`; only rows won are returned. */
export async function claimDueHooks(db: Db, now: string, leaseUntil: string, limit: number): Promise<HookOutboxRow[]> {
  const due = await db.selectFrom('hooks_outbox as h').select(['h.id', 'h.next_attempt_at'])
    .where('h.status', '=', 'pending').where('h.next_attempt_at', '<=', now)
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('hooks_outbox as e').select('e.id')
      .whereRef('e.call_id', '=', 'h.call_id').whereRef('e.seq', '<', 'h.seq').where('e.status', '=', 'pending'))))
    .orderBy('h.next_attempt_at').orderBy('h.id').limit(limit).execute();
  const won: HookOutboxRow[] = [];
  for (const d of due) {
    const row = await db.updateTable('hooks_outbox').set({ next_attempt_at: leaseUntil })
      .where('id', '=', d.id).where('status', '=', 'pending').where('next_attempt_at', '=', d.next_attempt_at)
      .returningAll().executeTakeFirst();
    if (row) won.push(row);
  }
  return won;
}

/** When the earliest pending row is due (ISO), or null when none is pending. */
export async function nextHookDueAt(db: Db): Promise<string | null> {
  const r = await db.selectFrom('hooks_outbox').select((eb) => eb.fn.min('next_attempt_at').as('at')).where('status', '=', 'pending').executeTakeFirst();
  return (r?.at as string | null | undefined) ?? null;
}

export async function recordHookDelivered(db: Db, id: number, attempts: number): Promise<void> {
  const now = isoNow();
  await db.updateTable('hooks_outbox').set({ status: 'delivered', attempts, next_attempt_at: null, delivered_at: now, last_error: null }).where('id', '=', id).execute();
}

export async function recordHookRetry(db: Db, id: number, attempts: number, nextAt: string, error: string): Promise<void> {
  await db.updateTable('hooks_outbox').set({ attempts, next_attempt_at: nextAt, last_error: error }).where('id', '=', id).where('status', '=', 'pending').execute();
}

export async function recordHookFailed(db: Db, id: number, attempts: number, error: string): Promise<void> {
  await db.updateTable('hooks_outbox').set({ status: 'failed', attempts, next_attempt_at: null, last_error: error }).where('id', '=', id).execute();
}

export function listHooksOfCall(db: Db, callId: string): Promise<HookOutboxRow[]> {
  return db.selectFrom('hooks_outbox').selectAll().where('call_id', '=', callId).orderBy('seq').execute();
}
