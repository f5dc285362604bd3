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

/**
 * Twilio's rows of the given CallSids (nulls skipped), by CallSid: CDRs and voicemails carry
 * the CallSid and show Twilio's side joined on read, so a callback that arrives before the
 * CDR or the voicemail row exists (the call is still up) is shown as soon as they are.
 */
export async function twilioCallsBySid(db: Db, sids: ReadonlyArray<string | null>): Promise<Map<string, TwilioCallRow>> {
  const wanted = [...new Set(sids.filter((s): s is string => s !== null))];
  if (wanted.length === 0) return new Map();
  const rows = await db.selectFrom('twilio_calls').selectAll().where('call_sid', 'in', wanted).execute();
  return new Map(rows.map((r) => [r.call_sid, r]));
}
