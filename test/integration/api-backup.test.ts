import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import type { Kysely } from 'kysely';
import { ENGINES } from '../helpers/databases.ts';
import { ADMIN_EMAIL, ADMIN_PASSWORD, createUserSession, startTestServer, type TestServer } from '../helpers/server.ts';
import { BACKUP_TABLES } from '../../src/store/backup-tables.ts';
import { migrations } from '../../src/store/migrations/index.ts';
import type { DB } from '../../src/store/schema.ts';

const SECRET_KEY = randomBytes(32).toString('hex');
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

interface Entry { name: string; data?: Buffer; type?: 'file' | 'symlink' | 'directory' | 'link'; linkname?: string }

async function unpack(gz: Buffer): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const extract = tar.extract();
  Readable.from([gunzipSync(gz)]).pipe(extract);
  for await (const e of extract) {
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(c as Buffer);
    out.set(e.header.name, Buffer.concat(chunks));
  }
  return out;
}

async function pack(entries: Entry[]): Promise<Buffer> {
  const p = tar.pack();
  for (const e of entries) {
    if (e.type === 'symlink' || e.type === 'link' || e.type === 'directory') p.entry({ name: e.name, type: e.type, linkname: e.linkname });
    else p.entry({ name: e.name }, e.data ?? Buffer.alloc(0));
  }
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return gzipSync(Buffer.concat(chunks));
}

/** Repacks a backup with edits; `fixManifest` recomputes checksums and counts (a well-formed but different archive). */
async function repack(gz: Buffer, edit: (files: Map<string, Buffer>) => void, fixManifest = false, extra: Entry[] = []): Promise<Buffer> {
  const files = await unpack(gz);
  edit(files);
  if (fixManifest) {
    const m = JSON.parse(files.get('manifest.json')!.toString());
    for (const [name, t] of Object.entries<any>(m.tables)) {
      const data = files.get(`db/${name}.jsonl`)!;
      t.sha256 = sha256(data);
      t.rows = data.toString().split('\n').filter(Boolean).length;
    }
    files.set('manifest.json', Buffer.from(JSON.stringify(m)));
  }
  return pack([...[...files].map(([name, data]) => ({ name, data })), ...extra]);
}

async function dumpAll(db: Kysely<DB>): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const t of BACKUP_TABLES) out[t.name] = await (db as Kysely<any>).selectFrom(t.name).selectAll().orderBy(t.pk).execute();
  return out;
}

function listMedia(dataDir: string): Record<string, string> {
  const root = join(dataDir, 'media');
  const out: Record<string, string> = {};
  if (!existsSync(root)) return out;
  for (const e of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out[join(e.parentPath ?? (e as any).path, e.name).slice(root.length + 1)] = readFileSync(join(e.parentPath ?? (e as any).path, e.name), 'utf8');
  }
  return out;
}

async function backup(t: TestServer, cookie = t.adminCookie): Promise<Buffer> {
  const res = await fetch(`${t.baseUrl}/api/system/backup`, { method: 'POST', headers: { cookie } });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(res.headers.get('content-type'), 'application/gzip');
  assert.match(res.headers.get('content-disposition')!, /^attachment; filename="strowger-backup-[0-9TZ-]+\.tar\.gz"$/);
  const buf = Buffer.from(await res.arrayBuffer());
  assert.equal(Number(res.headers.get('content-length')), buf.length);
  return buf;
}

async function restore(t: TestServer, archive: Buffer, cookie = t.adminCookie, field = 'file'): Promise<{ status: number; body: any; headers: Headers }> {
  const fd = new FormData();
  fd.append(field, new Blob([archive], { type: 'application/gzip' }), 'backup.tar.gz');
  const res = await fetch(`${t.baseUrl}/api/system/restore`, { method: 'POST', headers: { cookie }, body: fd });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

/** Rows in every table, a key, sealed settings and two media files. */
async function seed(t: TestServer): Promise<void> {
  const db = t.server.ctx.store.db;
  const now = new Date().toISOString();
  await createUserSession(t, 'alice@example.com', 'alice-password');
  const key = await t.request('POST', '/api/keys', { cookie: t.adminCookie, body: { name: 'script', scopes: ['pbx'] } });
  assert.equal(key.status, 201);
  const cfg = await t.request('PUT', '/api/system/config', { cookie: t.adminCookie, body: { twilio_account_sid: 'AC0123456789abcdef0123456789abcdef', twilio_auth_token: 'token-0123456789abcdef' } });
  assert.equal(cfg.status, 200);
  const srtp = await t.request('PUT', '/api/system/srtp/config', { cookie: t.adminCookie, body: { default_policy: 'optional', suites: ['AES_CM_128_HMAC_SHA1_80'] } });
  assert.equal(srtp.status, 200);
  const dev = await db.insertInto('devices').values({ name: 'Desk "1"\nline', username: '1001', password_enc: t.server.ctx.box.seal('pw'), type: 'grandstream', user_id: null, caller_id: null, created_at: now, updated_at: now }).returning('id').executeTakeFirstOrThrow();
  await db.insertInto('device_events').values({ device_id: dev.id, category: 'provisioning', type: 'fetched', detail: '{"ua":"x"}', source_ip: '10.0.0.1', created_at: now }).execute();
  const did = await db.insertInto('dids').values({ phone_number: '+15551234567', friendly_name: 'Main — ☎', capabilities: '["voice"]', twilio_sid: null, created_at: now, updated_at: now }).returning('id').executeTakeFirstOrThrow();
  await db.insertInto('routes').values({ name: 'Hours', did_id: did.id, priority: 1, conditions: '{}', action: 'forward', action_data: `{"device_id":${dev.id}}`, created_at: now, updated_at: now }).execute();
  await db.insertInto('blocklist').values({ phone_number: '+15550000000', reason: null, created_at: now }).execute();
  const media = join(t.config.dataDir, 'media');
  mkdirSync(join(media, 'voicemail', '1'), { recursive: true });
  writeFileSync(join(media, 'voicemail', '1', 'msg-1.wav'), 'RIFF-fake-voicemail');
  writeFileSync(join(media, 'moh.wav'), 'RIFF-fake-moh');
}

/** Changes every table and the media dir, so a restore has something to undo. */
async function mutate(t: TestServer): Promise<void> {
  const db = t.server.ctx.store.db;
  const now = new Date().toISOString();
  const alice = await db.selectFrom('users').select('id').where('email', '=', 'alice@example.com').executeTakeFirstOrThrow();
  assert.equal((await t.request('DELETE', `/api/users/${alice.id}`, { cookie: t.adminCookie })).status, 200);
  assert.equal((await t.request('POST', '/api/users', { cookie: t.adminCookie, body: { email: 'bob@example.com', password: 'bob-password', role: 'admin' } })).status, 201);
  await db.deleteFrom('api_keys').execute();
  await t.request('PUT', '/api/system/config', { cookie: t.adminCookie, body: { twilio_auth_token: null, timezone: 'UTC' } });
  assert.equal((await t.request('PUT', '/api/system/srtp/config', { cookie: t.adminCookie, body: { default_policy: 'required', suites: ['AEAD_AES_128_GCM'] } })).status, 200);
  await db.deleteFrom('devices').execute();
  await db.insertInto('blocklist').values({ phone_number: '+15559999999', reason: 'spam', created_at: now }).execute();
  await db.updateTable('dids').set({ friendly_name: 'changed' }).execute();
  const media = join(t.config.dataDir, 'media');
  rmSync(join(media, 'moh.wav'));
  writeFileSync(join(media, 'new.wav'), 'added after the backup');
}

for (const engine of ENGINES) {
  describe(`backup and restore (${engine})`, () => {
    let t: TestServer;
    let archive: Buffer;
    let before_: Record<string, unknown[]>;
    let mediaBefore: Record<string, string>;
    before(async () => {
      t = await startTestServer(engine, { STROWGER_SECRET_KEY: SECRET_KEY });
      await seed(t);
      before_ = await dumpAll(t.server.ctx.store.db);
      mediaBefore = listMedia(t.config.dataDir);
    });
    after(() => t.close());

    test('backup: manifest, one JSON Lines file per table, media, checksums', async () => {
      archive = await backup(t);
      const files = await unpack(archive);
      const names = [...files.keys()];
      assert.deepEqual(names, ['manifest.json', ...BACKUP_TABLES.map((x) => `db/${x.name}.jsonl`), 'media/moh.wav', 'media/voicemail/1/msg-1.wav']);
      const m = JSON.parse(files.get('manifest.json')!.toString());
      assert.equal(m.format, 'strowger-backup');
      assert.equal(m.format_version, 1);
      assert.equal(m.engine, engine);
      assert.equal(m.app_version, t.server.ctx.version);
      assert.equal(m.migration, Object.keys(migrations).sort().at(-1));
      assert.match(m.key_id, /^[0-9a-f]{16}$/);
      assert.ok(!files.get('manifest.json')!.toString().includes(SECRET_KEY));
      for (const x of BACKUP_TABLES) {
        const data = files.get(`db/${x.name}.jsonl`)!;
        assert.deepEqual(m.tables[x.name], { file: `db/${x.name}.jsonl`, rows: before_[x.name]!.length, sha256: sha256(data) });
        const rows = data.toString().split('\n').filter(Boolean).map((l) => JSON.parse(l));
        assert.deepEqual(rows, before_[x.name]);
      }
      assert.deepEqual(m.files, [
        { path: 'media/moh.wav', size: 13, sha256: sha256('RIFF-fake-moh') },
        { path: 'media/voicemail/1/msg-1.wav', size: 19, sha256: sha256('RIFF-fake-voicemail') },
      ]);
      // Sealed secrets stay sealed in the archive.
      assert.ok(!archive.includes('token-0123456789abcdef'));
      assert.ok(!gunzipSync(archive).includes('token-0123456789abcdef'));
      // The staging dir is gone once the download ends.
      assert.deepEqual(readdirSync(join(t.config.dataDir, 'tmp')), []);
    });

    test('refused archives answer 400 and change nothing', async () => {
      await mutate(t);
      const changed = await dumpAll(t.server.ctx.store.db);
      const mediaChanged = listMedia(t.config.dataDir);
      assert.notDeepEqual(changed, before_);
      const cases: Array<[string, Buffer, string]> = [
        ['truncated', archive.subarray(0, Math.floor(archive.length * 0.6)), 'backup_corrupt'],
        ['not gzip', Buffer.from('hello, not an archive'), 'backup_corrupt'],
        ['tampered row (checksum mismatch)', await repack(archive, (f) => f.set('db/users.jsonl', Buffer.from(f.get('db/users.jsonl')!.toString().replace('alice@', 'mallory@')))), 'backup_checksum_mismatch'],
        ['tampered media', await repack(archive, (f) => f.set('media/moh.wav', Buffer.from('evil'))), 'backup_checksum_mismatch'],
        ['path traversal', await repack(archive, () => {}, false, [{ name: 'media/../../escaped.txt', data: Buffer.from('x') }]), 'backup_unsafe_entry'],
        ['dot-dot at the top', await repack(archive, () => {}, false, [{ name: '../escaped.txt', data: Buffer.from('x') }]), 'backup_unsafe_entry'],
        ['absolute path', await repack(archive, () => {}, false, [{ name: '/tmp/escaped.txt', data: Buffer.from('x') }]), 'backup_unsafe_entry'],
        ['symlink', await repack(archive, () => {}, false, [{ name: 'media/link.wav', type: 'symlink', linkname: '/etc/passwd' }]), 'backup_unsafe_entry'],
        ['hard link', await repack(archive, () => {}, false, [{ name: 'media/hard.wav', type: 'link', linkname: 'media/moh.wav' }]), 'backup_unsafe_entry'],
        ['unlisted file', await repack(archive, (f) => f.set('media/extra.wav', Buffer.from('x'))), 'backup_unsafe_entry'],
        ['no manifest', await repack(archive, (f) => f.delete('manifest.json')), 'backup_manifest_invalid'],
        ['manifest not JSON', await repack(archive, (f) => f.set('manifest.json', Buffer.from('{nope'))), 'backup_manifest_invalid'],
        ['unknown table', await repack(archive, (f) => {
          const m = JSON.parse(f.get('manifest.json')!.toString());
          m.tables.evil = { file: 'db/evil.jsonl', rows: 0, sha256: sha256('') };
          f.set('manifest.json', Buffer.from(JSON.stringify(m)));
          f.set('db/evil.jsonl', Buffer.alloc(0));
        }), 'backup_manifest_invalid'],
        ['newer schema', await repack(archive, (f) => {
          const m = JSON.parse(f.get('manifest.json')!.toString());
          m.migration = '2999-01-01-001-future';
          f.set('manifest.json', Buffer.from(JSON.stringify(m)));
        }), 'backup_incompatible'],
        ['row with unknown column (checksums fixed)', await repack(archive, (f) => f.set('db/blocklist.jsonl', Buffer.from(f.get('db/blocklist.jsonl')!.toString().replace('"reason"', '"evil"'))), true), 'backup_row_invalid'],
        ['row not JSON (checksums fixed)', await repack(archive, (f) => f.set('db/dids.jsonl', Buffer.from('{"id":1,\n')), true), 'backup_row_invalid'],
        ['row count mismatch', await repack(archive, (f) => {
          const m = JSON.parse(f.get('manifest.json')!.toString());
          m.tables.users.rows += 1;
          f.set('manifest.json', Buffer.from(JSON.stringify(m)));
        }), 'backup_row_invalid'],
        ['row breaking a constraint (checksums fixed)', await repack(archive, (f) => f.set('db/routes.jsonl', Buffer.from(f.get('db/routes.jsonl')!.toString().replace(/"did_id":\d+/, '"did_id":424242'))), true), 'backup_row_invalid'],
      ];
      for (const [label, buf, reason] of cases) {
        const r = await restore(t, buf);
        assert.equal(r.status, 400, `${label}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.error.code, 'bad_request', label);
        assert.equal(r.body.error.details.reason, reason, `${label}: ${r.body.error.message}`);
        assert.deepEqual(await dumpAll(t.server.ctx.store.db), changed, label);
        assert.deepEqual(listMedia(t.config.dataDir), mediaChanged, label);
      }
      assert.equal(existsSync(join(t.config.dataDir, 'escaped.txt')), false);
      assert.equal(existsSync(join(t.config.dataDir, 'tmp', 'escaped.txt')), false);
      assert.deepEqual(readdirSync(join(t.config.dataDir, 'tmp')), []);
      const wrongField = await restore(t, archive, t.adminCookie, 'upload');
      assert.equal(wrongField.status, 400);
      assert.equal(wrongField.body.error.details.reason, 'backup_missing_file');
      const json = await t.request('POST', '/api/system/restore', { cookie: t.adminCookie, body: { file: 'x' } });
      assert.equal(json.status, 400);
      assert.equal(json.body.error.code, 'bad_request');
    });

    test('restore brings every table and the media back, and logs everyone out', async () => {
      const r = await restore(t, archive);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.success, true);
      assert.equal(r.body.logged_out, true);
      assert.equal(r.body.files, 2);
      assert.deepEqual(r.body.tables, Object.fromEntries(BACKUP_TABLES.map((x) => [x.name, before_[x.name]!.length])));
      assert.match(r.headers.get('set-cookie') ?? '', /^strowger_session=;/);
      assert.deepEqual(await dumpAll(t.server.ctx.store.db), before_);
      assert.deepEqual(listMedia(t.config.dataDir), mediaBefore);
      const sessions = await t.server.ctx.store.db.selectFrom('sessions').selectAll().execute();
      assert.deepEqual(sessions, []);
      const old = await t.request('GET', '/api/me', { cookie: t.adminCookie });
      assert.equal(old.status, 401);
      t.adminCookie = await t.login(ADMIN_EMAIL, ADMIN_PASSWORD);
      // alice (deleted after the backup) can log in again; bob (created after) is gone.
      await t.login('alice@example.com', 'alice-password');
      const bob = await t.request('POST', '/api/auth/login', { body: { email: 'bob@example.com', password: 'bob-password' } });
      assert.equal(bob.status, 401);
      // Sequences continue after the restored ids (PostgreSQL setval).
      const maxId = Math.max(...before_.users!.map((u: any) => u.id));
      const carol = await t.request('POST', '/api/users', { cookie: t.adminCookie, body: { email: 'carol@example.com', password: 'carol-password' } });
      assert.equal(carol.status, 201);
      assert.ok(carol.body.id > maxId, `${carol.body.id} > ${maxId}`);
      const cfg = await t.request('GET', '/api/system/config', { cookie: t.adminCookie });
      assert.equal(cfg.body.twilio_auth_token, '••••cdef');
      assert.equal(cfg.body.timezone, null);
      // The SRTP settings the next calls use are the restored ones, without a restart.
      const srtp = (await t.request('GET', '/api/system/srtp/status', { cookie: t.adminCookie })).body;
      assert.equal(srtp.default_policy, 'optional');
      assert.deepEqual(srtp.suites, ['AES_CM_128_HMAC_SHA1_80']);
      assert.equal(t.server.ctx.srtp!.current.defaultPolicy, 'optional');
      assert.deepEqual(readdirSync(join(t.config.dataDir, 'tmp')), []);
    });

    test('a backup sealed with another secret key is refused', async () => {
      const other = await startTestServer(engine);
      try {
        const beforeOther = await dumpAll(other.server.ctx.store.db);
        const r = await restore(other, archive, other.adminCookie);
        assert.equal(r.status, 400);
        assert.equal(r.body.error.details.reason, 'backup_wrong_key');
        assert.deepEqual(await dumpAll(other.server.ctx.store.db), beforeOther);
      } finally {
        await other.close();
      }
    });
  });
}

if (ENGINES.includes('postgres')) {
  describe('backup made on SQLite restores into PostgreSQL', () => {
    let src: TestServer;
    let dst: TestServer;
    before(async () => {
      src = await startTestServer('sqlite', { STROWGER_SECRET_KEY: SECRET_KEY });
      dst = await startTestServer('postgres', { STROWGER_SECRET_KEY: SECRET_KEY });
    });
    after(async () => {
      await src.close();
      await dst.close();
    });

    test('rows, sealed secrets and media arrive intact', async () => {
      await seed(src);
      const want = await dumpAll(src.server.ctx.store.db);
      const r = await restore(dst, await backup(src), dst.adminCookie);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.engine, 'sqlite');
      assert.deepEqual(await dumpAll(dst.server.ctx.store.db), want);
      assert.deepEqual(listMedia(dst.config.dataDir), listMedia(src.config.dataDir));
      const cookie = await dst.login(ADMIN_EMAIL, ADMIN_PASSWORD);
      const cfg = await dst.request('GET', '/api/system/config', { cookie });
      assert.equal(cfg.body.twilio_auth_token, '••••cdef');
      const dev = await dst.server.ctx.store.db.selectFrom('devices').select('password_enc').executeTakeFirstOrThrow();
      assert.equal(dst.server.ctx.box.open(dev.password_enc), 'pw');
      const created = await dst.request('POST', '/api/users', { cookie, body: { email: 'dave@example.com', password: 'dave-password' } });
      assert.equal(created.status, 201);
    });
  });
}
