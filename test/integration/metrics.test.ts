/**
 * Issue 12, "Observability": `GET /metrics` in Prometheus text format, scraped during a real
 * call (sipp through the B2BUA, RTP pushed into the caller's leg) and after it, and its access
 * rules: allow-listed address, API key with the `metrics` scope, admin session; 401/403 else.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { TestServer } from '../helpers/server.ts';
import { createUserSession } from '../helpers/server.ts';
import { spawnSipp, startSippServer, type SippServer } from '../helpers/sipp.ts';
import { sendRtp } from '../helpers/rtp-sender.ts';
import { assertIdle, defaultTrunk, did, eventually, inboundTrunk, route, startCallServer, target } from './call-fixtures.ts';

const DID = '+15551238000';

/** The value of one sample (`name{labels} value`), 0 when absent; labels must all match. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  let seen = false;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) { total += Number(m[3]); seen = true; }
  }
  return seen ? total : 0;
}

/** GET /metrics from a chosen loopback source address (for the allow-list). */
function getFrom(port: number, localAddress: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/metrics', localAddress, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type']) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('GET /metrics', () => {
  let t: TestServer;
  let uas: SippServer;
  let metricsKey: string;

  before(async () => {
    t = await startCallServer(25600, { STROWGER_METRICS_ALLOW: '127.0.0.2/32' });
    uas = await startSippServer({ scenario: 'uas-200-only.xml', traceMessages: false });
    await inboundTrunk(t);
    await defaultTrunk(t, uas.port);
    await route(t, await did(t, DID), { action: 'forward', action_data: { number: '+15559990000' } });
    const k = await t.request('POST', '/api/keys', { cookie: t.adminCookie, body: { name: 'prometheus', scopes: ['metrics'] } });
    assert.equal(k.status, 201, JSON.stringify(k.body));
    assert.deepEqual(k.body.scopes, ['metrics']);
    metricsKey = k.body.key;
  });
  after(async () => {
    await uas?.stop();
    await t?.close();
  });

  test('access: 401 without credentials, 403 for a key without the scope or a non-admin session; key, admin and allow-list read it', async () => {
    const none = await t.request('GET', '/metrics');
    assert.equal(none.status, 401);
    assert.equal(none.body.error.code, 'authentication_error');
    const pbxKey = await t.request('POST', '/api/keys', { cookie: t.adminCookie, body: { name: 'pbx only', scopes: ['pbx'] } });
    const wrongScope = await t.request('GET', '/metrics', { token: pbxKey.body.key });
    assert.equal(wrongScope.status, 403);
    assert.equal(wrongScope.body.error.code, 'authorization_error');
    assert.match(wrongScope.body.error.message, /metrics/);
    const user = await t.request('GET', '/metrics', { cookie: await createUserSession(t) });
    assert.equal(user.status, 403);
    assert.equal((await t.request('GET', '/metrics', { token: 'stw_not-a-key' })).status, 401);

    const byKey = await t.request('GET', '/metrics', { token: metricsKey });
    assert.equal(byKey.status, 200);
    assert.match(byKey.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
    assert.match(byKey.body, /^# TYPE strowger_sip_requests_total counter$/m);
    assert.equal((await t.request('GET', '/metrics', { cookie: t.adminCookie })).status, 200);

    const allowed = await getFrom(t.server.httpPort, '127.0.0.2');
    assert.equal(allowed.status, 200);
    assert.match(allowed.body, /^strowger_sip_registrations 0$/m);
    assert.equal((await getFrom(t.server.httpPort, '127.0.0.3')).status, 401, 'outside the allow-list');
  });

  test('scraped during a call and after it: SIP, call, dialog and media counters moved', async () => {
    const scrape = async () => {
      const r = await t.request('GET', '/metrics', { token: metricsKey });
      assert.equal(r.status, 200);
      return r.body as string;
    };
    const before = await scrape();
    const caller = await spawnSipp({ scenario: 'uac', target: target(t), service: DID, calls: 1, pauseMs: 2500, timeoutMs: 20000, traceMessages: false });
    const call = await eventually('the call answered', () => [...t.server.ctx.sip!.b2bua.calls.values()].find((c) => c.state === 'answered'), 10000);
    await sendRtp({ host: '127.0.0.1', port: call.legA.rtpPort, ssrc: 0x1234, count: 25, ptimeMs: 2 });
    // Worker counters arrive with its tick (every second).
    const during = await eventually('media counters in a scrape', async () => {
      const text = await scrape();
      return sample(text, 'strowger_media_packets_total', { direction: 'in' }) >= 25 ? text : undefined;
    }, 5000);
    assert.equal(sample(during, 'strowger_calls_active'), 1);
    assert.equal(sample(during, 'strowger_sip_dialogs'), 2, 'caller and callee dialogs');
    assert.equal(sample(during, 'strowger_media_legs'), 2);
    assert.ok(sample(during, 'strowger_media_packets_total', { direction: 'out' }) >= 25, 'relayed to the callee');
    assert.equal(sample(during, 'strowger_calls_attempted_total') - sample(before, 'strowger_calls_attempted_total'), 1);
    assert.equal(sample(during, 'strowger_calls_answered_total') - sample(before, 'strowger_calls_answered_total'), 1);
    assert.equal(sample(during, 'strowger_sip_requests_total', { direction: 'in', method: 'INVITE' }) - sample(before, 'strowger_sip_requests_total', { direction: 'in', method: 'INVITE' }), 1);
    assert.equal(sample(during, 'strowger_sip_requests_total', { direction: 'out', method: 'INVITE' }) - sample(before, 'strowger_sip_requests_total', { direction: 'out', method: 'INVITE' }), 1);
    assert.ok(sample(during, 'strowger_sip_transactions', { kind: 'server' }) >= 1);
    assert.match(during, /^strowger_event_loop_lag_seconds \d/m, 'the overload sampler runs');

    const r = await caller.done;
    assert.equal(r.stats.successful, 1, r.errors);
    await assertIdle(t);
    const after = await scrape();
    assert.equal(sample(after, 'strowger_calls_active'), 0);
    assert.equal(sample(after, 'strowger_sip_dialogs'), 0);
    assert.equal(sample(after, 'strowger_calls_ended_total', { disposition: 'answered', cause: 'caller_bye' }), 1);
    assert.equal(sample(after, 'strowger_sip_requests_total', { direction: 'in', method: 'BYE' }), 1);
    assert.equal(sample(after, 'strowger_sip_requests_total', { direction: 'out', method: 'BYE' }), 1);
    assert.ok(sample(after, 'strowger_sip_responses_total', { direction: 'out', code: '200' }) >= 2, 'INVITE and BYE answered 200');
    assert.ok(sample(after, 'strowger_sip_responses_total', { direction: 'in', code: '200' }) >= 2, 'callee answered INVITE and BYE');
    assert.equal(sample(after, 'strowger_sip_shed_total', { action: 'rejected' }), 0);
    // The call's journal row and CDR committed on the SQLite writer thread.
    assert.ok(sample(after, 'strowger_db_writer_batches_total', { outcome: 'committed' }) - sample(before, 'strowger_db_writer_batches_total', { outcome: 'committed' }) >= 1);
    assert.equal(sample(after, 'strowger_db_writer_up'), 1);
    assert.equal(sample(after, 'strowger_db_writer_pending'), 0);
    assert.match(after, /^process_cpu_user_seconds_total \d/m, 'default process metrics');
    // The queue-delay probe pings the SIP UDP socket each sample: a quiet server reads its own
    // pings within a fraction of a millisecond or so (0 only before the first came back).
    const delay = await eventually('a queue delay', async () => {
      const d = sample(await scrape(), 'strowger_sip_queue_delay_seconds');
      return d > 0 ? d : undefined;
    });
    assert.ok(delay < 0.5, `queue delay of a quiet server: ${delay} s`);
  });
});
