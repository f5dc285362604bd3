/**
 * `PUT /api/system/srtp/config` and the per-trunk `srtp` policy, checked on the wire: the
 * INVITE a registered sipp phone (policy optional) and a sipp carrier (trunk policy optional,
 * then off) receive carries exactly the crypto suites configured — or none. Keys over UDP
 * signalling need allow_insecure_signalling, which is set through the same route.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createUserSession, type TestServer } from '../helpers/server.ts';
import { runSipp, startSippServer, getFreePort, type SippResult } from '../helpers/sipp.ts';
import { api, assertIdle, cdrCount, device, deviceCall, eventually, nextCdr, registeredUas, startCallServer } from './call-fixtures.ts';

/** The a=crypto suites of the first INVITE a sipp UAS received (from its message trace). */
function offeredSuites(r: SippResult): string[] {
  const invite = r.messages.split(/-{10,}/).find((m) => /^\s*INVITE /m.test(m)) ?? '';
  return [...invite.matchAll(/^a=crypto:\d+ (\S+)/gm)].map((m) => m[1]!);
}

function mediaProfile(r: SippResult): string | undefined {
  const invite = r.messages.split(/-{10,}/).find((m) => /^\s*INVITE /m.test(m)) ?? '';
  return /^m=audio \d+ (\S+)/m.exec(invite)?.[1];
}

describe('SRTP config and trunk policy', () => {
  let t: TestServer;
  let userCookie: string;
  const put = (body: unknown, cookie = t.adminCookie) => t.request('PUT', '/api/system/srtp/config', { cookie, body });

  before(async () => {
    t = await startCallServer(23400);
    userCookie = await createUserSession(t);
    await device(t, 'alice');
  });
  after(() => t.close());

  test('auth: 401 without a session, 403 for a non-admin', async () => {
    for (const [m, p, body] of [['GET', '/api/system/srtp/status', undefined], ['PUT', '/api/system/srtp/config', { default_policy: 'optional' }]] as const) {
      assert.equal((await t.request(m, p, { body })).status, 401);
      assert.equal((await t.request(m, p, { body, cookie: userCookie })).status, 403);
    }
  });

  test('validation: 400 and nothing changes', async () => {
    const before = (await t.request('GET', '/api/system/srtp/status', { cookie: t.adminCookie })).body;
    for (const body of [{}, { suites: [] }, { suites: ['NULL_CIPHER'] }, { suites: ['AEAD_AES_128_GCM', 'AEAD_AES_128_GCM'] }, { default_policy: 'always' }, { allow_insecure_signalling: 'yes' }, { key_derivation_rate: 0 }]) {
      const r = await put(body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.error.code, 'validation_error');
    }
    assert.deepEqual((await t.request('GET', '/api/system/srtp/status', { cookie: t.adminCookie })).body, before);
  });

  test('the configured suites are what a phone is offered; default policy applies to new devices and trunks; it persists', async () => {
    const r = await put({ default_policy: 'optional', suites: ['AES_CM_128_HMAC_SHA1_32'], allow_insecure_signalling: true });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual([r.body.default_policy, r.body.suites, r.body.insecure_signalling_allowed], ['optional', ['AES_CM_128_HMAC_SHA1_32'], true]);
    const bob = await api(t, 'POST', '/api/devices', { name: 'bob', username: 'bob', password: 'device-pass-1234' });
    assert.equal(bob.srtp, 'optional', 'a device created without srtp gets the default policy');

    const uas = await registeredUas(t, 'bob', 'uas-answer.xml');
    const caller = await runSipp(deviceCall(t, 'alice', 'bob', { pauseMs: 500 }));
    assert.equal(caller.stats.successful, 1, caller.errors);
    const answered = await uas.stop();
    assert.deepEqual(offeredSuites(answered), ['AES_CM_128_HMAC_SHA1_32'], 'optional: RTP/AVP with our one configured suite');
    assert.equal(mediaProfile(answered), 'RTP/AVP');
    await assertIdle(t);

    await t.restart();
    const s = (await t.request('GET', '/api/system/srtp/status', { cookie: t.adminCookie })).body;
    assert.deepEqual([s.default_policy, s.suites, s.insecure_signalling_allowed], ['optional', ['AES_CM_128_HMAC_SHA1_32'], true]);
  });

  test('per-trunk policy: optional trunks are offered our keys, off trunks are not; counted in the status', async () => {
    const port = await getFreePort('udp');
    const trunk = await api(t, 'POST', '/api/trunks', { name: 'carrier', host: '127.0.0.1', port, transport: 'udp', default: true, srtp: 'optional' });
    assert.equal(trunk.srtp, 'optional');
    const bad = await t.request('PUT', `/api/trunks/${trunk.id}`, { cookie: t.adminCookie, body: { srtp: 'sometimes' } });
    assert.equal(bad.status, 400);
    const s = (await t.request('GET', '/api/system/srtp/status', { cookie: t.adminCookie })).body;
    assert.equal(s.trunks.optional, 1);

    for (const [policy, suites] of [['optional', ['AES_CM_128_HMAC_SHA1_32']], ['off', []]] as const) {
      const p = await t.request('PUT', `/api/trunks/${trunk.id}`, { cookie: t.adminCookie, body: { srtp: policy } });
      assert.equal(p.status, 200);
      const carrier = await startSippServer({ scenario: 'uas-answer.xml', localPort: port });
      const caller = await runSipp(deviceCall(t, 'alice', '+15551230000', { pauseMs: 500 }));
      assert.equal(caller.stats.successful, 1, caller.errors);
      const got = await carrier.stop();
      assert.deepEqual(offeredSuites(got), suites, `trunk policy ${policy}`);
      await assertIdle(t);
    }
  });
});

describe('SRTP authentication failures end the call', () => {
  let t: TestServer;

  before(async () => {
    t = await startCallServer(23600, { STROWGER_SRTP_AUTH_FAIL_SECONDS: '1', STROWGER_SRTP_ALLOW_INSECURE_SIGNALLING: '1' });
    await api(t, 'POST', '/api/devices', { name: 'alice', username: 'alice', password: 'device-pass-1234', srtp: 'required' });
    await device(t, 'bob');
  });
  after(() => t.close());

  test('a caller whose RTP never authenticates is hung up (srtp_auth_failed), its failures counted on the leg', async () => {
    const uas = await registeredUas(t, 'bob', 'uas-wait-bye.xml');
    const n = await cdrCount(t);
    const caller = runSipp(deviceCall(t, 'alice', 'bob', { scenario: 'uac-srtp-wrong-key.xml', timeoutMs: 30000 }));
    const call = await eventually('the answered call', async () => ((await api(t, 'GET', '/api/calls')).data as Array<{ id: string; state: string }>).find((c) => c.state === 'answered'), 10000);
    const during = await eventually('failures counted', async () => {
      const s = await api(t, 'GET', '/api/system/srtp/status');
      return s.calls.legs.find((l: { call_id: string; auth_failures: number }) => l.call_id === call.id && l.auth_failures > 0);
    }, 10000);
    assert.deepEqual([during.leg, during.suite, during.unprotected], ['a', 'AES_CM_128_HMAC_SHA1_80', 0]);
    const r = await caller;
    assert.equal(r.stats.successful, 1, `${r.errors}\n${r.stdout.slice(-500)}`);
    assert.equal((await uas.stop()).stats.successful, 1);
    const cdr = await nextCdr(t, n);
    assert.equal(cdr.hangup_cause, 'srtp_auth_failed');
    assert.ok((cdr.duration ?? 0) < 10, `ended by the 1 s limit, not the pcap's end: ${cdr.duration} s`);
    await assertIdle(t);
  });
});
