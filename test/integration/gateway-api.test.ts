/**
 * Seeds 000 (`/start`, `/stop`, `/chat`) and 001 (`/gateway/*`) over a real server: every
 * error case and success shape compared byte for byte, Bearer keys with and without the
 * `gateway` scope, the capacity limit (503), commands, and a restart that turns a running
 * gateway into `ended` (the rows in `gateways`/`gateway_events` say so too).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { insertGateway } from '../../src/store/gateways.ts';

interface Raw { status: number; text: string; json: any }

describe('gateway APIs (seeds 000 and 001)', () => {
  let t: TestServer;
  let key: string;
  let pbxKey: string;

  const raw = async (method: string, path: string, opts: { token?: string | null; json?: unknown; form?: Record<string, string>; body?: string; type?: string } = {}): Promise<Raw> => {
    const headers: Record<string, string> = {};
    const token = opts.token === undefined ? key : opts.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (opts.json !== undefined) { headers['content-type'] = 'application/json'; body = JSON.stringify(opts.json); }
    if (opts.form !== undefined) { headers['content-type'] = 'application/x-www-form-urlencoded'; body = new URLSearchParams(opts.form).toString(); }
    if (opts.body !== undefined) { headers['content-type'] = opts.type ?? 'application/json'; body = opts.body; }
    const res = await fetch(t.baseUrl + path, { method, headers, body });
    const text = await res.text();
    let json: any = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: res.status, text, json };
  };
  const same = (r: Raw, status: number, text: string) => assert.deepEqual({ status: r.status, text: r.text }, { status, text });
  const WEBRTC = JSON.stringify({ renavisio_visio_plus: { name: 'Jitsi Meet (meet.jit.si)', domain: 'meet.jit.si' } });

  before(async () => {
    t = await startTestServer('sqlite', { STROWGER_GATEWAYS_MAX: '3' });
    const mk = async (scopes: string[]) => (await t.request('POST', '/api/keys', { cookie: t.adminCookie, body: { name: scopes.join('+'), scopes } })).body.key as string;
    key = await mk(['gateway']);
    pbxKey = await mk(['pbx']);
  });
  after(() => t.close());

  test('seed 000: 401 without a Bearer key with the gateway scope', async () => {
    for (const [method, path] of [['GET', '/start?room=a'], ['GET', '/stop?room=a'], ['GET', '/chat?room=a&toggle=on'], ['POST', '/chat']] as const) {
      for (const token of [null, 'stw_wrong', pbxKey]) same(await raw(method, path, { token, json: method === 'POST' ? { room: 'a', msg: 'x' } : undefined }), 401, '{"Error":"authorization error"}');
    }
    // A session cookie is no Bearer key.
    const r = await fetch(`${t.baseUrl}/stop?room=a`, { headers: { cookie: t.adminCookie } });
    assert.deepEqual([r.status, await r.text()], [401, '{"Error":"authorization error"}']);
  });

  test('seed 000: the seed\'s error strings, byte for byte', async () => {
    const NO_ROOM = '{"Error":"a room name must be specified"}';
    for (const path of ['/start', '/start?room=', '/start?from=x', '/stop', '/stop?room=', '/chat?toggle=on', '/chat']) same(await raw('GET', path), 400, NO_ROOM);
    same(await raw('GET', '/chat?room=r1'), 400, '{"Error":"toggle parameter is expected"}');
    same(await raw('GET', '/chat?room=r1&toggle=maybe'), 400, '{"Error":"toggle parameter is expected"}');
    const NO_MSG = '{"Error":"message missing or not readable"}';
    same(await raw('POST', '/chat', { json: { msg: 'hi' } }), 400, NO_ROOM);
    same(await raw('POST', '/chat', { json: { room: '', msg: 'hi' } }), 400, NO_ROOM);
    same(await raw('POST', '/chat', { json: { room: 'r1' } }), 400, NO_MSG);
    same(await raw('POST', '/chat', { json: { room: 'r1', msg: 42 } }), 400, NO_MSG);
    same(await raw('POST', '/chat', { json: { room: 'r1', msg: '  ' } }), 400, NO_MSG);
    same(await raw('POST', '/chat', { body: '{"room":"r1","msg":' }), 400, NO_MSG);
    same(await raw('POST', '/chat', { body: 'room=r1', type: 'text/plain' }), 400, NO_MSG);
    same(await raw('POST', '/chat'), 400, NO_MSG);
    same(await raw('POST', '/chat', { json: ['r1', 'hi'] }), 400, NO_MSG);
    // Bad input changed nothing: no room was opened by it.
    assert.equal(t.server.ctx.rooms!.get('r1'), undefined);
  });

  test('seed 000: chat toggle and post; start/stop answers', async () => {
    same(await raw('GET', '/chat?room=r1&toggle=off'), 200, '{"status":"success","details":{"res":"ok"}}');
    assert.equal(t.server.ctx.gateways!.chatEnabled('r1'), false);
    same(await raw('GET', '/chat?room=r1&toggle=on'), 200, '{"status":"success","details":{"res":"ok"}}');
    assert.equal(t.server.ctx.gateways!.chatEnabled('r1'), true);
    same(await raw('POST', '/chat', { json: { room: 'r1', msg: 'hello room' } }), 200, '{"status":"success","details":{"res":"ok"}}');
    assert.deepEqual(t.server.ctx.rooms!.get('r1')!.history().map((m) => [m.from, m.text]), [['gateway', 'hello room']]);
    same(await raw('GET', '/stop?room=r1'), 200, '{"status":"success","details":{"res":"no gateway running in room r1"}}');
    same(await raw('GET', '/start?room=r1&rtmpDst=http://x'), 400,
      '{"Error":"bad gateway request: a Streaming gateway needs rtmpDst, an rtmp:// or rtmps:// URL with an application path"}');
    same(await raw('GET', '/start?room=..%2Fetc&rtmpDst=rtmp://127.0.0.1/live/x'), 400,
      '{"Error":"bad gateway request: room names are 1-64 letters, digits, \\"-\\", \\"_\\" or \\".\\", starting with a letter or digit: \\"../etc\\""}');
    // Without dial: callers reach the room at sip:<prefix><room>@<domain> (the room dial plan).
    same(await raw('GET', '/start?room=r1&prefix=gw-'), 200, '{"status":"success","details":{"res":"ok","app":"strowger","uri":"sip:gw-r1@strowger.test"}}');
    assert.deepEqual(t.server.ctx.roomDialPlan!.resolve('gw-r1'), { kind: 'room', room: 'r1' });
    const taken = await raw('GET', '/start?room=r5&prefix=gw-r1&domain=example.org');
    same(await raw('GET', '/start?room=r1&prefix=gw-&domain=other.example'), 200, '{"status":"success","details":{"res":"ok","app":"strowger","uri":"sip:gw-r1@other.example"}}');
    assert.equal(taken.status, 200, 'a different user part (gw-r1r5) is free');
    same(await raw('GET', '/stop?room=r1'), 200, '{"status":"success","details":{"res":"SIP gateway mediagw-r1-3 stopped => SIP gateway mediagw-r1-5 stopped"}}');
    assert.equal(t.server.ctx.roomDialPlan!.resolve('gw-r1'), undefined, 'stop unregisters the URI');
    same(await raw('GET', '/stop?room=r5'), 200, '{"status":"success","details":{"res":"SIP gateway mediagw-r5-4 stopped"}}');
  });

  test('seed 001: 401, required parameters, start/status/command/stop shapes', async () => {
    same(await raw('GET', '/gateway/status?gw_id=x', { token: null }), 401, '{"detail":"Not authenticated"}');
    same(await raw('POST', '/gateway/start', { token: pbxKey, json: {} }), 401, '{"detail":"Not authenticated"}');
    same(await raw('POST', '/gateway/start', { json: {} }), 400, '{"gw_id":null,"processing_state":"gw_id is required","detail":"gw_id is required"}');
    same(await raw('POST', '/gateway/start', { json: { gw_id: 'g', type: 'Fax', room: 'r2', webrtc_domain: WEBRTC } }), 400,
      '{"gw_id":"g","processing_state":"type must be one of Record, Streaming, SIP","detail":"type must be one of Record, Streaming, SIP"}');
    same(await raw('POST', '/gateway/start', { json: { gw_id: 'g', type: 'Record', room: 'r2' } }), 400,
      '{"gw_id":"g","processing_state":"webrtc_domain is required","detail":"webrtc_domain is required"}');
    same(await raw('POST', '/gateway/start', { json: { gw_id: 'g', type: 'Record', room: 'r2', webrtc_domain: '{nope' } }), 400,
      '{"gw_id":"g","processing_state":"webrtc_domain must be JSON like {\\"name\\": {\\"name\\": \\"…\\", \\"domain\\": \\"…\\"}}","detail":"webrtc_domain must be JSON like {\\"name\\": {\\"name\\": \\"…\\", \\"domain\\": \\"…\\"}}"}');
    same(await raw('POST', '/gateway/start', { json: { gw_id: 'g', type: 'Record', room: 'r2', webrtc_domain: WEBRTC, transcript: 'perhaps' } }), 400,
      '{"gw_id":"g","processing_state":"transcript must be true or false","detail":"transcript must be true or false"}');
    same(await raw('GET', '/gateway/status?gw_id=nope'), 404, '{"detail":"no gateway with this gw_id: nope"}');
    same(await raw('GET', '/gateway/status'), 400, '{"detail":"gw_id is required"}');
    same(await raw('POST', '/gateway/stop', { json: { gw_id: 'nope' } }), 404,
      '{"gw_id":"nope","processing_state":"no gateway with this gw_id: nope","detail":"no gateway with this gw_id: nope"}');
    same(await raw('POST', '/gateway/command?gw_id=nope', { json: { sendChat: 'x' } }), 404, '{"detail":"no gateway with this gw_id: nope is not running"}');

    same(await raw('POST', '/gateway/start', { json: { gw_id: 'rec1', type: 'Record', room: 'r2', webrtc_domain: JSON.parse(WEBRTC), fromId: 'Recorder' } }), 200,
      '{"gw_id":"rec1","processing_state":"running","task":"record","room":"r2"}');
    same(await raw('POST', '/gateway/start', { json: { gw_id: 'rec1', type: 'Record', room: 'r2', webrtc_domain: WEBRTC } }), 409,
      '{"gw_id":"rec1","processing_state":"a gateway with this gw_id is already running: rec1 is running","detail":"a gateway with this gw_id is already running: rec1 is running"}');
    // Form and query parameters work as well as JSON.
    same(await raw('POST', '/gateway/start', { form: { gw_id: 'rec2', type: 'Record', room: 'r2', webrtc_domain: WEBRTC, transcript: 'false' } }), 200,
      '{"gw_id":"rec2","processing_state":"running","task":"record","room":"r2"}');
    same(await raw('POST', `/gateway/start?gw_id=rec3&type=Record&room=r3&webrtc_domain=${encodeURIComponent(WEBRTC)}`), 200,
      '{"gw_id":"rec3","processing_state":"running","task":"record","room":"r3"}');
    // STROWGER_GATEWAYS_MAX=3: the fourth is refused and nothing is opened for it.
    same(await raw('POST', '/gateway/start', { json: { gw_id: 'rec4', type: 'Record', room: 'r4', webrtc_domain: WEBRTC } }), 503,
      '{"gw_id":"rec4","processing_state":"the maximum number of gateways is reached: 3 gateways are live","detail":"the maximum number of gateways is reached: 3 gateways are live"}');
    same(await raw('GET', '/start?room=r4&rtmpDst=rtmp://127.0.0.1/live/x'), 503, '{"Error":"the maximum number of gateways is reached: 3 gateways are live"}');
    assert.equal(t.server.ctx.rooms!.get('r4'), undefined);

    await new Promise((r) => setTimeout(r, 1100));
    const st = await raw('GET', '/gateway/status?gw_id=rec1');
    assert.equal(st.status, 200);
    assert.deepEqual(Object.keys(st.json), ['gw_id', 'type', 'room', 'processing_state', 'task', 'recording_time', 'transcript_progress', 'participants', 'chat', 'chat_messages', 'started_at', 'ended_at', 'error', 'details']);
    assert.equal(st.json.processing_state, 'running');
    assert.equal(st.json.task, 'record');
    assert.ok(st.json.recording_time >= 1, `recording time grows: ${st.json.recording_time}`);
    assert.equal(st.json.transcript_progress, null);
    assert.deepEqual(st.json.participants.map((p: any) => [p.kind, p.display_name, p.speaks]).sort(), [['recorder', 'Recorder', false], ['recorder', 'recorder rec2', false]]);

    const cmd = await raw('POST', '/gateway/command?gw_id=rec1', { json: { sendChat: 'from the recorder', displayName: 'Rec', frobnicate: 1, dtmf: '12' } });
    same(cmd, 200, JSON.stringify({
      gw_id: 'rec1', ack: true, received: { sendChat: 'from the recorder', displayName: 'Rec', frobnicate: 1, dtmf: '12' },
      executed: ['sendChat', 'displayName'], unknown: ['frobnicate'], failed: { dtmf: 'bad gateway request: a Record gateway has no SIP leg to send DTMF into' },
    }));
    const cmd2 = await raw('POST', '/gateway/command?gw_id=rec1', { json: { command: 'sendChat', value: 'renamed' } });
    assert.deepEqual(cmd2.json.executed, ['sendChat']);
    assert.deepEqual(t.server.ctx.rooms!.get('r2')!.history().map((m) => [m.from, m.text]), [['Recorder', 'from the recorder'], ['Rec', 'renamed']]);

    same(await raw('POST', '/gateway/stop', { json: { gw_id: 'rec1' } }), 200, '{"gw_id":"rec1","processing_state":"stopped","task":"record","room":"r2"}');
    same(await raw('POST', '/gateway/stop', { form: { gw_id: 'rec1' } }), 200, '{"gw_id":"rec1","processing_state":"stopped","task":"record","room":"r2"}');
    const done = await raw('GET', '/gateway/status?gw_id=rec1');
    assert.deepEqual([done.json.processing_state, done.json.participants, typeof done.json.ended_at], ['stopped', [], 'string']);
    // endCall stops the gateway too.
    assert.deepEqual((await raw('POST', '/gateway/command?gw_id=rec2', { json: { endCall: true } })).json.executed, ['endCall']);
    assert.equal((await raw('GET', '/gateway/status?gw_id=rec2')).json.processing_state, 'stopped');
    // A stopped gw_id may start again.
    assert.equal((await raw('POST', '/gateway/start', { json: { gw_id: 'rec1', type: 'Record', room: 'r2', webrtc_domain: WEBRTC } })).json.processing_state, 'running');
  });

  test('Swagger UI and /openapi.json list both families', async () => {
    const spec = await (await fetch(`${t.baseUrl}/openapi.json`)).json() as { paths: Record<string, Record<string, unknown>> };
    for (const [path, method] of [['/start', 'get'], ['/stop', 'get'], ['/chat', 'get'], ['/chat', 'post'], ['/gateway/start', 'post'], ['/gateway/stop', 'post'], ['/gateway/status', 'get'], ['/gateway/command', 'post']]) {
      assert.ok(spec.paths[path]?.[method], `${method.toUpperCase()} ${path} in /openapi.json`);
    }
    const docs = await fetch(`${t.baseUrl}/docs/`);
    assert.equal(docs.status, 200);
    assert.match(await docs.text(), /swagger/i);
  });

  test('a restart ends the gateways it cut short: ended, never running', async () => {
    assert.equal((await raw('GET', '/gateway/status?gw_id=rec3')).json.processing_state, 'running');
    // What a crash leaves behind: a row still `running` with no shutdown to end it.
    await insertGateway(t.server.ctx.store.db, { gwId: 'crashed', room: 'r9', type: 'Streaming', state: 'running', params: {} });
    await t.restart();
    const crashed = await raw('GET', '/gateway/status?gw_id=crashed');
    assert.deepEqual([crashed.json.processing_state, crashed.json.task, crashed.json.error], ['ended', 'streaming', 'the server restarted while the gateway was live']);
    const st = await raw('GET', '/gateway/status?gw_id=rec3');
    assert.equal(st.status, 200);
    assert.equal(st.json.processing_state, 'ended');
    assert.equal(st.json.task, 'record');
    assert.deepEqual(st.json.participants, []);
    assert.match(st.json.error, /shut down/);
    const db = t.server.ctx.store.db;
    const rows = await db.selectFrom('gateways').select(['gw_id', 'state']).orderBy('id').execute();
    assert.ok(rows.every((r) => r.state !== 'running' && r.state !== 'starting'), JSON.stringify(rows));
    const row = rows.find((r) => r.gw_id === 'rec3');
    assert.ok(row);
    const events = await db.selectFrom('gateway_events').innerJoin('gateways', 'gateways.id', 'gateway_events.gateway_id')
      .select(['gateway_events.event']).where('gateways.gw_id', '=', 'rec3').orderBy('gateway_events.id').execute();
    assert.deepEqual(events.map((e) => e.event), ['running', 'ended']);
    // Stop after the restart: the same answer, nothing started.
    same(await raw('POST', '/gateway/stop', { json: { gw_id: 'rec3' } }), 200, '{"gw_id":"rec3","processing_state":"ended","task":"record","room":"r3"}');
  });
});
