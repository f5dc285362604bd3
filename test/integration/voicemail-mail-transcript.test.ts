/**
 * Issue 11, the voicemail mail carries the transcript: with an engine (Debian pocketsphinx, on
 * an espeak-ng WAV) the mail waits for the transcription and its body holds the row's text; a
 * failed transcription or one that does not come within the wait says `Transcription:
 * unavailable`; an outbox entry left waiting by a stopped process is sent with the text once the
 * next process's transcriber resumes it; with no engine the mail goes at once. Mails go to a local
 * SMTP server (`smtp-server`), the mailer and transcriber are wired as in `src/server.ts`.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pino from 'pino';
import { ENGINES } from '../helpers/databases.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts';
import { openVoicemailStore, speechWav, type VoicemailStore } from '../helpers/voicemail-store.ts';
import { eventually } from './call-fixtures.ts';
import { findVoicemail, insertVoicemail } from '../../src/store/voicemails.ts';
import { setConfigValues, SECRET_CONFIG_KEYS } from '../../src/store/system-config.ts';
import { createSecretBox } from '../../src/store/secret-box.ts';
import { createEventBus, type EventBus } from '../../src/events.ts';
import { createPocketsphinxEngine, createTranscriptionEngine, type TranscriptionEngine } from '../../src/integrations/transcription/index.ts';
import { VoicemailMailer } from '../../src/pbx/voicemail/voicemail-mailer.ts';
import { VoicemailTranscriber } from '../../src/pbx/voicemail/voicemail-transcriber.ts';
import type { TranscriptionState } from '../../src/store/voicemails.ts';

const hasPocketsphinx = spawnSync('pocketsphinx_continuous', ['-h'], { stdio: 'ignore' }).error === undefined;
const log = pino({ level: 'silent' });

/** The text part of a raw mail, quoted-printable decoded. */
function bodyText(raw: string): string {
  return raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

for (const engine of ENGINES) {
  describe(`voicemail mail with the transcript (${engine})`, () => {
    let vs: VoicemailStore;
    let store: VoicemailStore['store'];
    let smtp: SmtpSink;
    let media: string;
    let speech: string;
    const box = createSecretBox(randomBytes(32));
    /** The text of the first mail to `to`, quoted-printable decoded. */
    const next = async (to: string) => bodyText((await smtp.next(to)).raw);
    const audioPath = (row: { file_path: string }) => path.join(media, row.file_path);
    const closers: Array<() => unknown> = [];

    const deposit = (to: string, state: TranscriptionState = 'none') => insertVoicemail(store.db, {
      mailbox: { kind: 'device', id: 1 }, callerNumber: '+15550001111', called: '1001', durationSeconds: 2,
      filePath: speech, size: 1, format: 'wav', mailTo: to, transcriptionState: state,
    });
    /** Mailer and transcriber wired as the server does (the mailer listens first). */
    const wire = (o: { engine: TranscriptionEngine; waitMs: number; events?: EventBus }) => {
      const events = o.events ?? createEventBus();
      const mailer = new VoicemailMailer({ db: store.db, box, events, logger: log, audioPath, retryMs: 1000, maxAttempts: 3, transcriptWaitMs: o.engine.name === 'none' ? 0 : o.waitMs });
      const transcriber = new VoicemailTranscriber({ db: store.db, engine: o.engine, audioPath, logger: log, settled: (id) => void mailer.transcriptionSettled(id) });
      transcriber.listen(events);
      closers.push(() => transcriber.close(), () => mailer.close());
      return { events, mailer, transcriber };
    };
    /** The row once the mailer recorded the mail as sent (after the SMTP server's answer). */
    const sentRow = (id: number) => eventually('mail_state sent', async () => {
      const row = await findVoicemail(store.db, id);
      return row?.mail_state === 'sent' ? row : undefined;
    });
    const added = (events: EventBus, id: number) => events.emit('pbx.voicemail.changed', { mailbox: 'device:1', device_id: 1, did_id: null, voicemail_id: id, reason: 'added' });

    before(async () => {
      vs = await openVoicemailStore(engine);
      ({ store, media } = vs);
      speech = speechWav(media, 'speech.wav', 'please call me back tomorrow', 8000);
      smtp = await startSmtpSink();
      await setConfigValues(store.db, box, { smtp_host: '127.0.0.1', smtp_port: String(smtp.port), smtp_from: 'pbx@strowger.test' }, SECRET_CONFIG_KEYS);
    });
    // One mailer at a time: two on one outbox are two nodes, and each would send every entry.
    afterEach(async () => {
      for (const c of closers.splice(0)) await c();
      const to = smtp.mails.flatMap((m) => m.to);
      assert.equal(new Set(to).size, to.length, `one mail per message: ${to.join(', ')}`);
    });
    after(async () => {
      await smtp?.close();
      await vs?.close();
    });

    test('pocketsphinx: the mail waits for the transcription and carries the row\'s text', { skip: hasPocketsphinx ? false : 'pocketsphinx not installed' }, async () => {
      const { events } = wire({ engine: createTranscriptionEngine('pocketsphinx'), waitMs: 60_000 });
      const row = await deposit('a@example.test');
      added(events, row.id);
      const raw = await next('a@example.test');
      const after = await sentRow(row.id);
      assert.equal(after.transcription_state, 'done', 'mailed only once transcribed');
      assert.ok(after.transcription, 'pocketsphinx recognised some words');
      assert.ok(raw.includes(`Transcription:\r\n${after.transcription}`) || raw.includes(`Transcription:\n${after.transcription}`), raw);
      assert.match(raw, /filename="?voicemail-\d+\.wav/);
    });

    test('after a restart: an entry left waiting on a pending transcription is mailed with the text once it is resumed', { skip: hasPocketsphinx ? false : 'pocketsphinx not installed' }, async () => {
      // The first process marked the message pending, deferred its mail and stopped.
      const row = await deposit('b@example.test', 'pending');
      const first = new VoicemailMailer({ db: store.db, box, events: createEventBus(), logger: log, audioPath, retryMs: 1000, maxAttempts: 3, transcriptWaitMs: 60_000 });
      await first.kick();
      await first.close();
      const outbox = await store.db.selectFrom('voicemail_mail_outbox').selectAll().where('voicemail_id', '=', row.id).executeTakeFirstOrThrow();
      assert.ok(Date.parse(outbox.next_attempt_at) > Date.now() + 50_000, 'deferred for the wait');
      assert.equal(outbox.attempts, 0, 'no attempt counted');
      assert.equal(smtp.mails.some((m) => m.to.includes('b@example.test')), false);
      // The next process: its mailer sees the entry, its transcriber resumes the pending row.
      const { mailer, transcriber } = wire({ engine: createTranscriptionEngine('pocketsphinx'), waitMs: 60_000 });
      void mailer.kick();
      assert.equal(await transcriber.resume(), 1);
      const raw = await next('b@example.test');
      const after = await sentRow(row.id);
      assert.ok(after.transcription && raw.includes(after.transcription), raw);
    });

    test('a failed transcription: the mail goes at once with "Transcription: unavailable"', async () => {
      const { events } = wire({ engine: createPocketsphinxEngine({ binary: '/nonexistent/pocketsphinx' }), waitMs: 60_000 });
      const started = Date.now();
      const row = await deposit('c@example.test');
      added(events, row.id);
      const raw = await next('c@example.test');
      assert.ok(Date.now() - started < 30_000, 'did not wait for the bound');
      assert.match(raw, /Transcription: unavailable/);
      assert.equal((await findVoicemail(store.db, row.id))!.transcription_state, 'failed');
    });

    test('no transcript within the wait: the mail goes at the bound with "Transcription: unavailable"', async () => {
      // An engine configured whose transcriber never runs (e.g. stuck behind a long message).
      const mailer = new VoicemailMailer({ db: store.db, box, events: createEventBus(), logger: log, audioPath, retryMs: 1000, maxAttempts: 3, transcriptWaitMs: 400 });
      closers.push(() => mailer.close());
      const row = await deposit('d@example.test', 'pending');
      await mailer.kick();
      assert.equal(smtp.mails.some((m) => m.to.includes('d@example.test')), false, 'waits first');
      const raw = await next('d@example.test');
      assert.match(raw, /Transcription: unavailable/);
      await sentRow(row.id);
    });

    test('engine none: the mail goes at once, without a transcription line', async () => {
      const { events } = wire({ engine: createTranscriptionEngine('none'), waitMs: 60_000 });
      const row = await deposit('e@example.test');
      added(events, row.id);
      const raw = await next('e@example.test');
      assert.doesNotMatch(raw, /Transcription/);
      assert.equal((await sentRow(row.id)).transcription_state, 'none');
    });
  });
}
