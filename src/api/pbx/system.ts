/**
 * System administration of seed 003 (admin only): settings, status, backup and restore.
 *
 * Settings are a documented, closed set of keys (unknown keys are a validation error);
 * secrets among them (SECRET_CONFIG_KEYS) are sealed at rest and masked on the way out.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { ApiError, errorResponses, validationError } from '../shared/errors.ts';
import { forgetAllCredentials, SESSION_COOKIE } from '../shared/auth.ts';
import { getConfigValues, SECRET_CONFIG_KEYS, setConfigValues } from '../../store/system-config.ts';
import { migrations } from '../../store/migrations/index.ts';
import { createBackup } from '../../pbx/backup-create.ts';
import { restoreBackup } from '../../pbx/backup-restore.ts';
import { BackupError } from '../../pbx/backup-errors.ts';
import { Email } from './schemas.ts';
import { pingDatabase } from '../../store/database.ts';

interface Setting {
  schema: TSchema;
  /** Stored as text; these kinds are converted back on read. */
  kind: 'string' | 'integer' | 'boolean';
}

const str = (schema: TSchema): Setting => ({ schema, kind: 'string' });

/** The settings `PUT /api/system/config` accepts. Secrets are those in SECRET_CONFIG_KEYS. */
export const SYSTEM_SETTINGS: Record<string, Setting> = {
  twilio_account_sid: str(Type.String({ pattern: '^AC[0-9a-fA-F]{32}$', description: 'Twilio account SID: "AC" + 32 hex digits', examples: ['AC0123456789abcdef0123456789abcdef'] })),
  twilio_auth_token: str(Type.String({ minLength: 1, maxLength: 256, description: 'Twilio auth token (secret: stored encrypted, returned masked)' })),
  twilio_api_key_sid: str(Type.String({ pattern: '^SK[0-9a-fA-F]{32}$', description: 'Twilio API key SID: "SK" + 32 hex digits' })),
  twilio_api_secret: str(Type.String({ minLength: 1, maxLength: 256, description: 'Twilio API key secret (secret)' })),
  voicemail_email: str({ ...Email, description: 'Where new voicemails are mailed' }),
  smtp_host: str(Type.String({ pattern: '^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$', description: 'SMTP server host name or address', examples: ['smtp.example.com'] })),
  smtp_port: { schema: Type.Integer({ minimum: 1, maximum: 65535, examples: [587] }), kind: 'integer' },
  smtp_secure: { schema: Type.Boolean({ description: 'TLS from the first byte (port 465) instead of STARTTLS' }), kind: 'boolean' },
  smtp_user: str(Type.String({ minLength: 1, maxLength: 256 })),
  smtp_password: str(Type.String({ minLength: 1, maxLength: 256, description: 'SMTP password (secret)' })),
  smtp_from: str(Type.String({ minLength: 3, maxLength: 320, pattern: '@', description: 'Sender of mails: "addr@example.com" or "Name <addr@example.com>"', examples: ['Strowger <pbx@example.com>'] })),
  default_caller_id: str(Type.String({ pattern: '^\\+[1-9][0-9]{1,14}$', description: 'E.164 number presented on outbound calls without one', examples: ['+15551234567'] })),
  timezone: str(Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone for route time conditions', examples: ['Europe/Paris'] })),
};

const SETTING_KEYS = Object.keys(SYSTEM_SETTINGS);

/** Shows that a secret is set and which one, never the value: "••••abcd" (short ones fully hidden). */
export function maskSecret(value: string): string {
  return value.length >= 12 ? `••••${value.slice(-4)}` : '********';
}

const isMasked = (v: string) => v === '********' || v.startsWith('••••');

const ConfigView = Type.Object(
  Object.fromEntries(SETTING_KEYS.map((k) => [k, Type.Union([SYSTEM_SETTINGS[k]!.kind === 'string' ? Type.String() : SYSTEM_SETTINGS[k]!.schema, Type.Null()])])),
  { examples: [{ twilio_account_sid: 'AC0123456789abcdef0123456789abcdef', twilio_auth_token: '••••cdef', voicemail_email: 'admin@example.com', smtp_port: 587 }] },
);

const ConfigUpdate = Type.Object(
  Object.fromEntries(SETTING_KEYS.map((k) => [k, Type.Optional(Type.Union([SYSTEM_SETTINGS[k]!.schema, Type.Null()]))])),
  {
    additionalProperties: false,
    minProperties: 1,
    description: 'Keys to change; null deletes a setting. A secret sent back exactly as GET masked it is left unchanged.',
    examples: [{ twilio_account_sid: 'AC0123456789abcdef0123456789abcdef', twilio_auth_token: 'your-auth-token', voicemail_email: 'admin@example.com' }],
  },
);

const Subsystem = Type.Object({ status: Type.String({ examples: ['running'] }) }, { additionalProperties: true });
const SUBSYSTEMS = ['sip', 'media', 'twilio', 'tls'] as const;
const Status = Type.Object({
  version: Type.String(),
  uptime_seconds: Type.Number(),
  database: Type.Object({ engine: Type.String({ examples: ['sqlite'] }), status: Type.String({ examples: ['ok'] }) }),
  ...Object.fromEntries(SUBSYSTEMS.map((s) => [s, Subsystem])),
}, { examples: [{ version: '0.1.0', uptime_seconds: 42, database: { engine: 'sqlite', status: 'ok' }, sip: { status: 'not_running' }, media: { status: 'not_running' }, twilio: { status: 'not_running' }, tls: { status: 'not_running' } }] });

const RestoreResult = Type.Object({
  success: Type.Boolean(),
  backup_created_at: Type.String({ format: 'date-time' }),
  app_version: Type.String(),
  engine: Type.String(),
  tables: Type.Record(Type.String(), Type.Integer(), { description: 'Rows restored per table' }),
  files: Type.Integer({ description: 'Media files restored' }),
  logged_out: Type.Boolean({ description: 'Always true: sessions are not in backups, so everyone (you too) logs in again' }),
});

/** Largest size a restore archive may unpack to (gzip-bomb brake). */
const MAX_UNPACKED_BYTES = 16 * 1024 ** 3;

function toView(stored: Record<string, string>): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  for (const k of SETTING_KEYS) {
    const v = stored[k];
    const kind = SYSTEM_SETTINGS[k]!.kind;
    if (v === undefined) out[k] = null;
    else if (SECRET_CONFIG_KEYS.has(k)) out[k] = maskSecret(v);
    else out[k] = kind === 'integer' ? Number(v) : kind === 'boolean' ? v === 'true' : v;
  }
  return out;
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export async function systemRoutes(base: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const db = ctx.store.db;
  const admin = { auth: 'admin' as const };
  const tags = ['system'];
  let restoring = false;

  app.get('/system/config', {
    config: admin,
    schema: { tags, summary: 'All settings (admin); secrets are masked', response: { 200: ConfigView, ...errorResponses(401, 403) } },
  }, async () => toView(await getConfigValues(db, ctx.box)));

  app.put('/system/config', {
    config: admin,
    schema: { tags, summary: 'Change settings (admin); null deletes one', body: ConfigUpdate, response: { 200: ConfigView, ...errorResponses(400, 401, 403) } },
  }, async (req) => {
    const body = req.body as Record<string, string | number | boolean | null>;
    if (typeof body.timezone === 'string' && !isTimeZone(body.timezone)) {
      throw validationError([{ field: 'timezone', message: 'is not an IANA time zone' }]);
    }
    const values: Record<string, string | null> = {};
    for (const [k, v] of Object.entries(body)) {
      if (v === null) values[k] = null;
      else if (typeof v === 'string' && SECRET_CONFIG_KEYS.has(k) && isMasked(v)) continue;
      else values[k] = String(v);
    }
    await db.transaction().execute((tx) => setConfigValues(tx, ctx.box, values, SECRET_CONFIG_KEYS));
    return toView(await getConfigValues(db, ctx.box));
  });

  app.get('/system/status', {
    config: admin,
    schema: { tags, summary: 'Version, uptime and the state of each subsystem (admin)', response: { 200: Status, ...errorResponses(401, 403) } },
  }, async () => {
    let dbStatus = 'ok';
    try {
      await pingDatabase(db);
    } catch {
      dbStatus = 'error';
    }
    const out: Record<string, unknown> = {
      version: ctx.version,
      uptime_seconds: Math.round((Date.now() - ctx.startedAt) / 1000),
      database: { engine: ctx.store.dialect, status: dbStatus },
    };
    for (const name of SUBSYSTEMS) {
      const provider = ctx.status.get(name);
      try {
        out[name] = provider ? await provider() : { status: 'not_running' };
      } catch (err) {
        out[name] = { status: 'error', message: (err as Error).message };
      }
    }
    return out as Static<typeof Status>;
  });

  app.post('/system/backup', {
    config: admin,
    schema: {
      tags, summary: 'Download a backup: one .tar.gz with every table and the stored media (admin)',
      description: 'Entries: manifest.json (format version, app version, engine, migration, row counts, SHA-256 of every file), db/<table>.jsonl, media/…. Secrets stay sealed: restore needs the same STROWGER_SECRET_KEY. Sessions are not included.',
      response: {
        200: { description: 'The archive', content: { 'application/gzip': { schema: { type: 'string', format: 'binary' } } } },
        ...errorResponses(401, 403),
      },
    },
  }, async (_req, reply) => {
    const backup = await createBackup({ store: ctx.store, dataDir: ctx.config.dataDir, secretKey: ctx.config.secretKey, appVersion: ctx.version });
    const stamp = backup.manifest.created_at.replace(/[:.]/g, '-');
    return reply
      .type('application/gzip')
      .header('content-length', backup.size)
      .header('content-disposition', `attachment; filename="strowger-backup-${stamp}.tar.gz"`)
      .send(backup.stream);
  });

  app.post('/system/restore', {
    config: admin,
    // The multipart stream is read by the handler; the body schema documents it for OpenAPI.
    validatorCompiler: () => () => true,
    schema: {
      tags, summary: 'Restore a backup (admin): all or nothing; everyone is logged out',
      description: 'The whole archive is checked (gzip/tar integrity, manifest, checksums, rows, safe paths) before anything changes; then all tables are replaced in one transaction and the media directory is swapped.',
      consumes: ['multipart/form-data'],
      body: Type.Object({ file: Type.String({ format: 'binary', description: 'A .tar.gz made by POST /api/system/backup' }) }),
      response: { 200: RestoreResult, ...errorResponses(400, 401, 403, 409, 413) },
    },
  }, async (req, reply) => {
    if (restoring) throw new ApiError('conflict', 'Another restore is running', { reason: 'backup_busy' });
    restoring = true;
    try {
      const file = req.isMultipart() ? await req.file() : undefined;
      if (!file || file.fieldname !== 'file') {
        throw new ApiError('bad_request', 'Send the archive as multipart/form-data in the "file" field', { reason: 'backup_missing_file' });
      }
      const result = await restoreBackup({
        store: ctx.store, dataDir: ctx.config.dataDir, secretKey: ctx.config.secretKey,
        knownMigrations: Object.keys(migrations), maxUnpackedBytes: MAX_UNPACKED_BYTES,
      }, file.file);
      forgetAllCredentials(ctx);
      req.log.warn({ created_at: result.manifest.created_at, tables: result.tables, files: result.files }, 'backup restored');
      ctx.events.emit('system.restored', result);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return {
        success: true, backup_created_at: result.manifest.created_at, app_version: result.manifest.app_version,
        engine: result.manifest.engine, tables: result.tables, files: result.files, logged_out: true,
      };
    } catch (err) {
      if (err instanceof BackupError) throw new ApiError('bad_request', err.message, { reason: err.code });
      throw err;
    } finally {
      restoring = false;
    }
  });
}
