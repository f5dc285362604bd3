/**
 * Mails new voicemails (audio attached) through the SMTP server of the system settings
 * (`smtp_host`, `smtp_port`, `smtp_secure`, `smtp_user`, `smtp_password`, `smtp_from`).
 *
 * Works off the persistent outbox (src/store/voicemail-outbox.ts): woken when a message is
 * added and by a timer at the next due retry. A failed attempt is retried after
 * `retryMs`, doubling per attempt up to an hour, `maxAttempts` times in all; the state and last
 * error show on the voicemail in the API. One pass at a time, so a mail is never sent twice
 * by this node.
 *
 * With a transcription engine (`transcriptWaitMs` > 0) a mail waits for its message's
 * transcript, so the text goes in the body: an entry whose voicemail is not transcribed yet is
 * put off (no attempt counted) until `transcriptionSettled` makes it due, or until the wait
 * runs out, counted from the message's creation or from this mailer's start, whichever is
 * later — a restart re-transcribes what it left `pending` (VoicemailTranscriber.resume) and the
 * mail waits for that again rather than going out at once. A mail whose transcript failed or
 * did not come in time says `Transcription: unavailable`.
 */
import { readFile } from 'node:fs/promises';
import { smtpFromSettings } from '../../integrations/smtp/smtp-transport.ts';
import type { Logger } from 'pino';
import type { Db } from '../../store/db.ts';
import type { SecretBox } from '../../store/secret-box.ts';
import type { EventSource, VoicemailChanged } from '../../events.ts';
import { getConfigValues } from '../../store/system-config.ts';
import { findVoicemail } from '../../store/voicemails.ts';
import { deferMailForTranscript, dueMails, mailDueNow, mailFailed, mailSent, nextMailDue } from '../../store/voicemail-outbox.ts';
import type { VoicemailMailOutboxRow, VoicemailRow } from '../../store/schema.ts';

const MAX_DELAY_MS = 3600_000;

export interface VoicemailMailerOptions {
  db: Db;
  box: SecretBox;
  events: EventSource;
  logger: Logger;
  /** Absolute path of a message's audio. */
  audioPath(row: VoicemailRow): string;
  retryMs: number;
  maxAttempts: number;
  /** How long a mail waits for its transcript; 0 when no engine is configured (mail at once). */
  transcriptWaitMs?: number;
}

export class VoicemailMailer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private readonly startedAt = Date.now();
  private readonly log: Logger;
  private readonly onChanged = (e: VoicemailChanged) => { if (e.reason === 'added') this.kick(); };

  constructor(private readonly o: VoicemailMailerOptions) {
    this.log = o.logger.child({ component: 'voicemail-mail' });
    o.events.on('pbx.voicemail.changed', this.onChanged);
  }

  /** Sends what is due now (and what falls due while sending); resolves when the pass ends. */
  kick(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.running) { this.again = true; return this.running; }
    this.running = (async () => {
      do {
        this.again = false;
        await this.pass().catch((err: unknown) => this.log.error({ err }, 'voicemail mail pass failed'));
      } while (this.again && !this.closed);
      this.running = undefined;
      await this.schedule();
    })();
    return this.running;
  }

  /** A message's transcription ended (done or failed): its waiting mail goes now. */
  async transcriptionSettled(voicemailId: number): Promise<void> {
    if (this.closed || !this.o.transcriptWaitMs) return;
    await mailDueNow(this.o.db, voicemailId);
    await this.kick();
  }

  close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.o.events.off('pbx.voicemail.changed', this.onChanged);
    return this.running ?? Promise.resolve();
  }

  private async schedule(): Promise<void> {
    clearTimeout(this.timer);
    if (this.closed) return;
    const next = await nextMailDue(this.o.db).catch(() => undefined);
    if (next === undefined) return;
    const delay = Math.max(0, Math.min(Date.parse(next) - Date.now(), MAX_DELAY_MS));
    this.timer = setTimeout(() => void this.kick(), delay);
    this.timer.unref();
  }

  private async pass(): Promise<void> {
    for (const entry of await dueMails(this.o.db)) {
      if (this.closed) return;
      try {
        const row = await findVoicemail(this.o.db, entry.voicemail_id);
        if (!row) throw new Error('voicemail deleted');
        const waitUntil = this.transcriptDeadline(row);
        if (waitUntil !== null) {
          // Not deferred: the transcript came in since the row was read; the next round sends.
          if (!await deferMailForTranscript(this.o.db, entry, waitUntil)) this.again = true;
          continue;
        }
        await this.send(entry, row);
        await mailSent(this.o.db, entry);
        this.log.info({ voicemail: entry.voicemail_id, to: entry.recipient }, 'voicemail mailed');
      } catch (err) {
        const reason = (err as Error).message || String(err);
        const giveUp = entry.attempts + 1 >= this.o.maxAttempts;
        const retryAt = giveUp ? null : Date.now() + Math.min(this.o.retryMs * 2 ** entry.attempts, MAX_DELAY_MS);
        await mailFailed(this.o.db, entry, reason, retryAt);
        this.log.warn({ voicemail: entry.voicemail_id, attempt: entry.attempts + 1, giveUp, reason }, 'voicemail mail failed');
      }
    }
  }

  /** Until when `row`'s mail waits for its transcript; null to send now. */
  private transcriptDeadline(row: VoicemailRow): number | null {
    const wait = this.o.transcriptWaitMs ?? 0;
    // `none` too: the transcriber marks a new message `pending` after the mailer may have read it.
    if (wait <= 0 || (row.transcription_state !== 'pending' && row.transcription_state !== 'none')) return null;
    const until = Math.max(Date.parse(row.created_at), this.startedAt) + wait;
    return until > Date.now() ? until : null;
  }

  private async send(entry: VoicemailMailOutboxRow, row: VoicemailRow): Promise<void> {
    const { transport, from: sender } = smtpFromSettings(await getConfigValues(this.o.db, this.o.box), 'voicemail');
    try {
      const from = row.caller_name ? `${row.caller_name} (${row.caller_number})` : row.caller_number;
      await transport.sendMail({
        from: sender,
        to: entry.recipient,
        subject: `New voicemail from ${from} (${row.duration_seconds} s)`,
        text: `A new voicemail was left for ${row.called} by ${from} at ${row.created_at}, ${row.duration_seconds} seconds long.\n`
          + transcriptText(row, (this.o.transcriptWaitMs ?? 0) > 0),
        attachments: [{ filename: `voicemail-${row.id}.wav`, content: await readFile(this.o.audioPath(row)), contentType: 'audio/wav' }],
      });
    } finally {
      transport.close();
    }
  }
}

/** The body's transcript part: the text, or (with an engine configured) why there is none. */
function transcriptText(row: VoicemailRow, transcribing: boolean): string {
  if (row.transcription_state === 'done') return `\nTranscription:\n${row.transcription || '(no words recognised)'}\n`;
  if (row.transcription) return `\nTranscription:\n${row.transcription}\n`;
  return transcribing ? '\nTranscription: unavailable\n' : '';
}
