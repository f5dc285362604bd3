import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENGINES } from '../helpers/databases.ts';
import { createUserSession, startTestServer, type TestServer } from '../helpers/server.ts';
import { readWavInfo } from '../../src/pbx/moh-wav.ts';
import { DEFAULT_MOH_FILENAME } from '../../src/pbx/moh-default.ts';

/** Fixtures made with ffmpeg from a 440 Hz sine: the same tone in three common formats, plus bad files. */
let fixtures: string;
const fx = (name: string) => readFileSync(join(fixtures, name));

before(() => {
  fixtures = mkdtempSync(join(tmpdir(), 'moh-api-'));
  const ffmpeg = (...args: string[]) => execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=3', ...args]);
  ffmpeg('-ar', '44100', '-ac', '2', join(fixtures, 'tone.mp3'));
  ffmpeg('-ar', '8000', join(fixtures, 'tone.wav'));
  ffmpeg('-ar', '48000', '-ac', '2', '-c:a', 'libvorbis', join(fixtures, 'tone.ogg'));
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-ar', '8000', join(fixtures, 'short.wav')]);
  const mp3 = readFileSync(join(fixtures, 'tone.mp3'));
  writeFileSync(join(fixtures, 'cut.mp3'), mp3.subarray(0, mp3.length >> 1));
  writeFileSync(join(fixtures, 'notes.txt'), 'Shopping list: milk, eggs, bread.\n'.repeat(40));
});
after(() => rmSync(fixtures, { recursive: true, force: true }));

async function send(t: TestServer, path: string, file: Buffer | null, filename: string, cookie: string = t.adminCookie, extra: Record<string, string> = {}) {
  const form = new FormData();
  for (const [k, v] of Object.entries(extra)) form.append(k, v);
  if (file) form.append('file', new Blob([file]), filename);
  const res = await fetch(t.baseUrl + path, { method: 'POST', body: form, headers: cookie ? { cookie } : {} });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Power of `freq` in 16 kHz 16-bit mono samples (Goertzel, ~0.125 for a half-scale sine). */
function power(pcm: Buffer, freq: number): number {
  const x = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length >> 1);
  const k = 2 * Math.cos((2 * Math.PI * freq) / 16000);
  let s1 = 0, s2 = 0;
  for (let i = 0; i < x.length; i++) {
    const s0 = x[i]! / 32768 + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - k * s1 * s2) / (x.length * x.length);
}

const uploadDir = (t: TestServer) => join(t.config.dataDir, 'media', 'moh');
const storedFiles = (t: TestServer) => (existsSync(uploadDir(t)) ? readdirSync(uploadDir(t)).sort() : []);
const leftovers = (t: TestServer) => (existsSync(join(t.config.dataDir, 'tmp')) ? readdirSync(join(t.config.dataDir, 'tmp')).filter((n) => n.startsWith('moh-')) : []);
const rowCount = async (t: TestServer) => Number((await t.server.ctx.store.db.selectFrom('moh_files').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

for (const engine of ENGINES) {
  describe(`music on hold API (${engine})`, () => {
    let t: TestServer;
    let userCookie: string;
    const ids: Record<string, number> = {};

    before(async () => {
      t = await startTestServer(engine);
      userCookie = await createUserSession(t);
    });
    after(() => t?.close());

    test('GET /api/calls/moh: on, default source, for any logged-in user; 401 without a session', async () => {
      assert.deepEqual((await t.request('GET', '/api/calls/moh', { cookie: userCookie })).body, { enabled: true, source: 'default', file: null });
      const r = await t.request('GET', '/api/calls/moh');
      assert.equal(r.status, 401);
      assert.equal(r.body.error.code, 'authentication_error');
    });

    for (const [name, codec, rate, channels] of [['tone.mp3', 'mp3', 44100, 2], ['tone.wav', 'pcm_s16le', 8000, 1], ['tone.ogg', 'vorbis', 48000, 2]] as const) {
      test(`upload ${name}: converted to WAV 16 kHz mono 16-bit, 3 s, still a 440 Hz tone`, async () => {
        const r = await send(t, '/api/calls/moh/upload', fx(name), name);
        assert.equal(r.status, 201, JSON.stringify(r.body));
        const f = r.body;
        ids[name] = f.id;
        assert.equal(f.original_filename, name);
        assert.equal(f.name, 'tone');
        assert.deepEqual([f.original_codec, f.original_sample_rate, f.original_channels, f.original_size], [codec, rate, channels, fx(name).length]);
        assert.deepEqual([f.sample_rate, f.channels, f.in_use], [16000, 1, false]);
        assert.ok(Math.abs(f.duration - 3) < 0.06, `duration ${f.duration}`);
        const path = join(uploadDir(t), `${f.id}.wav`);
        const wav = readFileSync(path);
        assert.equal(wav.length, f.size);
        const info = readWavInfo(wav)!;
        assert.deepEqual([info.format, info.channels, info.sampleRate, info.bitsPerSample], [1, 1, 16000, 16]);
        assert.equal(info.durationMs / 1000, f.duration);
        const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_streams', path], { encoding: 'utf8' })).streams[0];
        assert.deepEqual([probe.codec_name, probe.sample_rate, probe.channels], ['pcm_s16le', '16000', 1]);
        const pcm = wav.subarray(info.dataOffset);
        assert.ok(power(pcm, 440) > 100 * power(pcm, 1000), 'the tone survived conversion');
        assert.deepEqual(leftovers(t), []);
      });
    }

    test('upload takes a display name from a "name" field sent before the file', async () => {
      const r = await send(t, '/api/calls/moh/upload', fx('tone.wav'), 'tone.wav', t.adminCookie, { name: 'Lobby loop' });
      assert.equal(r.status, 201);
      assert.equal(r.body.name, 'Lobby loop');
      ids.named = r.body.id;
    });

    const bad: Array<[string, string, RegExp]> = [
      ['notes.txt', 'moh_not_audio', /not an audio file/],
      ['cut.mp3', 'moh_corrupt', /truncated or damaged: it declares 3\.0 s but only 1\.\d s decode/],
    ];
    for (const [name, reason, message] of bad) {
      test(`upload ${name} → 400 ${reason}, no row, no file, no temporary file`, async () => {
        const rows = await rowCount(t), files = storedFiles(t);
        const r = await send(t, '/api/calls/moh/upload', fx(name), name);
        assert.equal(r.status, 400);
        assert.equal(r.body.error.code, 'bad_request');
        assert.equal(r.body.error.details.reason, reason);
        assert.match(r.body.error.message, message);
        assert.match(r.body.error.details.problems[0], message);
        assert.equal(await rowCount(t), rows);
        assert.deepEqual(storedFiles(t), files);
        assert.deepEqual(leftovers(t), []);
      });
    }

    test('upload or validate without a "file" part → 400 moh_missing_file', async () => {
      for (const path of ['/api/calls/moh/upload', '/api/calls/moh/validate']) {
        const r = await send(t, path, null, '', t.adminCookie, { name: 'x' });
        assert.equal(r.status, 400);
        assert.equal(r.body.error.details.reason, 'moh_missing_file');
      }
      const json = await t.request('POST', '/api/calls/moh/upload', { cookie: t.adminCookie, body: { file: 'x' } });
      assert.equal(json.status, 400);
    });

    test('validate: a good Ogg is described and nothing is stored', async () => {
      const rows = await rowCount(t), files = storedFiles(t);
      const r = await send(t, '/api/calls/moh/validate', fx('tone.ogg'), 'tone.ogg');
      assert.equal(r.status, 200);
      assert.deepEqual({ ...r.body, duration: Math.round(r.body.duration * 10) / 10 }, {
        valid: true, duration: 3, sample_rate: 48000, channels: 2, codec: 'vorbis', format: 'ogg', size: fx('tone.ogg').length, problems: [], problem_codes: [],
      });
      assert.equal(await rowCount(t), rows);
      assert.deepEqual(storedFiles(t), files);
      assert.deepEqual(leftovers(t), []);
    });

    test('validate: a text file and a cut MP3 are reported with their problems', async () => {
      const txt = await send(t, '/api/calls/moh/validate', fx('notes.txt'), 'notes.txt');
      assert.equal(txt.status, 200);
      assert.deepEqual([txt.body.valid, txt.body.duration, txt.body.codec, txt.body.problem_codes], [false, null, null, ['moh_not_audio']]);
      assert.match(txt.body.problems[0], /not an audio file/);
      const cut = await send(t, '/api/calls/moh/validate', fx('cut.mp3'), 'cut.mp3');
      assert.deepEqual([cut.body.valid, cut.body.codec, cut.body.sample_rate, cut.body.problem_codes], [false, 'mp3', 44100, ['moh_corrupt']]);
      assert.ok(cut.body.duration > 1 && cut.body.duration < 2, `decoded ${cut.body.duration}`);
      assert.deepEqual(leftovers(t), []);
    });

    test('PUT/GET round trip; the file in use is what currentMohFile() plays; change event fires', async () => {
      const events: unknown[] = [];
      const off = t.server.ctx.moh.onChange((s) => events.push(s));
      const id = ids['tone.ogg']!;
      const put = await t.request('PUT', '/api/calls/moh', { cookie: t.adminCookie, body: { enabled: true, source: String(id) } });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.equal(put.body.source, String(id));
      assert.equal(put.body.file.id, id);
      assert.equal(put.body.file.in_use, true);
      const get = await t.request('GET', '/api/calls/moh', { cookie: userCookie });
      assert.deepEqual(get.body, put.body);
      assert.equal(await t.server.ctx.moh.currentMohFile(), join(uploadDir(t), `${id}.wav`));
      // A number is accepted too.
      assert.equal((await t.request('PUT', '/api/calls/moh', { cookie: t.adminCookie, body: { source: ids['tone.mp3'] } })).body.source, String(ids['tone.mp3']));
      const off2 = await t.request('PUT', '/api/calls/moh', { cookie: t.adminCookie, body: { enabled: false } });
      assert.deepEqual([off2.body.enabled, off2.body.source], [false, String(ids['tone.mp3'])]);
      assert.equal(await t.server.ctx.moh.currentMohFile(), null);
      const dflt = await t.request('PUT', '/api/calls/moh', { cookie: t.adminCookie, body: { enabled: true, source: 'default' } });
      assert.deepEqual(dflt.body, { enabled: true, source: 'default', file: null });
      assert.equal(await t.server.ctx.moh.currentMohFile(), join(t.config.dataDir, 'moh', DEFAULT_MOH_FILENAME));
      off();
      assert.deepEqual(events, [
        { enabled: true, source: String(id) }, { enabled: true, source: String(ids['tone.mp3']) },
        { enabled: false, source: String(ids['tone.mp3']) }, { enabled: true, source: 'default' },
      ]);
    });

    test('PUT validation: unknown file id, bad source, unknown field, empty body → 400 envelope, nothing changes', async () => {
      const unknown = await t.request('PUT', '/api/calls/moh', { cookie: t.adminCookie, body: { enabled: false, source: '9999' } });
      assert.equal(unknown.status, 400);
      assert.deepEqual(unknown.body, { error: { code: 'validation_error', message: 'Validation failed', details: [{ field: 'source', message: 'No uploaded music-on-hold file has id 9999' }] } });
      for (const body of [{ source: 'jazz' }, { source: 0 }, { enabled: 'yes please' }, { volume: 3 }, {}]) {
        const r = await t.request('PUT', '/api/calls/moh', { cookie: t.adminCookie, body });
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.equal(r.body.error.code, 'validation_error');
      }
      assert.deepEqual((await t.request('GET', '/api/calls/moh', { cookie: t.adminCookie })).body, { enabled: true, source: 'default', file: null });
    });

    test('list files; delete the one in use → source back to default, file gone from disk', async () => {
      const list = await t.request('GET', '/api/calls/moh/files?limit=2', { cookie: t.adminCookie });
      assert.equal(list.status, 200);
      assert.equal(list.body.pagination.total, 4);
      assert.deepEqual(list.body.data.map((f: any) => f.id), [ids['tone.mp3'], ids['tone.wav']]);
      const id = ids['tone.wav']!;
      await t.request('PUT', '/api/calls/moh', { cookie: t.adminCookie, body: { source: id } });
      assert.equal((await t.request('GET', `/api/calls/moh/files/${id}`, { cookie: t.adminCookie })).body.in_use, true);
      const events: unknown[] = [];
      const off = t.server.ctx.moh.onChange((s) => events.push(s));
      const del = await t.request('DELETE', `/api/calls/moh/files/${id}`, { cookie: t.adminCookie });
      off();
      assert.deepEqual([del.status, del.body], [200, { success: true }]);
      assert.deepEqual(events, [{ enabled: true, source: 'default' }]);
      assert.equal(existsSync(join(uploadDir(t), `${id}.wav`)), false);
      assert.deepEqual((await t.request('GET', '/api/calls/moh', { cookie: t.adminCookie })).body.source, 'default');
      assert.equal((await t.request('DELETE', `/api/calls/moh/files/${id}`, { cookie: t.adminCookie })).status, 404);
      assert.equal((await t.request('GET', `/api/calls/moh/files/${id}`, { cookie: t.adminCookie })).body.error.code, 'not_found');
      // Deleting a file not in use leaves the setting alone.
      await t.request('PUT', '/api/calls/moh', { cookie: t.adminCookie, body: { source: ids['tone.mp3'] } });
      assert.equal((await t.request('DELETE', `/api/calls/moh/files/${ids.named}`, { cookie: t.adminCookie })).status, 200);
      assert.equal((await t.request('GET', '/api/calls/moh', { cookie: t.adminCookie })).body.source, String(ids['tone.mp3']));
      assert.deepEqual(storedFiles(t), [`${ids['tone.mp3']}.wav`, `${ids['tone.ogg']}.wav`].sort());
    });

    test('a non-admin may read the setting but not change it, upload, validate, list or delete (403)', async () => {
      const before = (await t.request('GET', '/api/calls/moh', { cookie: userCookie })).body;
      const checks = [
        await t.request('PUT', '/api/calls/moh', { cookie: userCookie, body: { enabled: false } }),
        await send(t, '/api/calls/moh/upload', fx('tone.wav'), 'tone.wav', userCookie),
        await send(t, '/api/calls/moh/validate', fx('tone.wav'), 'tone.wav', userCookie),
        await t.request('GET', '/api/calls/moh/files', { cookie: userCookie }),
        await t.request('GET', `/api/calls/moh/files/${ids['tone.mp3']}`, { cookie: userCookie }),
        await t.request('DELETE', `/api/calls/moh/files/${ids['tone.mp3']}`, { cookie: userCookie }),
      ];
      assert.deepEqual(checks.map((r) => [r.status, r.body.error.code]), Array(6).fill([403, 'authorization_error']));
      const anon = [
        await send(t, '/api/calls/moh/upload', fx('tone.wav'), 'tone.wav', ''),
        await t.request('PUT', '/api/calls/moh', { body: { enabled: false } }),
        await t.request('DELETE', `/api/calls/moh/files/${ids['tone.mp3']}`),
      ];
      assert.deepEqual(anon.map((r) => r.status), [401, 401, 401]);
      assert.deepEqual((await t.request('GET', '/api/calls/moh', { cookie: userCookie })).body, before);
      assert.equal(await rowCount(t), 2);
    });

    test('the setting and the files survive a restart', async () => {
      await t.restart();
      assert.equal((await t.request('GET', '/api/calls/moh', { cookie: t.adminCookie })).body.source, String(ids['tone.mp3']));
      assert.equal(await t.server.ctx.moh.currentMohFile(), join(uploadDir(t), `${ids['tone.mp3']}.wav`));
    });
  });
}

describe('music on hold limits (STROWGER_MOH_MAX_SECONDS, STROWGER_MOH_MAX_BYTES)', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer('sqlite', { STROWGER_MOH_MAX_SECONDS: '2', STROWGER_MOH_MAX_BYTES: '100000' });
  });
  after(() => t?.close());

  test('a 3 s file over a 2 s limit → 400 moh_too_long, nothing stored', async () => {
    const r = await send(t, '/api/calls/moh/upload', fx('tone.mp3'), 'tone.mp3');
    assert.equal(r.status, 400);
    assert.equal(r.body.error.details.reason, 'moh_too_long');
    assert.match(r.body.error.message, /too long: 3\.0 s, the limit is 2 s/);
    assert.equal(await rowCount(t), 0);
    assert.deepEqual(storedFiles(t), []);
    assert.deepEqual(leftovers(t), []);
  });

  test('a file over the byte limit → 400 moh_too_large (upload) and a problem (validate), nothing stored', async () => {
    const big = Buffer.concat([fx('tone.wav'), Buffer.alloc(100_000)]);
    const up = await send(t, '/api/calls/moh/upload', big, 'big.wav');
    assert.equal(up.status, 400);
    assert.equal(up.body.error.details.reason, 'moh_too_large');
    assert.match(up.body.error.message, /too large: more than 100000 bytes/);
    const v = await send(t, '/api/calls/moh/validate', big, 'big.wav');
    assert.deepEqual([v.status, v.body.valid, v.body.problem_codes, v.body.size], [200, false, ['moh_too_large'], 100_001]);
    assert.equal(await rowCount(t), 0);
    assert.deepEqual(storedFiles(t), []);
    assert.deepEqual(leftovers(t), []);
    // The server is fine afterwards: a small valid file still goes in.
    const ok = await send(t, '/api/calls/moh/upload', fx('short.wav'), 'short.wav');
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.equal(ok.body.duration, 1);
  });

  test('/openapi.json documents every MOH route, uploads as multipart with a binary file', async () => {
    const spec = (await t.request('GET', '/openapi.json')).body;
    const have = (m: string, p: string) => spec.paths[p]?.[m];
    for (const [m, p] of [['get', '/api/calls/moh'], ['put', '/api/calls/moh'], ['post', '/api/calls/moh/upload'], ['post', '/api/calls/moh/validate'],
      ['get', '/api/calls/moh/files'], ['get', '/api/calls/moh/files/{id}'], ['delete', '/api/calls/moh/files/{id}']] as const) {
      assert.ok(have(m, p), `${m} ${p}`);
      assert.equal(have(m, p).responses['501'], undefined, `${m} ${p} is no stub any more`);
    }
    for (const p of ['/api/calls/moh/upload', '/api/calls/moh/validate']) {
      assert.equal(spec.paths[p].post.requestBody.content['multipart/form-data'].schema.properties.file.format, 'binary');
    }
    assert.ok(spec.paths['/api/calls/moh/upload'].post.responses['201']);
  });
});
