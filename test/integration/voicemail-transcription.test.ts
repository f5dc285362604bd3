/**
 * Issue 11, transcription: a stored message (a WAV spoken by espeak-ng, as a caller would leave
 * it) is transcribed by the local engine (Debian pocketsphinx) and the row gets the text, the
 * state and the engine's name; an engine that cannot run leaves `failed` and the message;
 * the `none` engine leaves the row alone. Through the event the voicemail code announces
 * (`pbx.voicemail.changed` added) as well as through the direct hook.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import pino from 'pino';
import { ENGINES, type TestDatabase } from '../helpers/databases.ts';
import { openVoicemailStore, speechWav } from '../helpers/voicemail-store.ts';
import type { Store } from '../../src/store/database.ts';
import { findVoicemail, insertVoicemail, setVoicemailTranscription } from '../../src/store/voicemails.ts';
import { createEventBus } from '../../src/events.ts';
import { createPocketsphinxEngine, createTranscriptionEngine, wordErrorRate } from '../../src/integrations/transcription/index.ts';
import { VoicemailTranscriber } from '../../src/pbx/voicemail/voicemail-transcriber.ts';

// Installed by .ci/run; `spawnSync` reports ENOENT when it is not (its -h exits non-zero anyway).
const hasPocketsphinx = spawnSync('pocketsphinx_continuous', ['-h'], { stdio: 'ignore' }).error === undefined;
const SENTENCE = 'thank you for your order';
const log = pino({ level: 'silent' });

for (const engine of ENGINES) {
  describe(`voicemail transcription (${engine})`, () => {
    let tdb: TestDatabase;
    let store: Store;
    let media: string;
    const audioPath = (row: { file_path: string }) => path.join(media, row.file_path);
    const stored = (file: string) => insertVoicemail(store.db, { mailbox: { kind: 'device', id: 1 }, callerNumber: '+15550001111', called: '1001', durationSeconds: 2, filePath: file, size: 1, format: 'wav' });

    before(async () => {
      ({ tdb, store, media } = await openVoicemailStore(engine));
      // What a G.722 / wideband message holds: 16 kHz 16-bit mono.
      speechWav(media, 'm16.wav', SENTENCE, 16000);
    });
    after(async () => {
      await store?.close();
      await tdb?.cleanup();
    });

    test('pocketsphinx: the row gets the text, state done and the engine, after the added event', { skip: hasPocketsphinx ? false : 'pocketsphinx not installed' }, async () => {
      const events = createEventBus();
      const t = new VoicemailTranscriber({ db: store.db, engine: createTranscriptionEngine('pocketsphinx'), audioPath, logger: log });
      t.listen(events);
      const row = await stored('voicemail/m16.wav');
      assert.equal(row.transcription_state, 'none');
      events.emit('pbx.voicemail.changed', { mailbox: row.mailbox, device_id: 1, did_id: null, voicemail_id: row.id, reason: 'added' });
      // The event starts it; the direct hook queues behind it and resolves after both.
      assert.equal(await t.transcribe(row), 'done');
      const after = (await findVoicemail(store.db, row.id))!;
      assert.equal(after.transcription_state, 'done');
      assert.equal(after.transcription_engine, 'pocketsphinx');
      assert.ok(after.transcription && after.transcription.length > 0, 'no text');
      // Synthetic speech is hard for this model (docs/TRANSCRIPTION.md): at least some words right.
      assert.ok(wordErrorRate(SENTENCE, after.transcription!) < 1, `"${after.transcription}"`);
      t.close();
    });

    test('an engine that cannot run leaves the message with state failed', async () => {
      const t = new VoicemailTranscriber({ db: store.db, engine: createPocketsphinxEngine({ binary: '/nonexistent/pocketsphinx' }), audioPath, logger: log });
      const row = await stored('voicemail/m16.wav');
      assert.equal(await t.transcribe(row), 'failed');
      const after = (await findVoicemail(store.db, row.id))!;
      assert.equal(after.transcription_state, 'failed');
      assert.equal(after.transcription_engine, 'pocketsphinx');
      assert.equal(after.transcription, null);
      // A missing audio file fails the same way, it does not throw.
      const gone = await stored('voicemail/missing.wav');
      const t2 = new VoicemailTranscriber({ db: store.db, engine: createTranscriptionEngine('pocketsphinx'), audioPath, logger: log });
      assert.equal(await t2.transcribe(gone), 'failed');
    });

    test('messages a restart left pending are transcribed by resume()', async () => {
      const row = await stored('voicemail/missing.wav');
      await setVoicemailTranscription(store.db, row.id, { state: 'pending', engine: 'pocketsphinx' });
      const t = new VoicemailTranscriber({ db: store.db, engine: createPocketsphinxEngine({ binary: '/nonexistent' }), audioPath, logger: log });
      assert.equal(await t.resume(), 1);
      assert.equal((await findVoicemail(store.db, row.id))!.transcription_state, 'failed');
      assert.equal(await t.resume(), 0);
    });

    test('the none engine leaves rows untouched; a deleted message is reported as such', async () => {
      const t = new VoicemailTranscriber({ db: store.db, engine: createTranscriptionEngine('none'), audioPath, logger: log });
      assert.equal(t.enabled, false);
      const row = await stored('voicemail/m16.wav');
      assert.equal(await t.transcribe(row), 'none');
      assert.equal((await findVoicemail(store.db, row.id))!.transcription_state, 'none');
      const broken = new VoicemailTranscriber({ db: store.db, engine: createPocketsphinxEngine({ binary: '/nonexistent' }), audioPath, logger: log });
      assert.equal(await broken.transcribe({ id: 999_999, file_path: 'voicemail/m16.wav' }), 'deleted');
    });
  });
}
