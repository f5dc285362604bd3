/**
 * Issue 15, "status/recording/transcription callbacks update CDRs and voicemails", with real
 * components: a sipp UAC plays Twilio's side of `<Dial><Sip>` (an INVITE from the trunk's
 * inbound host carrying `X-Strowger-Call-Sid`), the DID's route sends it to voicemail (a
 * 600 Hz tone is recorded), then signed callbacks arrive; the CDR and the voicemail show
 * Twilio's data through the API. A device sending the header is not believed.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSipp } from '../helpers/sipp.ts';
import { ulawFrames, writeRtpPcap } from '../helpers/rtp-pcap.ts';
import { makeTone } from '../helpers/audio-analysis.ts';
import { FAKE_ACCOUNT_SID } from '../helpers/fake-twilio.ts';
import { startTwilioTestServer, type TwilioTestServer } from '../helpers/twilio-server.ts';
import { api, assertIdle, device, deviceCall, did, eventually, inboundTrunk, registeredUas, route, trunkCall } from './call-fixtures.ts';

const SID = 'CA' + '1a'.repeat(16);
const FORGED = 'CA' + 'f'.repeat(32);
const DID = '+15551260001';
const RECORDING = { RecordingSid: 'RE' + '2'.repeat(32), RecordingUrl: 'https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/RE2', RecordingStatus: 'completed', RecordingDuration: '3' };

describe('Twilio callbacks reach the CDR and the voicemail of the call (sipp as Twilio)', () => {
  let s: TwilioTestServer;
  let dir: string;
  let trunkId: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strowger-twcdr-'));
    writeRtpPcap(join(dir, 'tone.pcap'), ulawFrames(makeTone({ freq: 600, seconds: 2, rate: 8000, amplitude: 0.3 })), { payloadType: 0 });
    s = await startTwilioTestServer('sqlite', {
      STROWGER_RTP_PORTS: '24600-24799', STROWGER_MEDIA_WORKERS: '1', STROWGER_SIP_DIGEST_ALGORITHMS: 'MD5,SHA-256', STROWGER_VOICEMAIL_MIN_SECONDS: '1',
    });
    trunkId = await inboundTrunk(s.t);
  });
  after(async () => {
    await s?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => assertIdle(s.t));

  const cdrOf = async (sid: string | null, callee: string) => eventually(`the CDR of ${callee}`, async () =>
    (await api(s.t, 'GET', '/api/cdrs?limit=100')).data.find((c: any) => c.callee === callee && (sid === null || c.twilio_call_sid === sid)));
  const signed = (path: string, params: Record<string, string>) => s.webhook(path, { AccountSid: FAKE_ACCOUNT_SID, CallSid: SID, ...params });

  test('voicemail left on a Twilio call: CDR and voicemail carry the CallSid; status, recording and transcription show on them', async () => {
    const alice = await device(s.t, '1001');
    await route(s.t, await did(s.t, DID), { action: 'voicemail', action_data: { device_id: alice } });
    // Twilio reports the call in progress while its SIP leg to us is still being set up (no CDR yet).
    assert.equal((await signed('voice/status', { CallStatus: 'in-progress' })).status, 200);

    const r = await runSipp(trunkCall(s.t, DID, '+15550100100', { scenario: 'uac-twilio-voicemail.xml', cwd: dir, timeoutMs: 30000, keys: { twilio_sid: SID } }));
    assert.equal(r.stats.successful, 1, `${r.errors}\n${r.messages?.slice(-3000)}`);
    assert.match(r.messages, new RegExp(`X-Strowger-Call-Sid: ${SID}`), 'the INVITE carried the header');

    const cdr = await cdrOf(SID, DID);
    assert.equal(cdr.trunk_id, trunkId);
    assert.equal(cdr.disposition, 'answered');
    assert.deepEqual(cdr.twilio, { status: 'in-progress', duration: null, recording: null, transcription_status: null }, 'the early callback is joined');
    const vm = await eventually('the voicemail', async () => (await api(s.t, 'GET', '/api/voicemails')).data.find((v: any) => v.twilio_call_sid === SID));
    assert.equal(vm.caller_id, '+15550100100');
    assert.equal(vm.twilio_recording, null);
    const row = await s.t.server.ctx.store.db.selectFrom('cdrs').select(['twilio_call_sid', 'duration']).where('id', '=', cdr.id).executeTakeFirstOrThrow();
    assert.equal(row.twilio_call_sid, SID);

    // Twilio's final status: beside our own figures, which stay ours.
    assert.equal((await signed('voice/status', { CallStatus: 'completed', CallDuration: '97' })).status, 200);
    assert.equal((await signed('recording', RECORDING)).status, 200);
    const after = await api(s.t, 'GET', `/api/cdrs/${cdr.id}`);
    const recording = { sid: RECORDING.RecordingSid, url: RECORDING.RecordingUrl, status: 'completed', duration: 3 };
    assert.deepEqual(after.twilio, { status: 'completed', duration: 97, recording, transcription_status: null });
    assert.deepEqual([after.disposition, after.duration, after.billsec], [cdr.disposition, cdr.duration, cdr.billsec]);
    assert.equal(after.duration, row.duration);
    const listed = (await api(s.t, 'GET', '/api/cdrs?limit=100')).data.find((c: any) => c.id === cdr.id);
    assert.deepEqual(listed.twilio, after.twilio);
    assert.deepEqual((await api(s.t, 'GET', `/api/voicemails/${vm.id}`)).twilio_recording, recording);

    // A forged transcription changes nothing; the signed one becomes the voicemail's text.
    const text = 'Hi, it is Bob <call me back>';
    const forged = await s.webhook('transcription', { AccountSid: FAKE_ACCOUNT_SID, CallSid: SID, TranscriptionText: 'forged', TranscriptionStatus: 'completed' }, { signature: 'AAAA' });
    assert.equal(forged.status, 403);
    const untouched = await api(s.t, 'GET', `/api/voicemails/${vm.id}`);
    assert.deepEqual([untouched.transcription, untouched.transcription_engine], [vm.transcription, vm.transcription_engine]);
    assert.equal((await signed('transcription', { TranscriptionSid: 'TR' + '3'.repeat(32), TranscriptionText: text, TranscriptionStatus: 'completed' })).status, 200);
    const done = await api(s.t, 'GET', `/api/voicemails/${vm.id}`);
    assert.deepEqual([done.transcription, done.transcription_state, done.transcription_engine], [text, 'done', 'twilio']);
    assert.equal((await api(s.t, 'GET', `/api/cdrs/${cdr.id}`)).twilio.transcription_status, 'completed');
  });

  test('a Twilio call answered by a device: the CDR carries the CallSid; status and recording show on it', async () => {
    const SID2 = 'CA' + '2b'.repeat(16);
    const DID2 = '+15551260002';
    const bob = await device(s.t, '1003');
    await route(s.t, await did(s.t, DID2), { action: 'ring', action_data: { device_ids: [bob] } });
    const uas = await registeredUas(s.t, '1003', 'uas-answer.xml');
    try {
      const r = await runSipp(trunkCall(s.t, DID2, '+15550100200', { scenario: 'uac-twilio-call.xml', pauseMs: 500, keys: { twilio_sid: SID2 } }));
      assert.equal(r.stats.successful, 1, `${r.errors}\n${r.messages?.slice(-3000)}`);
    } finally {
      await uas.stop();
    }
    const cdr = await cdrOf(SID2, DID2);
    assert.deepEqual([cdr.disposition, cdr.callee_device_id, cdr.trunk_id, cdr.twilio], ['answered', bob, trunkId, null]);
    const cb = (path: string, params: Record<string, string>) => s.webhook(path, { AccountSid: FAKE_ACCOUNT_SID, CallSid: SID2, ...params });
    assert.equal((await cb('voice/status', { CallStatus: 'completed', CallDuration: '12' })).status, 200);
    assert.equal((await cb('recording', { ...RECORDING, RecordingDuration: '1' })).status, 200);
    const after = await api(s.t, 'GET', `/api/cdrs/${cdr.id}`);
    assert.deepEqual(after.twilio, { status: 'completed', duration: 12, recording: { sid: RECORDING.RecordingSid, url: RECORDING.RecordingUrl, status: 'completed', duration: 1 }, transcription_status: null });
    assert.equal(after.billsec, cdr.billsec, 'our own billsec stays ours');
    // A forged status callback changes nothing.
    assert.equal((await s.webhook('voice/status', { AccountSid: FAKE_ACCOUNT_SID, CallSid: SID2, CallStatus: 'failed' }, { signature: 'AAAA' })).status, 403);
    assert.equal((await api(s.t, 'GET', `/api/cdrs/${cdr.id}`)).twilio.status, 'completed');
  });

  test('a device sending X-Strowger-Call-Sid is not believed: its CDR has no CallSid', async () => {
    // The inbound trunk moves off loopback, so an INVITE from 127.0.0.1 is a device's.
    await api(s.t, 'PUT', `/api/trunks/${trunkId}`, { inbound_hosts: ['127.0.0.2/32'] });
    await device(s.t, '1002');
    const uas = await registeredUas(s.t, '1002', 'uas-answer.xml');
    try {
      const r = await runSipp(deviceCall(s.t, '1001', '1002', { scenario: 'uac-twilio-device.xml', pauseMs: 300, keys: { twilio_sid: FORGED } }));
      assert.equal(r.stats.successful, 1, `${r.errors}\n${r.messages?.slice(-3000)}`);
      assert.match(r.messages, new RegExp(`X-Strowger-Call-Sid: ${FORGED}`), 'the INVITE carried the header');
      const cdr = await cdrOf(null, '1002');
      assert.equal(cdr.caller_device_id !== null, true);
      assert.equal(cdr.twilio_call_sid, null);
      assert.equal(cdr.twilio, null);
    } finally {
      await uas.stop();
    }
  });
});
