/**
 * Issue 11 acceptance, MWI with a real phone: Debian's baresip with its `mwi` module
 * registers, SUBSCRIBEs to message-summary (answering our 401), and reports every NOTIFY
 * body as an `MWI_NOTIFY` event; messages stored, read and deleted through the voicemail code
 * (stored by `VoicemailFiles` as a deposit does, read and deleted through `/api/voicemails`)
 * reach it as new counts. Then a message left by a second phone after no answer lights the lamp,
 * and the owner's phone works the `*97` menu with RFC 4733 keys: 1 plays the message (heard in
 * the phone's decoded audio; the lamp says read), 7 deletes it (the lamp goes out), # leaves.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { hasBaresipModule, startBaresip, type BaresipPhone } from '../helpers/baresip.ts';
import { PASSWORD } from './sip-client.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dominantPerSecond, makeToneWav, readWavPcm } from '../helpers/audio-analysis.ts';
import { parseMessageSummary } from '../../src/sip/message-summary.ts';

describe('MWI with baresip (mwi module)', { skip: hasBaresipModule('mwi') ? false : 'baresip mwi.so not installed' }, () => {
  let t: TestServer;
  let phone: BaresipPhone | undefined;
  let deviceId: number;

  before(async () => {
    t = await startTestServer('sqlite');
    const r = await t.request('POST', '/api/devices', { cookie: t.adminCookie, body: { name: 'Desk', username: '4001', password: PASSWORD } });
    assert.equal(r.status, 201);
    deviceId = r.body.id;
  });
  after(async () => {
    await phone?.close();
    await t?.close();
  });

  test('baresip subscribes and sees the counts follow adding, reading and deleting messages', async () => {
    phone = await startBaresip({ user: '4001', password: PASSWORD, port: t.sipPort, mwi: true });
    await phone.registered;
    const p = phone;
    const summaries = () => p.events.filter((e) => e.type === 'MWI_NOTIFY').map((e) => parseMessageSummary(String(e.param).replace(/\\r\\n/g, '\r\n')));
    const waitFor = async (count: number) => {
      const deadline = Date.now() + 8000;
      while (summaries().length < count) {
        if (Date.now() > deadline) assert.fail(`${count} MWI_NOTIFYs expected, got ${summaries().length}:\n${p.output().slice(-3000)}`);
        await p.waitForEvent('MWI_NOTIFY', Math.max(1, deadline - Date.now()), p.events.length).catch(() => {});
      }
      return summaries()[count - 1]!;
    };
    const files = t.server.ctx.voicemail!;
    const add = async () => {
      const tmp = await files.tempPath();
      makeToneWav(tmp, { freq: 700, seconds: 1, rate: 8000 });
      return (await files.store(tmp, { mailbox: { kind: 'device', id: deviceId }, callerNumber: '+15550002222', called: '4001', durationSeconds: 1 }, 'wav')).id;
    };

    const first = await waitFor(1);
    assert.deepEqual(first, { waiting: false, account: 'sip:4001@strowger.test', voice: { new: 0, old: 0, urgentNew: 0, urgentOld: 0 } });

    const a = await add();
    assert.deepEqual((await waitFor(2)).voice, { new: 1, old: 0, urgentNew: 0, urgentOld: 0 });
    assert.equal(summaries()[1]!.waiting, true);
    const b = await add();
    assert.deepEqual((await waitFor(3)).voice, { new: 2, old: 0, urgentNew: 0, urgentOld: 0 });
    // Read and delete through the API, as a user's web page would.
    assert.equal((await t.request('PUT', `/api/voicemails/${a}/read`, { cookie: t.adminCookie })).status, 200);
    assert.deepEqual((await waitFor(4)).voice, { new: 1, old: 1, urgentNew: 0, urgentOld: 0 });
    assert.deepEqual((await t.request('DELETE', `/api/voicemails/${b}`, { cookie: t.adminCookie })).body, { success: true, deleted: true });
    const last = await waitFor(5);
    assert.deepEqual(last, { waiting: false, account: 'sip:4001@strowger.test', voice: { new: 0, old: 1, urgentNew: 0, urgentOld: 0 } });

    const status = await t.request('GET', '/api/mwi/status', { cookie: t.adminCookie });
    assert.equal(status.body.subscriptions.length, 1);
    assert.equal(status.body.subscriptions[0].username, '4001');
    assert.equal(status.body.subscriptions[0].notifies, 5);
    assert.equal(status.body.subscriptions[0].expires_in <= 600, true);
  });
});

/**
 * End to end: a caller (baresip) rings a device (baresip with mwi) that does not answer; the
 * call goes to the device's mailbox (voicemail_enabled), the caller speaks and hangs up, and the
 * waiting phone gets a NOTIFY `Voice-Message: 1/0`.
 */
describe('MWI with baresip: a message left after no answer', { skip: hasBaresipModule('mwi') ? false : 'baresip mwi.so not installed' }, () => {
  let t: TestServer;
  const phones: BaresipPhone[] = [];
  const dir = mkdtempSync(path.join(tmpdir(), 'mwi-e2e-'));
  // The caller's "message": a tone (a silent recording would be dropped as empty).
  const toneWav = path.join(dir, 'tone.wav');

  before(async () => {
    t = await startTestServer('sqlite', { STROWGER_RING_TIMEOUT_SECONDS: '2', STROWGER_VOICEMAIL_MIN_SECONDS: '1' });
    for (const [username, vm] of [['4101', true], ['4102', false]] as const) {
      const r = await t.request('POST', '/api/devices', { cookie: t.adminCookie, body: { name: username, username, password: PASSWORD, voicemail_enabled: vm } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    makeToneWav(toneWav, { freq: 700, seconds: 60, rate: 8000 });
  });
  after(async () => {
    for (const p of phones) await p.close();
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the callee\'s phone sees 0/0, then 1/0 once the caller hangs up after speaking; on *97 it plays the message with key 1, deletes it with 7 (0/0 again), leaves with #', async () => {
    const heard = path.join(dir, 'callee.wav');
    const callee = await startBaresip({ user: '4101', password: PASSWORD, port: t.sipPort, mwi: true, codecs: ['PCMU'], audioOut: heard });
    phones.push(callee);
    const caller = await startBaresip({ user: '4102', password: PASSWORD, port: t.sipPort, codecs: ['PCMU'], audioIn: toneWav });
    phones.push(caller);
    await Promise.all([callee.registered, caller.registered]);
    const first = await callee.waitForEvent('MWI_NOTIFY', 8000);
    assert.match(String(first.param), /Voice-Message: 0\/0/);
    const seen = callee.events.length;
    await caller.dial(`sip:4101@127.0.0.1:${t.sipPort}`);
    // Nobody answers 4101: after the ring timeout the PBX answers with the mailbox.
    await caller.waitForEvent('CALL_ESTABLISHED', 15000);
    // `#` skips the greeting to the beep; then a few seconds of tone are the message.
    await new Promise((r) => setTimeout(r, 1000));
    await caller.sendDtmf('#');
    await new Promise((r) => setTimeout(r, 4000));
    await caller.hangup();
    const lit = await callee.waitForEvent('MWI_NOTIFY', 15000, seen);
    const body = parseMessageSummary(String(lit.param).replace(/\\r\\n/g, '\r\n'));
    assert.deepEqual(body, { waiting: true, account: 'sip:4101@strowger.test', voice: { new: 1, old: 0, urgentNew: 0, urgentOld: 0 } });

    // The mailbox menu, driven by the phone's RFC 4733 keys (sipp covers it with INFO).
    const lit2 = callee.events.length;
    await callee.dial(`sip:*97@127.0.0.1:${t.sipPort}`);
    await callee.waitForEvent('CALL_ESTABLISHED', 5000, lit2);
    const answeredAt = Date.now();
    await new Promise((r) => setTimeout(r, 1000));
    const keyOneMs = Date.now() - answeredAt;
    await callee.sendDtmf('1');
    const read = await callee.waitForEvent('MWI_NOTIFY', 8000, lit2);
    assert.match(String(read.param), /Voice-Message: 0\/1/, 'played: the message is read (old)');
    // The message (~4 s of the caller's tone) plays, then the menu waits.
    await new Promise((r) => setTimeout(r, 6000));
    const afterRead = callee.events.length;
    await callee.sendDtmf('7');
    const out = await callee.waitForEvent('MWI_NOTIFY', 8000, afterRead);
    assert.match(String(out.param), /Voice-Message: 0\/0/, 'the lamp goes out once the message is deleted');
    await callee.sendDtmf('#');
    await callee.waitForEvent('CALL_CLOSED', 8000, lit2);
    assert.equal((await t.request('GET', '/api/voicemails', { cookie: t.adminCookie })).body.data.length, 0);
    await callee.close();
    // Seconds of the menu call where the caller's 700 Hz tone dominates: the message played after key 1.
    const { samples, sampleRate } = readWavPcm(heard);
    const toneSeconds = dominantPerSecond(samples, sampleRate, 300).flatMap((f, s) => (Math.abs(f - 700) <= 15 ? [s] : []));
    assert.ok(toneSeconds.length >= 2, `the message played on the phone (seconds with the 700 Hz tone: ${toneSeconds.join(',')}; ${(samples.length / sampleRate).toFixed(1)} s dumped)`);
    // The dump starts with the call's audio: no second before key 1 holds the message.
    assert.ok(toneSeconds[0]! >= Math.floor(keyOneMs / 1000), `not before key 1 (first tone second ${toneSeconds[0]}, key 1 at ${(keyOneMs / 1000).toFixed(1)} s)`);
  });
});
