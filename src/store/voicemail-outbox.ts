/**
 * The persistent queue of voicemail mails (`voicemail_mail_outbox`). A message that should be
 * mailed gets its entry in the transaction that stores it (`insertVoicemail`), so neither a
 * crash nor a failing SMTP server loses the mail: the sender takes due entries, and each
 * outcome is recorded here together with the state the API shows on the voicemail
 * (`mail_state`, `mail_error`).
 */
import type { VoicemailMailOutboxRow } from './schema.ts';
import { inTransaction } from './in-transaction.ts';
import { isoNow } from './time.ts';
import type { Db } from './db.ts';

/** Entries whose next attempt is due at `now`, oldest first. */
export async function dueMails(db: Db, now: number = Date.now(), limit = 20): Promise<VoicemailMailOutboxRow[]> {
  return db.selectFrom('voicemail_mail_outbox').selectAll().where('next_attempt_at', '<=', isoNow(now))
    .orderBy('next_attempt_at').orderBy('id').limit(limit).execute();
}

/** When the next entry falls due (ISO), undefined when the queue is empty. */
export async function nextMailDue(db: Db): Promise<string | undefined> {
  const r = await db.selectFrom('voicemail_mail_outbox').select((eb) => eb.fn.min('next_attempt_at').as('at')).executeTakeFirst();
  return r?.at ?? undefined;
}

/** The mail went out: the entry goes, the voicemail says `sent`. */
export async function mailSent(db: Db, entry: VoicemailMailOutboxRow): Promise<void> {
  await inTransaction(db, async (tx) => {
    await tx.deleteFrom('voicemail_mail_outbox').where('id', '=', entry.id).execute();
    await tx.updateTable('voicemails').set({ mail_state: 'sent', mail_error: null }).where('id', '=', entry.voicemail_id).execute();
  });
}

/**
 * An attempt failed: with `retryAt` the entry waits until then (the voicemail stays
 * `pending`, its `mail_error` says why); without it the mail is given up (`failed`).
 */
export async function mailFailed(db: Db, entry: VoicemailMailOutboxRow, error: string, retryAt: number | null): Promise<void> {
  const reason = error.slice(0, 500);
  await inTransaction(db, async (tx) => {
    if (retryAt === null) await tx.deleteFrom('voicemail_mail_outbox').where('id', '=', entry.id).execute();
    else {
      await tx.updateTable('voicemail_mail_outbox').set({ attempts: entry.attempts + 1, next_attempt_at: isoNow(retryAt), last_error: reason })
        .where('id', '=', entry.id).execute();
    }
    await tx.updateTable('voicemails').set({ mail_state: retryAt === null ? 'failed' : 'pending', mail_error: reason })
      .where('id', '=', entry.voicemail_id).execute();
  });
}

/**
 * Puts an entry off until `until` without counting an attempt, while its voicemail's transcript
 * is still to come (state `none` or `pending`), in one statement so a transcript stored meanwhile
 * is not missed.
 * @returns false when the transcript was there already (the entry stays due).
 */
export async function deferMailForTranscript(db: Db, entry: VoicemailMailOutboxRow, until: number): Promise<boolean> {
  const r = await db.updateTable('voicemail_mail_outbox').set({ next_attempt_at: isoNow(until) }).where('id', '=', entry.id)
    .where('voicemail_id', 'in', (eb) => eb.selectFrom('voicemails').select('id').where('transcription_state', 'in', ['none', 'pending']))
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/**
 * Makes a voicemail's deferred entry due now (its transcript is ready). Entries in retry after a
 * failed attempt keep their back-off.
 */
export async function mailDueNow(db: Db, voicemailId: number, now: number = Date.now()): Promise<void> {
  await db.updateTable('voicemail_mail_outbox').set({ next_attempt_at: isoNow(now) })
    .where('voicemail_id', '=', voicemailId).where('attempts', '=', 0).where('next_attempt_at', '>', isoNow(now)).execute();
}
