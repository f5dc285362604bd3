/**
 * Issue 11 acceptance, voicemail calls with real components on loopback: a sipp caller plays
 * a PCMU pcap of a 600 Hz tone into a mailbox (route action `voicemail`, and the busy and
 * no-answer fallbacks); the stored WAV must hold that tone; the mail reaches a local SMTP
 * server (`smtp-server`) that fails the first attempt, so the retry path runs and the mail
 * arrives once; the owner's `*97` menu plays and deletes a message with INFO keys.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestServer } from '../helpers/server.ts';
import { runSipp, type SippServer } from '../helpers/sipp.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts';
import { ulawFrames, writeRtpPcap } from '../helpers/rtp-pcap.ts';
import { dominantFrequency, makeTone, readWavPcm } from '../helpers/audio-analysis.ts';
import { api, assertIdle, device, deviceCall, did, eventually, inboundTrunk, registeredUas, route, startCallServer, trunkCall } from './call-fixtures.ts';

const TONE_HZ = 600;


describe('voicemail calls (sipp, pcap tone, SMTP)', () => {
  let t: TestServer;
  let smtp: SmtpSink;
  let dir: string;
  let refusals = 0;
  const uases: SippServer[] = [];
  let alice: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strowger-vm-'));
    writeRtpPcap(join(dir, 'tone.pcap'), ulawFrames(makeTone({ freq: TONE_HZ, seconds: 2, rate: 8000, amplitude: 0.3 })), { payloadType: 0 });
    // The first mail is refused (a transient 451): the outbox must retry it.
    smtp = await startSmtpSink(() => refusals === 0 && ++refusals === 1);
    t = await startCallServer(23800, { STROWGER_VOICEMAIL_MIN_SECONDS: '1', STROWGER_VOICEMAIL_MAIL_RETRY_SECONDS: '1' });
    await api(t, 'PUT', '/api/system/config', { smtp_host: '127.0.0.1', smtp_port: smtp.port, smtp_from: 'pbx@strowger.test' });
    await inboundTrunk(t);
    alice = await device(t, '1001');
    await api(t, 'PUT', `/api/devices/${alice}`, { voicemail_email: 'alice@example.test' });
  });
  after(async () => {
    for (const u of uases) await u.stop();
    await t?.close();
    await smtp?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => assertIdle(t));

  const leaveMessage = async (dialed: string) => {
    const r = await runSipp(trunkCall(t, dialed, '+15550100100', { scenario: 'uac-voicemail.xml', cwd: dir, timeoutMs: 30000 }));
    assert.equal(r.stats.successful, 1, `${r.errors}\n${r.messages?.slice(-3000)}`);
  };
  const messagesOf = async (mailbox: string) => (await api(t, 'GET', '/api/voicemails?limit=100')).data.filter((v: any) => v.mailbox === mailbox);

  test('route action voicemail: the tone is stored, the mail with the audio arrives once after a refused attempt', async () => {
    const didId = await did(t, '+15551250001');
    await route(t, didId, { action: 'voicemail', action_data: { device_id: alice } });
    await leaveMessage('+15551250001');

    const [vm] = await messagesOf(`device:${alice}`);
    assert.ok(vm, 'a message in the device mailbox');
    assert.equal(vm.caller_id, '+15550100100');
    assert.equal(vm.called, '+15551250001');
    assert.equal(vm.is_read, false);
    assert.equal(vm.format, 'wav');
    const file = t.server.ctx.voicemail!.absolutePath(await t.server.ctx.store.db.selectFrom('voicemails').select('file_path').where('id', '=', vm.id).executeTakeFirstOrThrow());
    assert.equal(statSync(file).size, vm.size);
    const wav = readWavPcm(file);
    assert.equal(wav.sampleRate, 8000);
    const seconds = wav.samples.length / wav.sampleRate;
    assert.ok(seconds >= 1.5 && seconds <= 3.6, `recorded ${seconds} s`);
    assert.ok(vm.duration >= 1 && vm.duration <= 4, `duration ${vm.duration}`);
    const freq = dominantFrequency(wav.samples, wav.sampleRate, { min: 300, max: 2000, step: 10 });
    assert.ok(Math.abs(freq - TONE_HZ) <= 20, `dominant ${freq} Hz`);

    const sent = await eventually('the mail after a retry', async () => {
      const v = await api(t, 'GET', `/api/voicemails/${vm.id}`);
      return v.mail_state === 'sent' ? v : undefined;
    }, 15000);
    assert.equal(sent.mail_error, null);
    assert.equal(refusals, 1);
    assert.equal(smtp.mails.length, 1);
    assert.deepEqual(smtp.mails[0]!.to, ['alice@example.test']);
    assert.match(smtp.mails[0]!.raw, /Content-Type: audio\/wav/i);
    assert.match(smtp.mails[0]!.raw, new RegExp(`filename="?voicemail-${vm.id}\\.wav`));
    assert.match(smtp.mails[0]!.raw, /Subject: New voicemail from \+15550100100/);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(smtp.mails.length, 1, 'mailed once');
  });

  test('a caller who hangs up during the greeting leaves no message and no file', async () => {
    const didId = await did(t, '+15551250004');
    await route(t, didId, { action: 'voicemail', action_data: {} });
    const r = await runSipp(trunkCall(t, '+15551250004', '+15550100100', { pauseMs: 1500 }));
    assert.equal(r.stats.successful, 1, `${r.errors}\n${r.messages?.slice(-3000)}`);
    await assertIdle(t);
    assert.deepEqual(await messagesOf(`did:${didId}`), []);
    const tmp = join(t.config.dataDir, 'tmp');
    assert.deepEqual(existsSync(tmp) ? readdirSync(tmp).filter((n) => n.startsWith('voicemail-')) : [], []);
    assert.equal(existsSync(join(t.config.dataDir, 'media', 'voicemail', `did-${didId}`)), false);
  });

  test('ring with voicemail_fallback: no answer within the route timeout goes to the device mailbox', async () => {
    const bob = await device(t, '1002');
    uases.push(await registeredUas(t, '1002', 'uas-no-answer.xml'));
    const didId = await did(t, '+15551250002');
    await route(t, didId, { action: 'ring', action_data: { device_ids: [bob], timeout: 1, voicemail_fallback: true } });
    await leaveMessage('+15551250002');
    const list = await messagesOf(`device:${bob}`);
    assert.equal(list.length, 1);
    assert.equal(list[0].mail_state, 'none', 'no address: no mail');
  });

  test('busy device with voicemail_enabled: the caller leaves a message in its mailbox', async () => {
    const carol = await device(t, '1003');
    await api(t, 'PUT', `/api/devices/${carol}`, { voicemail_enabled: true });
    uases.push(await registeredUas(t, '1003', 'uas-busy.xml'));
    const didId = await did(t, '+15551250003');
    await route(t, didId, { action: 'forward', action_data: { device_id: carol } });
    await leaveMessage('+15551250003');
    assert.equal((await messagesOf(`device:${carol}`)).length, 1);
  });

  test('the owner dials *97: key 1 plays the message (now read), 7 deletes it, # hangs up', async () => {
    const [before] = await messagesOf(`device:${alice}`);
    assert.ok(before);
    // From 127.0.0.2: 127.0.0.1 is the inbound trunk's host, whose calls are not devices' calls.
    const r = await runSipp(deviceCall(t, '1001', '*97', { scenario: 'uac-voicemail-menu.xml', timeoutMs: 30000, localIp: '127.0.0.2' }));
    assert.equal(r.stats.successful, 1, `${r.errors}\n${r.messages?.slice(-3000)}`);
    assert.deepEqual(await messagesOf(`device:${alice}`), []);
    assert.equal((await t.request('GET', `/api/voicemails/${before.id}`, { cookie: t.adminCookie })).status, 404);
  });
});
