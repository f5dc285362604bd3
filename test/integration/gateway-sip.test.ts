/**
 * SIP gateway with `dial` and `loop` (seed 001) against sipp as the far end: the PBX calls
 * sipp, the answered call joins the room as a `sip` participant; sipp hangs up, the gateway
 * dials again (loop); stop hangs up. Without `loop`, the far end hanging up ends the gateway
 * `stopped`; a refused call ends it `failed`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestServer } from '../helpers/server.ts';
import { startSippServer } from '../helpers/sipp.ts';
import { eventually, startCallServer } from './call-fixtures.ts';

describe('SIP gateway dialling out', () => {
  let t: TestServer;
  let key: string;
  const post = async (path: string, body: unknown) => {
    const res = await fetch(t.baseUrl + path, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: await res.json() as any };
  };
  const status = (gwId: string) => t.server.ctx.gateways!.status(gwId);
  const WEBRTC = { local: { name: 'Strowger', domain: 'strowger.test' } };

  before(async () => {
    t = await startCallServer(27000);
    key = (await t.request('POST', '/api/keys', { cookie: t.adminCookie, body: { name: 'gw', scopes: ['gateway'] } })).body.key;
  });
  after(async () => { await t.close(); });

  test('dial + loop: joins the room, re-dials after the far end hangs up, stop hangs up', async () => {
    const uas = await startSippServer({ scenario: 'uas-answer-then-bye-invite-contact.xml', calls: 2, pauseMs: 1500 });
    const r = await post('/gateway/start', { type: 'SIP', room: 'sales', gw_id: 'dialer', webrtc_domain: WEBRTC, dial: `sip:100@${uas.address}`, loop: true, fromId: 'Sales line' });
    assert.deepEqual(r, { status: 200, body: { gw_id: 'dialer', processing_state: 'running', task: 'sip', room: 'sales' } });
    const room = t.server.ctx.rooms!.get('sales')!;
    await eventually('the call joins the room', () => room.participants().some((p) => p.kind === 'sip'), 8000);
    assert.deepEqual(room.participants().map((p) => [p.kind, p.display_name]), [['sip', 'Sales line']]);
    await eventually('sipp hung up and the gateway dialled again', async () => (await status('dialer')).details.calls === 2, 10_000);
    await eventually('the second call joins', () => room.participants().some((p) => p.kind === 'sip'), 8000);
    assert.equal((await status('dialer')).processing_state, 'running');
    const done = await uas.process.done;
    assert.equal(done.stats.successful, 2, done.errors + done.stdout.slice(-1500));
    const stopped = await post('/gateway/stop', { gw_id: 'dialer' });
    assert.equal(stopped.body.processing_state, 'stopped');
    await sleep(300);
    assert.deepEqual(room.participants(), []);
  });

  test('without loop: the far end hanging up ends the gateway stopped; a refused call ends it failed', async () => {
    const uas = await startSippServer({ scenario: 'uas-answer-then-bye-invite-contact.xml', calls: 1, pauseMs: 1000 });
    assert.equal((await post('/gateway/start', { type: 'SIP', room: 'once', gw_id: 'once', webrtc_domain: WEBRTC, dial: `sip:100@${uas.address}` })).status, 200);
    await eventually('ended after the far end hangs up', async () => (await status('once')).processing_state === 'stopped', 10_000);
    assert.match((await status('once')).error!, /^the call to sip:100@.* ended: bye-remote/);
    await uas.process.done;
    const busy = await startSippServer({ scenario: 'uas-busy.xml', calls: 1 });
    assert.equal((await post('/gateway/start', { type: 'SIP', room: 'once', gw_id: 'busy', webrtc_domain: WEBRTC, dial: `sip:100@${busy.address}` })).status, 200);
    await eventually('failed after the refusal', async () => (await status('busy')).processing_state === 'failed', 10_000);
    assert.match((await status('busy')).error!, /^the call to sip:100@.* failed: rejected \(486\)/);
    await busy.process.done;
  });
});
