/**
 * Issue 14 acceptance: the seed 002 call gateway against real components on loopback. sipp is
 * the remote SIP server (401 challenge, answer) or the caller of an app number; a local HTTP
 * server receives the hooks; `ws` clients read call_ws and notify_ws in JSON and protobuf.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import type { TestServer } from '../helpers/server.ts';
import { runSipp, sippUserRow, spawnSipp, startSippServer } from '../helpers/sipp.ts';
import { startHookReceiver, type HookReceiver } from '../helpers/hook-receiver.ts';
import { api, eventually, finalStatuses, startCallServer, target } from './call-fixtures.ts';
import { decodeEvent, encodeAction, encodeHookAnswer, type CallEvent } from '../../src/gateway/call-events.ts';
import { verifyHook } from '../../src/gateway/hook-signature.ts';

interface Client { ws: WebSocket; events: CallEvent[]; binary: boolean[]; errors: string[]; closed: Promise<number> }

async function connect(url: string, protocol?: string): Promise<Client> {
  const ws = new WebSocket(url, protocol ? [protocol] : undefined);
  const c: Client = { ws, events: [], binary: [], errors: [], closed: new Promise((r) => ws.on('close', (code) => r(code))) };
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    c.binary.push(isBinary);
    if (isBinary) { c.events.push(decodeEvent(data)); return; }
    const j = JSON.parse(data.toString());
    if (j.error) c.errors.push(j.error); else c.events.push(j);
  });
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
  return c;
}

const names = (c: Client) => c.events.map((e) => e.event);

/** SIP messages sipp received, from its `-trace_msg` log. */
function received(messages: string): string[] {
  return [...messages.matchAll(/message received \[\d+\] bytes :\n\n([\s\S]*?)(?=\n-{10,}|\n\n\S+ \d|$)/g)].map((m) => m[1]!);
}

describe('call gateway (seed 002)', () => {
  let t: TestServer;
  let hooks: HookReceiver;
  let secret: string;
  let otherSecret: string;
  let appId: string;

  const call = (method: string, path: string, body?: unknown, token = secret) => t.request(method, path, { token, body });

  before(async () => {
    t = await startCallServer(26200, { STROWGER_HOOK_RETRY_BASE_MS: '150', STROWGER_HOOK_TIMEOUT_MS: '2000' });
    hooks = await startHookReceiver();
    const a = await api(t, 'POST', '/api/apps', { name: 'Support', app_id: 'support' });
    secret = a.app_secret;
    appId = a.app_id;
    otherSecret = (await api(t, 'POST', '/api/apps', { name: 'Other' })).app_secret;
    assert.match(secret, /^app_[A-Za-z0-9_-]{43}$/);
    const listed = await api(t, 'GET', '/api/apps');
    assert.equal(JSON.stringify(listed).includes(secret), false, 'the secret is shown once, never listed');
  });
  after(async () => { await hooks.close(); await t.close(); });

  test('outgoing: 401 challenge answered, ringing/accepted on call_ws (JSON and protobuf), DELETE → BYE, signed hooks in order', async () => {
    hooks.requests.length = 0;
    const uas = await startSippServer({ scenario: 'mock-invite-auth.xml', vars: { user: 'acct', pass: 'pw-1' }, calls: 1 });
    const r = await call('POST', '/call/outgoing', {
      sip_server: uas.address, sip_auth: { username: 'acct', password: 'pw-1' }, from_number: '+15550001111', to_number: '100',
      hook: hooks.url, hook_content_type: 'Json',
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.status, true);
    const { call_id, call_token, call_ws } = r.body.data;
    assert.equal(call_ws, `ws://127.0.0.1:${t.server.httpPort}/call/ws?token=${call_token}`);
    const claims = JSON.parse(Buffer.from(call_token.split('.')[1], 'base64url').toString());
    assert.equal(claims.call_id, call_id);
    assert.equal(claims.direction, 'outgoing');
    assert.equal(claims.app_id, appId);
    assert.equal(claims.exp - claims.iat, 3600);
    const json = await connect(call_ws);
    const proto = await connect(call_ws, 'protobuf');
    await eventually('accepted on both sockets', () => names(json).includes('accepted') && names(proto).includes('accepted'), 8000);
    assert.deepEqual(names(json), ['ringing', 'accepted']);
    assert.deepEqual(names(proto), ['ringing', 'accepted']);
    assert.ok(proto.binary.every(Boolean) && json.binary.every((b) => !b), 'protobuf frames binary, JSON frames text');
    assert.equal(proto.events[1]!.call_id, call_id);
    const del = await call('DELETE', `/call/${call_id}`);
    assert.deepEqual([del.status, del.body], [200, { status: true }]);
    await eventually('ended', () => names(json).includes('ended') && names(proto).includes('ended'));
    const ended = json.events.at(-1)!;
    assert.equal(ended.reason, 'bye-local');
    assert.equal(ended.sip_code, 200);
    assert.deepEqual({ reason: proto.events.at(-1)!.reason, sip_code: proto.events.at(-1)!.sip_code }, { reason: 'bye-local', sip_code: 200 });
    assert.deepEqual([del.status, (await call('DELETE', `/call/${call_id}`)).body], [200, { status: true }], 'idempotent');
    const sipp = await uas.process.done;
    assert.equal(sipp.exitCode, 0, sipp.errors);
    const msgs = received(sipp.messages);
    const invites = msgs.filter((m) => m.startsWith('INVITE '));
    assert.equal(invites.length, 2);
    assert.match(invites[0]!, /^INVITE sip:100@127\.0\.0\.1:\d+ SIP\/2\.0/);
    assert.match(invites[0]!, /From: <sip:\+15550001111@/);
    assert.match(invites[1]!, /Authorization: Digest username="acct", realm="sipp\.test"/);
    assert.ok(msgs.some((m) => m.startsWith('BYE ')), 'sipp got our BYE');
    // Hooks: every state change, in order, signed with the app secret.
    await eventually('3 hooks', () => hooks.requests.length >= 3);
    const bodies = hooks.requests.map((h) => JSON.parse(h.body.toString()));
    assert.deepEqual(bodies.map((b) => b.event), ['ringing', 'accepted', 'ended']);
    for (const h of hooks.requests) {
      assert.equal(h.headers['content-type'], 'application/json');
      assert.ok(verifyHook(secret, Number(h.headers['x-strowger-timestamp']), h.body, String(h.headers['x-strowger-signature'])), 'valid signature');
      assert.equal(h.headers['x-strowger-call-id'], call_id);
    }
    assert.equal(bodies[2].reason, 'bye-local');
    assert.equal(typeof bodies[0].timestamp, 'number');
    json.ws.close(); proto.ws.close();
  });

  test('DELETE while ringing sends CANCEL; the WS sees ended "cancelled" 487; DTMF over WS before the answer is refused', async () => {
    const uas = await startSippServer({ scenario: 'uas-no-answer.xml', calls: 1 });
    const r = await call('POST', '/call/outgoing', { sip_server: uas.address, from_number: '+15550001111', to_number: '200' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const ws = await connect(r.body.data.call_ws);
    await eventually('ringing', () => names(ws).includes('ringing'), 8000);
    ws.ws.send(encodeAction({ action: 'dtmf', digits: '1' }));
    ws.ws.send('{"action":"fly"}');
    await eventually('two error frames', () => ws.errors.length === 2);
    assert.match(ws.errors.join('|'), /dtmf: cannot send DTMF: call is ringing/);
    assert.match(ws.errors.join('|'), /unknown action "fly"/);
    assert.equal((await call('DELETE', `/call/${r.body.data.call_id}`)).status, 200);
    await eventually('ended', () => names(ws).includes('ended'));
    assert.deepEqual({ reason: ws.events.at(-1)!.reason, sip_code: ws.events.at(-1)!.sip_code }, { reason: 'cancelled', sip_code: 487 });
    const sipp = await uas.process.done;
    assert.equal(sipp.exitCode, 0, sipp.errors);
    assert.ok(received(sipp.messages).some((m) => m.startsWith('CANCEL ')));
    assert.equal(await ws.closed, 1000, 'call_ws closes normally after ended');
  });

  test('auth and validation: 401 for a wrong secret, 404 for another app\'s call, 400 with messages, 400 for a bad streaming room', async () => {
    const no = await t.request('POST', '/call/outgoing', { body: { from_number: '1', to_number: '2' } });
    assert.deepEqual([no.status, no.body], [401, { status: false, error: 'missing Authorization: Bearer <app_secret>' }]);
    const wrong = await call('POST', '/call/outgoing', { from_number: '1', to_number: '2' }, 'app_wrong');
    assert.deepEqual([wrong.status, wrong.body], [401, { status: false, error: 'invalid app secret' }]);
    const cases: Array<[unknown, RegExp]> = [
      [{ to_number: '2' }, /^from_number: must have required property 'from_number'|^body: must have required property 'from_number'/],
      [{ from_number: 'abc', to_number: '2' }, /^from_number: must match pattern/],
      [{ from_number: '1', to_number: '2', hook: 'ftp://x' }, /^hook: must match pattern "\^https\?:\/\/"/],
      [{ from_number: '1', to_number: '2', hook_content_type: 'Xml' }, /^hook_content_type: /],
      [{ from_number: '1', to_number: '2', sip_auth: { username: 'u' } }, /^sip_auth: must have required property 'password'/],
      [{ from_number: '1', to_number: '2', extra: 1 }, /must NOT have additional properties \(extra\)/],
      [{ from_number: '1', to_number: '2' }, /^sip_server is required/],
    ];
    for (const [body, message] of cases) {
      const r = await call('POST', '/call/outgoing', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.status, false);
      assert.match(r.body.error, message, JSON.stringify(r.body));
    }
    const streaming = await call('POST', '/call/outgoing', { sip_server: '127.0.0.1:9', from_number: '1', to_number: '2', streaming: { room: 'no spaces!', peer: 'p' } });
    assert.equal(streaming.status, 400, JSON.stringify(streaming.body));
    assert.equal(t.server.ctx.callGateway!.activeCalls, 0, 'no call placed for a bad room');
    const uas = await startSippServer({ scenario: 'uas-no-answer.xml', calls: 1 });
    const mine = await call('POST', '/call/outgoing', { sip_server: uas.address, from_number: '1', to_number: '2' });
    const theirs = await call('DELETE', `/call/${mine.body.data.call_id}`, undefined, otherSecret);
    assert.deepEqual([theirs.status, theirs.body.status], [404, false]);
    assert.equal((await call('DELETE', '/call/nope')).status, 404);
    const ws = await connect(mine.body.data.call_ws);
    await eventually('ringing', () => names(ws).includes('ringing'), 8000);
    ws.ws.send(encodeAction({ action: 'end' }));
    await eventually('ended', () => names(ws).includes('ended'));
    await uas.process.done;
    ws.ws.close();
    const bad = new WebSocket(`ws://127.0.0.1:${t.server.httpPort}/call/ws?token=nope`);
    assert.equal(await new Promise((r) => bad.on('close', (code) => r(code))), 4401);
  });

  test('incoming: hook and notify_ws get "incoming" (JSON, protobuf); Ring → 180; End → 603; subnet check → 403', async () => {
    hooks.requests.length = 0;
    await api(t, 'POST', '/api/call-numbers', { number: '+15558880001', app_id: appId, subnets: ['127.0.0.0/8'], hook: hooks.url, hook_content_type: 'Protobuf' });
    await api(t, 'POST', '/api/call-numbers', { number: '+15558880002', app_id: appId, subnets: ['10.0.0.0/8'], hook: hooks.url });
    const session = await call('POST', '/call/session', { session_id: 'desk-1' });
    assert.equal(session.status, 200);
    const notifyJson = await connect(session.body.data.notify_ws);
    const notifyProto = await connect(`${session.body.data.notify_ws}&format=protobuf`);
    const caller = await spawnSipp({ scenario: 'uac-rejected.xml', target: target(t), service: '+15558880001', calls: 1, injection: { rows: [['+15550100100', '-', 'strowger.test', '']] }, timeoutMs: 20000 });
    const inc = await eventually('incoming hook', () => hooks.requests[0], 8000);
    assert.equal(inc.headers['content-type'], 'application/x-protobuf');
    const ev = decodeEvent(inc.body);
    assert.equal(ev.event, 'incoming');
    assert.equal(ev.direction, 'incoming');
    assert.equal(ev.to_number, '+15558880001');
    assert.equal(ev.from_number, '+15550100100');
    assert.ok(verifyHook(secret, Number(inc.headers['x-strowger-timestamp']), inc.body, String(inc.headers['x-strowger-signature'])));
    await eventually('notify', () => notifyJson.events.length >= 1 && notifyProto.events.length >= 1);
    assert.equal(notifyJson.events[0]!.call_id, ev.call_id);
    assert.equal(notifyProto.events[0]!.event, 'incoming');
    const ring = await call('POST', `/call/incoming/${ev.call_id}/action`, { action: 'Ring' });
    assert.deepEqual([ring.status, ring.body], [200, { status: true }]);
    const other = await call('POST', `/call/incoming/${ev.call_id}/action`, { action: 'End' }, otherSecret);
    assert.equal(other.status, 404);
    const end = await call('POST', `/call/incoming/${ev.call_id}/action`, { action: 'End' });
    assert.equal(end.status, 200);
    const r = await caller.done;
    assert.equal(r.exitCode, 0, r.errors);
    assert.match(r.messages, /SIP\/2\.0 180 /);
    assert.deepEqual(finalStatuses(r.messages), [603]);
    const again = await call('POST', `/call/incoming/${ev.call_id}/action`, { action: 'Ring' });
    assert.equal(again.status, 409);
    await eventually('ended on notify', () => notifyJson.events.some((e) => e.event === 'ended'));
    assert.deepEqual(notifyJson.events.map((e) => e.event), ['incoming', 'ringing', 'ended']);
    const cdr = await eventually('incoming CDR', async () => (await api(t, 'GET', '/api/cdrs?limit=20')).data.find((c: { call_id: string }) => c.call_id === ev.call_id));
    assert.deepEqual([cdr.direction, cdr.caller, cdr.callee, cdr.disposition, cdr.sip_code, cdr.hangup_by], ['inbound', '+15550100100', '+15558880001', 'rejected', 603, 'api']);

    const refused = await spawnSipp({ scenario: 'uac-rejected.xml', target: target(t), service: '+15558880002', calls: 1, injection: { rows: [['x', '-', 'strowger.test', '']] }, timeoutMs: 20000 });
    const rr = await refused.done;
    assert.deepEqual(finalStatuses(rr.messages), [403]);
    notifyJson.ws.close(); notifyProto.ws.close();
  });

  test('incoming: the hook answers Accept (JSON) → 200 OK; End by API → BYE; Accept with a bad stream → 400, nothing changed', async () => {
    hooks.requests.length = 0;
    await api(t, 'POST', '/api/call-numbers', { number: '+15558880003', app_id: appId, subnets: ['127.0.0.1/32'], hook: hooks.url, hook_content_type: 'Json' });
    let streamCallId = '';
    hooks.respond = (req) => {
      const e = JSON.parse(req.body.toString());
      if (e.event !== 'incoming') return { status: 200 };
      if (e.from_number === 'streamer') { streamCallId = e.call_id; return { status: 200, body: '{"action":"Continue"}' }; }
      return { status: 200, body: JSON.stringify({ action: 'Accept' }) };
    };
    try {
      const caller = await spawnSipp({ scenario: 'uac-wait-bye.xml', target: target(t), service: '+15558880003', calls: 1, injection: { rows: [['+15550100100', '-', 'strowger.test', '']] }, timeoutMs: 20000 });
      const accepted = await eventually('accepted hook', () => hooks.requests.map((h) => JSON.parse(h.body.toString())).find((e) => e.event === 'accepted'), 8000);
      const end = await call('POST', `/call/incoming/${accepted.call_id}/action`, { action: 'End' });
      assert.equal(end.status, 200);
      const r = await caller.done;
      assert.equal(r.exitCode, 0, r.errors + r.stdout.slice(-1500));
      assert.ok(received(r.messages).some((m) => m.startsWith('BYE ')), 'the caller got our BYE');
      await eventually('ended hook', () => hooks.requests.some((h) => JSON.parse(h.body.toString()).event === 'ended'));
      const ended = hooks.requests.map((h) => JSON.parse(h.body.toString())).find((e) => e.event === 'ended');
      assert.equal(ended.reason, 'bye-local');

      const streamer = await spawnSipp({ scenario: 'uac-rejected.xml', target: target(t), service: '+15558880003', calls: 1, injection: { rows: [['streamer', '-', 'strowger.test', '']] }, timeoutMs: 20000 });
      await eventually('streamer incoming', () => streamCallId !== '', 8000);
      const s = await call('POST', `/call/incoming/${streamCallId}/action`, { action: 'Accept', stream: { room: 'r1', record: true } });
      assert.equal(s.status, 400);
      assert.match(s.body.error, /stream needs both "room" and "peer"/);
      const bad = await call('POST', `/call/incoming/${streamCallId}/action`, { action: 'Accept', stream: { room: 'bad name!', peer: 'p1' } });
      assert.equal(bad.status, 400, JSON.stringify(bad.body));
      assert.equal((await call('POST', `/call/incoming/${streamCallId}/action`, { action: 'Dance' })).status, 400);
      assert.equal((await call('POST', `/call/incoming/${streamCallId}/action`, { action: 'End' })).status, 200);
      assert.deepEqual(finalStatuses((await streamer.done).messages), [603]);
    } finally {
      hooks.respond = () => ({ status: 200 });
    }
  });

  test('incoming: a number with auth challenges (407) and takes the right digest; wrong password → 403; caller BYE → ended bye-remote', async () => {
    hooks.requests.length = 0;
    await api(t, 'POST', '/api/call-numbers', { number: '5558880004', app_id: appId, subnets: ['127.0.0.1/32'], auth: { username: 'caller1', password: 'pw-caller' }, hook: hooks.url });
    hooks.respond = (req) => (JSON.parse(req.body.toString()).event === 'incoming' ? { status: 200, body: '{"action":"Accept"}' } : { status: 200 });
    try {
      const good = await runSipp({
        scenario: 'uac-invite-auth.xml', target: target(t), service: '5558880004', authUri: `sip:5558880004@${target(t)}`, calls: 1, pauseMs: 300,
        injection: { rows: [sippUserRow('caller1', 'pw-caller', 'strowger.test')] }, timeoutMs: 20000,
      });
      assert.equal(good.exitCode, 0, good.errors + good.stdout.slice(-1500));
      assert.match(good.messages, /SIP\/2\.0 407 Proxy Authentication Required/);
      await eventually('ended hook', () => hooks.requests.map((h) => JSON.parse(h.body.toString())).find((e) => e.event === 'ended'));
      const events = hooks.requests.map((h) => JSON.parse(h.body.toString()));
      assert.deepEqual(events.map((e) => e.event), ['incoming', 'accepted', 'ended']);
      assert.equal(events[2].reason, 'bye-remote');
      const bad = await runSipp({
        scenario: 'uac-rejected.xml', target: target(t), service: '5558880004', authUri: `sip:5558880004@${target(t)}`, calls: 1,
        injection: { rows: [sippUserRow('caller1', 'wrong-pass', 'strowger.test')] }, timeoutMs: 20000,
      });
      assert.deepEqual(finalStatuses(bad.messages), [403]);
    } finally {
      hooks.respond = () => ({ status: 200 });
    }
  });

  test('hooks: a receiver failing twice gets the event once more after the failures, signed, across a restart', async () => {
    hooks.requests.length = 0;
    let failures = 0;
    hooks.respond = () => (failures++ < 2 ? { status: 500 } : { status: 200 });
    try {
      const uas = await startSippServer({ scenario: 'uas-no-answer.xml', calls: 1 });
      const r = await call('POST', '/call/outgoing', { sip_server: uas.address, from_number: '+15550001111', to_number: '300', hook: hooks.url });
      const id = r.body.data.call_id;
      await eventually('first failure', () => hooks.requests.length >= 1, 8000);
      // Stop ringing first: the restart hangs up calls anyway; the pending deliveries must survive it.
      await call('DELETE', `/call/${id}`);
      await uas.process.done;
      await t.restart();
      secret = secret; // same database: the app and its secret survive
      await eventually('every event delivered', () => {
        const ok = hooks.requests.slice(2).map((h) => JSON.parse(h.body.toString()).event);
        return ok.includes('ended') ? ok : undefined;
      }, 10000);
      const events = hooks.requests.map((h) => JSON.parse(h.body.toString()).event);
      // 'ringing' failed twice (500), then 'ringing' once, 'ended' once: order kept, nothing twice after success.
      assert.deepEqual(events, ['ringing', 'ringing', 'ringing', 'ended']);
      const delivered = hooks.requests[2]!;
      assert.ok(verifyHook(secret, Number(delivered.headers['x-strowger-timestamp']), delivered.body, String(delivered.headers['x-strowger-signature'])));
      assert.equal(hooks.requests[0]!.headers['x-strowger-delivery'], delivered.headers['x-strowger-delivery'], 'the same outbox row');
      await new Promise((res) => setTimeout(res, 500));
      assert.equal(hooks.requests.length, 4, 'no duplicate after success');
    } finally {
      hooks.respond = () => ({ status: 200 });
    }
  });
});

describe('call gateway: admin API, OpenAPI, numbers sync', () => {
  let t: TestServer;
  let syncServer: HookReceiver;
  let answer: unknown = { numbers: [] };
  before(async () => {
    syncServer = await startHookReceiver();
    syncServer.respond = () => ({ status: 200, body: JSON.stringify(answer) });
    // The receiver answers POSTs and GETs alike; the sync polls it with GET.
    t = await startCallServer(26400, { STROWGER_NUMBERS_SYNC_URL: `${syncServer.url}?key=k1`, STROWGER_NUMBERS_SYNC_INTERVAL_SECONDS: '1' });
  });
  after(async () => { await t.close(); await syncServer.close(); });

  test('/call routes and /api/apps, /api/call-numbers are in /openapi.json', async () => {
    const doc = (await t.request('GET', '/openapi.json')).body;
    for (const p of ['/call/outgoing', '/call/{call_id}', '/call/session', '/call/incoming/{call_id}/action', '/call/ws', '/call/notify', '/call/proto', '/api/apps', '/api/call-numbers']) {
      assert.ok(doc.paths[p], `${p} documented`);
    }
    const plain = await t.request('GET', '/call/ws?token=x');
    assert.deepEqual([plain.status, plain.body.status], [426, false]);
    const proto = await t.request('GET', '/call/proto');
    assert.match(String(proto.body), /message CallEvent/);
  });

  test('admin CRUD: numbers validated (app exists, CIDR), passwords write-only, non-admin refused', async () => {
    await api(t, 'POST', '/api/apps', { name: 'A', app_id: 'a1' });
    const bad = await t.request('POST', '/api/call-numbers', { cookie: t.adminCookie, body: { number: '+1555', app_id: 'nope' } });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /no app \\"nope\\"/);
    const badNet = await t.request('POST', '/api/call-numbers', { cookie: t.adminCookie, body: { number: '+1555', app_id: 'a1', subnets: ['300.1.1.1/8'] } });
    assert.equal(badNet.status, 400);
    const n = await api(t, 'POST', '/api/call-numbers', { number: '+1555', app_id: 'a1', subnets: ['127.0.0.1'], auth: { username: 'u', password: 'p' }, sip_server: 'sip.example:5070' });
    assert.deepEqual([n.subnets, n.auth, n.synced, n.hook_content_type], [['127.0.0.1'], { username: 'u' }, false, 'Json']);
    const dup = await t.request('POST', '/api/call-numbers', { cookie: t.adminCookie, body: { number: '+1555', app_id: 'a1' } });
    assert.equal(dup.status, 409);
    const patched = await api(t, 'PATCH', `/api/call-numbers/${n.id}`, { hook: 'https://app.example/h' });
    assert.equal(patched.hook, 'https://app.example/h');
    assert.deepEqual(patched.auth, { username: 'u' }, 'untouched credentials kept');
    const anon = await t.request('GET', '/api/apps');
    assert.equal(anon.status, 401);
  });

  test('STROWGER_NUMBERS_SYNC_URL: replaces the synced set; a bad answer keeps the previous one', async () => {
    await api(t, 'POST', '/api/apps', { name: 'S', app_id: 'synced-app' });
    answer = { numbers: [{ number: '+1777001', app_id: 'synced-app', subnets: ['127.0.0.0/8'] }, { number: '+1777002', app_id: 'synced-app', hook_content_type: 'Protobuf' }] };
    const synced = async () => (await api(t, 'GET', '/api/call-numbers?app_id=synced-app')).data.map((n: { number: string; synced: boolean }) => `${n.number}:${n.synced}`).sort().join(',');
    await eventually('two synced numbers', async () => (await synced()) === '+1777001:true,+1777002:true', 5000);
    answer = { numbers: [{ number: '+1777003', app_id: 'no-such-app' }] };
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(await synced(), '+1777001:true,+1777002:true', 'bad answer ignored');
    answer = { numbers: [{ number: '+1777002', app_id: 'synced-app' }] };
    await eventually('one synced number', async () => (await synced()) === '+1777002:true', 5000);
    assert.match(String(syncServer.requests.at(-1)!.headers.accept), /json/);
    const row = (await api(t, 'GET', '/api/call-numbers?app_id=synced-app')).data[0];
    const edit = await t.request('PATCH', `/api/call-numbers/${row.id}`, { cookie: t.adminCookie, body: { hook: 'https://x.example/' } });
    assert.equal(edit.status, 409, 'synced rows are read-only');
  });
});
