/**
 * Voicemail messages in the store.
 *
 * Mailbox model: a mailbox belongs to a device (`device:<id>`, the extension's own box) or to
 * a DID (`did:<id>`, a number's shared box). The key is one text column so that MWI counts
 * are one indexed GROUP BY; `device_id`/`did_id` repeat the id for ownership queries. A user
 * owns the mailboxes of the devices whose `user_id` is theirs; DIDs have no owner column yet,
 * so DID mailboxes are the admins' (see `mailboxesOwnedBy`).
 *
 * `read` 0 is a "new" message, 1 an "old" one (RFC 3842's Voice-Message: new/old).
 * These functions touch rows only: the audio file is the caller's (src/pbx/voicemail/),
 * and so is announcing `pbx.voicemail.changed` after the write commits.
 */
import type { Updateable } from 'kysely';
import type { VoicemailRow, VoicemailsTable } from './schema.ts';
import { inTransaction } from './in-transaction.ts';
import { isoNow } from './time.ts';
import type { Db } from './db.ts';

export const MAILBOX_KINDS = ['device', 'did'] as const;
export type MailboxKind = (typeof MAILBOX_KINDS)[number];

export interface MailboxRef {
  kind: MailboxKind;
  id: number;
}

export const TRANSCRIPTION_STATES = ['none', 'pending', 'done', 'failed'] as const;
export type TranscriptionState = (typeof TRANSCRIPTION_STATES)[number];

export const MAIL_STATES = ['none', 'pending', 'sent', 'failed'] as const;
export type MailState = (typeof MAIL_STATES)[number];

/** `device:3`, `did:7`. */
export function mailboxKey(ref: MailboxRef): string {
  return `${ref.kind}:${ref.id}`;
}

/** The inverse of {@link mailboxKey}; undefined for anything else. */
export function parseMailboxKey(key: string): MailboxRef | undefined {
  const m = /^(device|did):([1-9]\d{0,14})$/.exec(key);
  return m ? { kind: m[1] as MailboxKind, id: Number(m[2]) } : undefined;
}

export interface NewVoicemail {
  mailbox: MailboxRef;
  callId?: string | null;
  /** Twilio's CallSid of the call, when Twilio sent it (Twilio's callbacks find the message by it). */
  twilioCallSid?: string | null;
  callerNumber: string;
  callerName?: string | null;
  called: string;
  durationSeconds: number;
  /** Relative to `<data dir>/media`. */
  filePath: string;
  size: number;
  format: string;
  /** When set, the message is queued for mail to this address in the same transaction. */
  mailTo?: string | null;
  /** `pending` when a transcription engine will fill it in. */
  transcriptionState?: TranscriptionState;
}

/**
 * Stores a message (and its outbox entry when `mailTo` is given) in one transaction, so a
 * message that should be mailed is never stored without its queued mail.
 */
export async function insertVoicemail(db: Db, v: NewVoicemail, now: number = Date.now()): Promise<VoicemailRow> {
  const at = isoNow(now);
  return inTransaction(db, async (tx) => {
    const early = await twilioTranscriptionFor(tx, v);
    const row = await tx.insertInto('voicemails').values({
      mailbox: mailboxKey(v.mailbox),
      device_id: v.mailbox.kind === 'device' ? v.mailbox.id : null,
      did_id: v.mailbox.kind === 'did' ? v.mailbox.id : null,
      call_id: v.callId ?? null,
      twilio_call_sid: v.twilioCallSid ?? null,
      caller_number: v.callerNumber,
      caller_name: v.callerName ?? null,
      called: v.called,
      duration_seconds: v.durationSeconds,
      file_path: v.filePath,
      size: v.size,
      format: v.format,
      transcription_state: early ? 'done' : v.transcriptionState ?? 'none',
      transcription: early ?? null,
      transcription_engine: early ? 'twilio' : null,
      mail_state: v.mailTo ? 'pending' : 'none',
      created_at: at,
    }).returningAll().executeTakeFirstOrThrow();
    if (v.mailTo) {
      await tx.insertInto('voicemail_mail_outbox').values({ voicemail_id: row.id, recipient: v.mailTo, next_attempt_at: at, created_at: at }).execute();
    }
    return row;
  });
}

/**
 * Twilio's transcription of the message's call when it came before the message was stored
 * (see {@link applyTwilioTranscription}); none when a local engine will transcribe (`pending`).
 */
async function twilioTranscriptionFor(db: Db, v: NewVoicemail): Promise<string | undefined> {
  if (!v.twilioCallSid || v.transcriptionState === 'pending') return undefined;
  const row = await db.selectFrom('twilio_calls').select(['transcription_text', 'transcription_status'])
    .where('call_sid', '=', v.twilioCallSid).executeTakeFirst();
  return row?.transcription_text && row.transcription_status !== 'failed' ? row.transcription_text : undefined;
}

export async function findVoicemail(db: Db, id: number): Promise<VoicemailRow | undefined> {
  return db.selectFrom('voicemails').selectAll().where('id', '=', id).executeTakeFirst();
}

export interface VoicemailFilter {
  /** true: old (read) only, false: new only, undefined: both. */
  read?: boolean;
  /** Only these mailbox keys; undefined means every mailbox (admins). */
  mailboxes?: readonly string[];
  limit: number;
  offset: number;
}

/** Newest first. */
export async function listVoicemails(db: Db, f: VoicemailFilter): Promise<{ rows: VoicemailRow[]; total: number }> {
  if (f.mailboxes !== undefined && f.mailboxes.length === 0) return { rows: [], total: 0 };
  let q = db.selectFrom('voicemails');
  if (f.read !== undefined) q = q.where('read', '=', f.read ? 1 : 0);
  if (f.mailboxes !== undefined) q = q.where('mailbox', 'in', [...f.mailboxes]);
  const [rows, count] = await Promise.all([
    q.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(f.limit).offset(f.offset).execute(),
    q.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n) };
}

/** Marks a message read (or new again); returns the row, undefined when there is none. */
export async function markVoicemailRead(db: Db, id: number, read = true, now: number = Date.now()): Promise<VoicemailRow | undefined> {
  const set: Updateable<VoicemailsTable> = read ? { read: 1, read_at: isoNow(now) } : { read: 0, read_at: null };
  return db.updateTable('voicemails').set(set).where('id', '=', id).returningAll().executeTakeFirst();
}

/**
 * Removes a message's row (its queued mail goes with it); returns the removed row so the
 * caller can delete the file, undefined when it was already gone.
 */
export async function deleteVoicemail(db: Db, id: number): Promise<VoicemailRow | undefined> {
  return inTransaction(db, async (tx) => {
    await tx.deleteFrom('voicemail_mail_outbox').where('voicemail_id', '=', id).execute();
    return tx.deleteFrom('voicemails').where('id', '=', id).returningAll().executeTakeFirst();
  });
}

export interface MailboxCounts {
  /** Unread messages. */
  new: number;
  /** Read messages still stored. */
  old: number;
}

/** New and old counts of one mailbox (0/0 for a mailbox with no message). */
export async function countsByMailbox(db: Db, mailbox: string): Promise<MailboxCounts> {
  const rows = await db.selectFrom('voicemails').select((eb) => ['read', eb.fn.countAll().as('n')])
    .where('mailbox', '=', mailbox).groupBy('read').execute();
  const counts: MailboxCounts = { new: 0, old: 0 };
  for (const r of rows) counts[Number(r.read) === 1 ? 'old' : 'new'] += Number(r.n);
  return counts;
}

export interface MailboxSummary extends MailboxCounts {
  mailbox: string;
  kind: MailboxKind;
  id: number;
}

/** Every mailbox that holds at least one message, with its counts, in key order. */
export async function listMailboxCounts(db: Db): Promise<MailboxSummary[]> {
  const rows = await db.selectFrom('voicemails').select((eb) => ['mailbox', 'read', eb.fn.countAll().as('n')])
    .groupBy(['mailbox', 'read']).orderBy('mailbox').execute();
  const out = new Map<string, MailboxSummary>();
  for (const r of rows) {
    const ref = parseMailboxKey(r.mailbox);
    if (!ref) continue;
    const s = out.get(r.mailbox) ?? { mailbox: r.mailbox, kind: ref.kind, id: ref.id, new: 0, old: 0 };
    s[Number(r.read) === 1 ? 'old' : 'new'] += Number(r.n);
    out.set(r.mailbox, s);
  }
  return [...out.values()];
}

/** Mailbox keys a (non-admin) user may see: those of the devices they own. */
export async function mailboxesOwnedBy(db: Db, userId: number): Promise<string[]> {
  const rows = await db.selectFrom('devices').select('id').where('user_id', '=', userId).execute();
  return rows.map((r) => mailboxKey({ kind: 'device', id: r.id }));
}

export interface TranscriptionUpdate {
  state: TranscriptionState;
  text?: string | null;
  engine?: string | null;
}

/** Records a transcription's outcome; undefined when the message is gone meanwhile. */
export async function setVoicemailTranscription(db: Db, id: number, t: TranscriptionUpdate): Promise<VoicemailRow | undefined> {
  const set: Updateable<VoicemailsTable> = { transcription_state: t.state };
  if (t.text !== undefined) set.transcription = t.text;
  if (t.engine !== undefined) set.transcription_engine = t.engine;
  return db.updateTable('voicemails').set(set).where('id', '=', id).returningAll().executeTakeFirst();
}

/** Every stored message's file path (the start-up sweep keeps exactly these files). */
export async function voicemailFilePaths(db: Db): Promise<Set<string>> {
  const rows = await db.selectFrom('voicemails').select('file_path').execute();
  return new Set(rows.map((r) => r.file_path));
}

/**
 * Twilio's transcription of the call `callSid` becomes the text of the voicemails that call
 * left, unless a local engine already produced theirs: a row `done` by another engine keeps
 * its text; a row still `pending` takes Twilio's now and the local engine's result, when it
 * comes, replaces it (a local engine wins). Returns the rows changed.
 */
export async function applyTwilioTranscription(db: Db, callSid: string, text: string): Promise<VoicemailRow[]> {
  return db.updateTable('voicemails')
    .set({ transcription: text, transcription_state: 'done', transcription_engine: 'twilio' })
    .where('twilio_call_sid', '=', callSid)
    .where((eb) => eb.or([
      eb('transcription_state', '!=', 'done'),
      eb('transcription_engine', 'is', null),
      eb('transcription_engine', '=', 'twilio'),
    ]))
    .returningAll().execute();
}
