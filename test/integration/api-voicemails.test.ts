/**
 * `/api/voicemails` (issue 11): every route's success, validation error, missing auth and
 * another user's message (404); the audio URL with HTTP ranges (206 with the right bytes,
 * 416 outside the file), 410 when the file is gone, idempotent DELETE, and the
 * `pbx.voicemail.changed` events MWI relies on.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { writeWavPcm, makeTone } from '../helpers/audio-analysis.ts';
import type { VoicemailChanged } from '../../src/events.ts';
import type { MailboxRef } from '../../src/store/voicemails.ts';

describe('/api/voicemails', () => {
  let t: TestServer;
  let userCookie: string;
  let mine: number;
  let theirs: number;
  let didMsg: number;
  const events: VoicemailChanged[] = [];

  const leave = async (mailbox: MailboxRef, seconds: number) => {
    const files = t.server.ctx.voicemail!;
    const tmp = await files.tempPath();
    writeWavPcm(tmp, makeTone({ freq: 500, seconds }), 8000);
    return (await files.store(tmp, { mailbox, callerNumber: '+15550001111', callerName: 'Alice', called: '1001', durationSeconds: seconds }, 'wav')).id;
  };
  const as = (cookie: string | undefined) => (method: string, path: string, headers?: Record<string, string>) => t.request(method, path, { cookie, headers });

  before(async () => {
    t = await startTestServer('sqlite', {});
    t.server.ctx.events.on('pbx.voicemail.changed', (e) => events.push(e));
    const user = await t.request('POST', '/api/users', { cookie: t.adminCookie, body: { email: 'user@example.test', password: 'user-password-1', role: 'user' } });
    assert.equal(user.status, 201, JSON.stringify(user.body));
    userCookie = await t.login('user@example.test', 'user-password-1');
    const dev = await t.request('POST', '/api/devices', { cookie: t.adminCookie, body: { name: 'u', username: '2001', password: 'device-pass-1234', user_id: user.body.id } });
    const other = await t.request('POST', '/api/devices', { cookie: t.adminCookie, body: { name: 'o', username: '2002', password: 'device-pass-1234' } });
    mine = await leave({ kind: 'device', id: dev.body.id }, 2);
    theirs = await leave({ kind: 'device', id: other.body.id }, 1);
    didMsg = await leave({ kind: 'did', id: 1 }, 1);
  });
  after(async () => { await t?.close(); });

  test('list: admins see every mailbox, a user their devices\' only; read filter and pagination', async () => {
    const all = await as(t.adminCookie)('GET', '/api/voicemails?limit=2&offset=0');
    assert.equal(all.status, 200);
    assert.deepEqual(all.body.pagination, { total: 3, limit: 2, offset: 0 });
    assert.deepEqual(all.body.data.map((v: any) => v.id), [didMsg, theirs]);
    const own = await as(userCookie)('GET', '/api/voicemails');
    assert.deepEqual(own.body.data.map((v: any) => v.id), [mine]);
    const v = own.body.data[0];
    assert.deepEqual({ ...v, created_at: undefined, size: undefined }, {
      id: mine, mailbox: v.mailbox, device_id: v.device_id, did_id: null, caller_id: '+15550001111', caller_name: 'Alice', called: '1001', duration: 2,
      is_read: false, read_at: null, audio_url: `/api/voicemails/${mine}/audio`, format: 'wav', size: undefined, transcription: null,
      transcription_state: 'none', transcription_engine: null, mail_state: 'none', mail_error: null, created_at: undefined,
      twilio_call_sid: null, twilio_recording: null,
    });
    assert.equal(v.size, 44 + 2 * 8000 * 2);
    assert.equal((await as(userCookie)('GET', '/api/voicemails?read=true')).body.pagination.total, 0);
    assert.equal((await as(userCookie)('GET', '/api/voicemails/unread')).body.pagination.total, 1);
    for (const bad of ['/api/voicemails?read=maybe', '/api/voicemails?limit=0', '/api/voicemails/unread?offset=-1']) {
      const r = await as(t.adminCookie)('GET', bad);
      assert.equal(r.status, 400, bad);
      assert.equal(r.body.error.code, 'validation_error');
    }
    for (const path of ['/api/voicemails', '/api/voicemails/unread', `/api/voicemails/${mine}`, `/api/voicemails/${mine}/audio`]) {
      const r = await as(undefined)('GET', path);
      assert.equal(r.status, 401, path);
      assert.equal(r.body.error.code, 'authentication_error');
    }
  });

  test('get and audio: another user\'s message and a DID mailbox are 404 to a user; bad ids are 400', async () => {
    assert.equal((await as(userCookie)('GET', `/api/voicemails/${mine}`)).status, 200);
    for (const id of [theirs, didMsg, 99999]) {
      for (const [method, path] of [['GET', `/api/voicemails/${id}`], ['GET', `/api/voicemails/${id}/audio`], ['PUT', `/api/voicemails/${id}/read`], ['DELETE', `/api/voicemails/${id}`]] as const) {
        if (method === 'DELETE' && id === 99999) continue;
        const r = await as(userCookie)(method, path);
        assert.equal(r.status, 404, `${method} ${path}`);
        assert.equal(r.body.error.code, 'not_found');
      }
    }
    for (const [method, path] of [['GET', '/api/voicemails/abc'], ['GET', '/api/voicemails/0/audio'], ['PUT', '/api/voicemails/x/read'], ['DELETE', '/api/voicemails/-1']] as const) {
      assert.equal((await as(userCookie)(method, path)).status, 400, `${method} ${path}`);
    }
    assert.equal((await as(undefined)('PUT', `/api/voicemails/${mine}/read`)).status, 401);
    assert.equal((await as(undefined)('DELETE', `/api/voicemails/${mine}`)).status, 401);
  });

  test('audio: whole file, 206 with the requested bytes, suffix range, 416 outside the file', async () => {
    const path = t.server.ctx.voicemail!.absolutePath(await t.server.ctx.store.db.selectFrom('voicemails').select('file_path').where('id', '=', mine).executeTakeFirstOrThrow());
    const bytes = readFileSync(path);
    const get = (range?: string) => fetch(`${t.baseUrl}/api/voicemails/${mine}/audio`, { headers: { cookie: userCookie, ...(range ? { range } : {}) } });
    const whole = await get();
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('accept-ranges'), 'bytes');
    assert.equal(whole.headers.get('content-type'), 'audio/wav');
    assert.deepEqual(Buffer.from(await whole.arrayBuffer()), bytes);
    const part = await get('bytes=1000-1999');
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 1000-1999/${bytes.length}`);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), bytes.subarray(1000, 2000));
    const tail = await get('bytes=-100');
    assert.equal(tail.status, 206);
    assert.deepEqual(Buffer.from(await tail.arrayBuffer()), bytes.subarray(bytes.length - 100));
    const open = await get(`bytes=${bytes.length - 10}-`);
    assert.equal(open.status, 206);
    assert.equal((await open.arrayBuffer()).byteLength, 10);
    const outside = await get(`bytes=${bytes.length}-`);
    assert.equal(outside.status, 416);
    assert.equal(outside.headers.get('content-range'), `bytes */${bytes.length}`);
    assert.equal(((await outside.json()) as any).error.code, 'range_not_satisfiable');
    assert.equal((await get('bytes=0-1,5-9')).status, 200, 'several ranges: the whole file');
  });

  test('PUT read marks it read (once more is fine) and announces it', async () => {
    events.length = 0;
    const r = await as(userCookie)('PUT', `/api/voicemails/${mine}/read`);
    assert.equal(r.status, 200);
    assert.equal(r.body.is_read, true);
    assert.match(r.body.read_at, /^\d{4}-/);
    assert.equal((await as(userCookie)('PUT', `/api/voicemails/${mine}/read`)).status, 200);
    assert.deepEqual(events[0], { mailbox: r.body.mailbox, device_id: r.body.device_id, did_id: null, voicemail_id: mine, reason: 'read' });
    assert.equal((await as(userCookie)('GET', '/api/voicemails/unread')).body.pagination.total, 0);
  });

  test('a file missing on disk: 410 on the audio, the metadata still readable; DELETE removes row and file, twice is fine', async () => {
    const db = t.server.ctx.store.db;
    const files = t.server.ctx.voicemail!;
    const pathOf = async (id: number) => files.absolutePath(await db.selectFrom('voicemails').select('file_path').where('id', '=', id).executeTakeFirstOrThrow());
    const lost = await pathOf(theirs);
    rmSync(lost);
    const gone = await as(t.adminCookie)('GET', `/api/voicemails/${theirs}/audio`);
    assert.equal(gone.status, 410);
    assert.equal(gone.body.error.code, 'gone');
    assert.match(gone.body.error.message, /missing/);
    assert.equal((await as(t.adminCookie)('GET', `/api/voicemails/${theirs}`)).status, 200);

    const file = await pathOf(mine);
    events.length = 0;
    const del = await as(userCookie)('DELETE', `/api/voicemails/${mine}`);
    assert.equal(del.status, 200);
    assert.deepEqual(del.body, { success: true, deleted: true });
    assert.equal(existsSync(file), false);
    assert.equal(events[0]?.reason, 'deleted');
    assert.deepEqual((await as(userCookie)('DELETE', `/api/voicemails/${mine}`)).body, { success: true, deleted: false });
    assert.equal((await as(userCookie)('GET', `/api/voicemails/${mine}`)).status, 404);
    assert.deepEqual((await as(t.adminCookie)('DELETE', `/api/voicemails/${theirs}`)).body, { success: true, deleted: true });
  });

  test('start-up sweep: an interrupted recording and a file without a row are removed, stored messages kept', async () => {
    const files = t.server.ctx.voicemail!;
    const tmp = await files.tempPath();
    writeWavPcm(tmp, makeTone({ freq: 500, seconds: 1 }), 8000);
    const orphan = join(files.mediaRoot, 'voicemail', 'device-9', 'orphan.wav');
    writeWavPcm(tmp + '.x', makeTone({ freq: 500, seconds: 1 }), 8000);
    mkdirSync(join(files.mediaRoot, 'voicemail', 'device-9'), { recursive: true });
    renameSync(tmp + '.x', orphan);
    await t.restart();
    assert.equal(existsSync(tmp), false);
    assert.equal(existsSync(orphan), false);
    const kept = t.server.ctx.voicemail!.absolutePath(await t.server.ctx.store.db.selectFrom('voicemails').select('file_path').where('id', '=', didMsg).executeTakeFirstOrThrow());
    assert.equal(existsSync(kept), true);
  });
});
