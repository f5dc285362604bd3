/**
 * Record gateway end to end (seed 001): a room with a tone player and a speaking player; a
 * Record gateway with `transcript` and `recipientMail` — `/gateway/status` shows recording time
 * growing; stop answers `finalising`, then `stopped`; the WAV holds the room's tone; pocketsphinx
 * transcribed the speech; the mail (WAV attached, transcript in the body) reaches a local SMTP
 * server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts';
import { goertzelPower, readWavPcm } from '../helpers/audio-analysis.ts';

const hasPocketsphinx = existsSync('/usr/bin/pocketsphinx_continuous');

describe('Record gateway: transcript and mail', { skip: hasPocketsphinx ? false : 'pocketsphinx not installed' }, () => {
  let t: TestServer;
  let smtp: SmtpSink;
  let key: string;
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(t.baseUrl + path, {
      method, headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() as any };
  };

  before(async () => {
    smtp = await startSmtpSink();
    t = await startTestServer('sqlite', { STROWGER_TRANSCRIPTION_ENGINE: 'pocketsphinx' });
    key = (await t.request('POST', '/api/keys', { cookie: t.adminCookie, body: { name: 'gw', scopes: ['gateway'] } })).body.key;
    const cfg = await t.request('PUT', '/api/system/config', { cookie: t.adminCookie, body: { smtp_host: '127.0.0.1', smtp_port: smtp.port, smtp_from: 'pbx@strowger.test' } });
    assert.equal(cfg.status, 200, JSON.stringify(cfg.body));
  });
  after(async () => {
    await t?.close();
    await smtp?.close();
  });

  test('status grows, stop finalises, the WAV holds the tone, the mail arrives with the transcript', async () => {
    const { media, rooms } = t.server.ctx;
    const room = rooms!.open('board');
    const speech = join(t.config.dataDir, 'speech.wav');
    execFileSync('espeak-ng', ['-v', 'en-us', '-s', '140', '-w', speech, 'please call me back tomorrow']);
    const tone = await media!.createPlayer({ group: room.group, source: { tone: { frequencies: [440], levelDb: -24 } }, loop: true });
    await room.join({ kind: 'player', displayName: 'tone', endpoint: tone.id, hears: false });

    const start = await api('POST', '/gateway/start', {
      type: 'Record', room: 'board', gw_id: 'minutes', webrtc_domain: { local: { name: 'Strowger', domain: 'strowger.test' } },
      transcript: true, recipientMail: 'boss@example.test', audioOnly: true,
    });
    assert.deepEqual(start, { status: 200, body: { gw_id: 'minutes', processing_state: 'running', task: 'record_transcript', room: 'board' } });
    const voice = await media!.createPlayer({ group: room.group, source: { file: speech }, loop: false });
    await room.join({ kind: 'player', displayName: 'speaker', endpoint: voice.id, hears: false });

    const first = (await api('GET', '/gateway/status?gw_id=minutes')).body;
    await sleep(3200);
    const later = (await api('GET', '/gateway/status?gw_id=minutes')).body;
    assert.equal(later.processing_state, 'running');
    assert.ok(later.recording_time >= first.recording_time + 3, `recording time grows: ${first.recording_time} -> ${later.recording_time}`);
    assert.equal(later.transcript_progress, 0);
    assert.deepEqual(later.participants.map((p: any) => p.kind).sort(), ['player', 'player', 'recorder']);

    const stop = await api('POST', '/gateway/stop', { gw_id: 'minutes' });
    assert.deepEqual(stop, { status: 200, body: { gw_id: 'minutes', processing_state: 'finalising', task: 'record_transcript', room: 'board' } });
    assert.equal((await api('POST', '/gateway/stop', { gw_id: 'minutes' })).body.processing_state, 'finalising', 'stop is idempotent');
    const mail = await smtp.next('boss@example.test');
    let final: any;
    for (let i = 0; i < 100; i++) {
      final = (await api('GET', '/gateway/status?gw_id=minutes')).body;
      if (final.processing_state !== 'finalising') break;
      await sleep(100);
    }
    assert.equal(final.processing_state, 'stopped', JSON.stringify(final));
    assert.equal(final.transcript_progress, 100);
    assert.equal(final.details.mailed, true);
    assert.deepEqual(final.participants, []);
    assert.ok(!room.participants().some((p) => p.kind === 'recorder'), 'the recorder left the room');

    const row = await t.server.ctx.store.db.selectFrom('gateways').selectAll().where('gw_id', '=', 'minutes').executeTakeFirstOrThrow();
    assert.equal(row.state, 'stopped');
    assert.ok(row.recording_seconds! >= 3);
    const wav = readWavPcm(row.recording_path!);
    assert.equal(wav.sampleRate, 16000);
    assert.ok(wav.samples.length >= 3 * 16000, `${wav.samples.length} samples`);
    const at440 = goertzelPower(wav.samples, wav.sampleRate, 440, { window: 'hann' });
    const at1300 = goertzelPower(wav.samples, wav.sampleRate, 1300, { window: 'hann' });
    assert.ok(at440 > 50 * at1300, `the recording holds the room's 440 Hz tone: ${at440} vs ${at1300}`);
    const words = (row.transcript ?? '').split(' ');
    assert.ok(['call', 'back', 'tomorrow', 'please'].some((w) => words.includes(w)), `transcript of the speech: "${row.transcript}"`);

    assert.match(mail.raw, /Subject: Recording of room board \(\d+ s\)/);
    assert.ok(mail.raw.includes(`Transcription:\r\n${row.transcript}`) || mail.raw.includes(`Transcription:\n${row.transcript}`), mail.raw.slice(0, 2000));
    assert.match(mail.raw, /Content-Type: audio\/wav; name=.*minutes\.wav/);
    assert.match(mail.raw, /UklGR/, 'the attachment is a RIFF file (base64)');
    const events = await t.server.ctx.store.db.selectFrom('gateway_events').select('event').where('gateway_id', '=', row.id).orderBy('id').execute();
    assert.deepEqual(events.map((e) => e.event), ['running', 'finalising', 'stopped']);
    await media!.releaseLeg(tone.id);
    await media!.releaseLeg(voice.id);
  });
});
