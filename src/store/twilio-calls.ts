/**
 * Twilio's view of calls that reached us through its voice webhooks (one row per CallSid):
 * status callbacks, recordings and transcriptions. Every write is an upsert, because Twilio
 * does not order its callbacks (a recording may be reported before the final status).
 */
import type { Updateable } from 'kysely';
import type { TwilioCallRow, TwilioCallsTable } from './schema.ts';
import { isoNow } from './time.ts';
import type { Db } from './db.ts';

export type TwilioCallPatch = Omit<Updateable<TwilioCallsTable>, 'call_sid' | 'created_at' | 'updated_at'>;

/** Creates the row of `callSid` or merges `patch` into it (only the fields given). */
export async function upsertTwilioCall(db: Db, callSid: string, patch: TwilioCallPatch): Promise<TwilioCallRow> {
  const now = isoNow();
  const set = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as TwilioCallPatch;
  return db.insertInto('twilio_calls')
    .values({ call_sid: callSid, status: 'unknown', ...set, created_at: now, updated_at: now } as TwilioCallRow)
    .onConflict((oc) => oc.column('call_sid').doUpdateSet({ ...set, updated_at: now }))
    .returningAll().executeTakeFirstOrThrow();
}

export async function findTwilioCall(db: Db, callSid: string): Promise<TwilioCallRow | undefined> {
  return db.selectFrom('twilio_calls').selectAll().where('call_sid', '=', callSid).executeTakeFirst();
}
