/**
 * `/api/voicemails` (seed 003): the messages of the mailboxes a user may see: an admin sees
 * every mailbox; a user those of the devices they own (`user_id`). DIDs have no owner, so DID
 * mailboxes are the admins'. A message outside the user's mailboxes is 404, as if absent.
 *
 * The audio is `GET /api/voicemails/{id}/audio` (authenticated like every route: a browser's
 * session cookie rides along with `<audio src>`), with HTTP range requests (RFC 9110 §14) so
 * players can seek: one `bytes=` range → 206 with `Content-Range`; a range outside the file
 * → 416 whose Content-Range gives the size (§14.4); several ranges are served as the whole file
 * (200, allowed by §14.2). A row whose file is gone from disk answers 410 `gone`.
 *
 * `DELETE` removes row and file; deleting an id that no longer exists answers 200 with
 * `deleted: false` (idempotent), while another user's message stays 404.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { ApiError, errorResponses, notFound } from '../shared/errors.ts';
import { currentUser } from '../shared/auth.ts';
import { ListOf, page, PaginationQuery } from '../shared/pagination.ts';
import type { User } from '../../store/users.ts';
import type { VoicemailRow } from '../../store/schema.ts';
import type { Db } from '../../store/db.ts';
import { findVoicemail, listVoicemails, mailboxesOwnedBy, MAIL_STATES, TRANSCRIPTION_STATES } from '../../store/voicemails.ts';
import { IdParams } from './schemas.ts';
import { TwilioCallSidField, TwilioRecordingSchema, twilioRecordingView, withTwilioCalls } from './twilio-call-view.ts';
import type { TwilioCallRow } from '../../store/schema.ts';

const literals = (values: readonly string[], description: string) =>
  Type.Union(values.map((v) => Type.Literal(v)), { description: `${description}: ${values.join(' | ')}` });
const NullableInt = Type.Union([Type.Integer(), Type.Null()]);
const NullableString = Type.Union([Type.String(), Type.Null()]);

const VoicemailSchema = Type.Object({
  id: Type.Integer(),
  mailbox: Type.String({ description: 'device:<id> or did:<id>', examples: ['device:1'] }),
  device_id: NullableInt,
  did_id: NullableInt,
  caller_id: Type.String({ description: 'Number of the caller' }),
  caller_name: NullableString,
  called: Type.String({ description: 'Number or extension dialled' }),
  duration: Type.Integer({ description: 'Seconds' }),
  is_read: Type.Boolean(),
  read_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  audio_url: Type.String({ description: 'Authenticated; supports HTTP range requests' }),
  format: Type.String({ examples: ['wav'] }),
  size: Type.Integer({ description: 'Bytes of the audio file' }),
  transcription: NullableString,
  transcription_state: literals(TRANSCRIPTION_STATES, 'Transcription'),
  transcription_engine: NullableString,
  mail_state: literals(MAIL_STATES, 'Mail to voicemail_email (none: no address)'),
  mail_error: Type.Union([Type.String(), Type.Null()], { description: 'Why the last mail attempt failed' }),
  created_at: Type.String({ format: 'date-time' }),
  twilio_call_sid: TwilioCallSidField,
  twilio_recording: TwilioRecordingSchema,
}, {
  examples: [{
    id: 1, mailbox: 'device:1', device_id: 1, did_id: null, caller_id: '+15550001111', caller_name: 'Alice', called: '1001', duration: 12,
    is_read: false, read_at: null, audio_url: '/api/voicemails/1/audio', format: 'wav', size: 192044, transcription: null,
    transcription_state: 'none', transcription_engine: null, mail_state: 'sent', mail_error: null, created_at: '2026-01-01T09:00:00.000Z',
    twilio_call_sid: null, twilio_recording: null,
  }],
});

const ListQuery = Type.Object({
  ...PaginationQuery.properties,
  read: Type.Optional(Type.Boolean({ description: 'true: read messages only, false: unread only' })),
});

const Deleted = Type.Object({ success: Type.Boolean(), deleted: Type.Boolean({ description: 'false: there was no such message (already deleted)' }) });

function toView(row: VoicemailRow, twilio?: TwilioCallRow) {
  return {
    id: row.id, mailbox: row.mailbox, device_id: row.device_id, did_id: row.did_id, caller_id: row.caller_number, caller_name: row.caller_name,
    called: row.called, duration: row.duration_seconds, is_read: row.read === 1, read_at: row.read_at, audio_url: `/api/voicemails/${row.id}/audio`,
    format: row.format, size: row.size, transcription: row.transcription, transcription_state: row.transcription_state as (typeof TRANSCRIPTION_STATES)[number],
    transcription_engine: row.transcription_engine, mail_state: row.mail_state as (typeof MAIL_STATES)[number], mail_error: row.mail_error, created_at: row.created_at,
    twilio_call_sid: row.twilio_call_sid, twilio_recording: twilioRecordingView(twilio),
  };
}

/** Mailbox keys `user` may see; undefined: all (admin). */
async function visibleMailboxes(db: Db, user: User): Promise<string[] | undefined> {
  return user.role === 'admin' ? undefined : mailboxesOwnedBy(db, user.id);
}

/** The message as `user` may see it, else 404. */
async function visibleVoicemail(db: Db, user: User, id: number): Promise<VoicemailRow> {
  const row = await findVoicemail(db, id);
  const boxes = row && await visibleMailboxes(db, user);
  if (!row || (boxes !== undefined && !boxes.includes(row.mailbox))) throw notFound('Voicemail');
  return row;
}

/** One `bytes=` range of a file of `size` bytes: [start, end] inclusive; null: serve it whole; 'unsatisfiable'. */
export function parseRange(header: string | undefined, size: number): [number, number] | null | 'unsatisfiable' {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return header.trim().startsWith('bytes=') && !header.includes(',') ? 'unsatisfiable' : null;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return [Math.max(0, size - n), size - 1];
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || start > end) return 'unsatisfiable';
  return [start, end];
}

export async function voicemailsRoutes(base: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const db = ctx.store.db;
  const files = ctx.voicemail!;
  const tags = ['voicemails'];

  const viewOne = async (row: VoicemailRow) => (await withTwilioCalls(db, [row], toView))[0]!;

  const list = async (user: User, q: { limit: number; offset: number; read?: boolean }) => {
    const { rows, total } = await listVoicemails(db, { read: q.read, mailboxes: await visibleMailboxes(db, user), limit: q.limit, offset: q.offset });
    return page(await withTwilioCalls(db, rows, toView), total, q);
  };

  app.get('/voicemails', {
    schema: { tags, summary: 'List voicemails of your mailboxes (admins: all), newest first', querystring: ListQuery, response: { 200: ListOf(VoicemailSchema), ...errorResponses(400, 401) } },
  }, async (req) => list(currentUser(req), req.query));

  app.get('/voicemails/unread', {
    schema: { tags, summary: 'List unread voicemails of your mailboxes, newest first', querystring: PaginationQuery, response: { 200: ListOf(VoicemailSchema), ...errorResponses(400, 401) } },
  }, async (req) => list(currentUser(req), { ...req.query, read: false }));

  app.get('/voicemails/:id', {
    schema: { tags, summary: 'Get a voicemail: metadata, transcription, audio URL', params: IdParams, response: { 200: VoicemailSchema, ...errorResponses(400, 401, 404) } },
  }, async (req) => viewOne(await visibleVoicemail(db, currentUser(req), req.params.id)));

  app.get('/voicemails/:id/audio', {
    schema: {
      tags, summary: 'The audio of a voicemail (WAV); honours a single Range: bytes=… (206), 416 outside the file, 410 when the file is gone',
      params: IdParams,
      response: {
        200: { description: 'The whole file', content: { 'audio/wav': { schema: { type: 'string', format: 'binary' } } } },
        206: { description: 'The requested range', content: { 'audio/wav': { schema: { type: 'string', format: 'binary' } } } },
        ...errorResponses(400, 401, 404, 410, 416),
      },
    },
  }, async (req, reply) => {
    const row = await visibleVoicemail(db, currentUser(req), req.params.id);
    const path = files.absolutePath(row);
    const size = await stat(path).then((s) => s.size, () => undefined);
    if (size === undefined) throw new ApiError('gone', `The audio file of voicemail ${row.id} is missing on the server`);
    const range = parseRange(req.headers.range, size);
    reply.header('accept-ranges', 'bytes').header('content-type', 'audio/wav');
    if (range === 'unsatisfiable') {
      reply.header('content-range', `bytes */${size}`);
      throw new ApiError('range_not_satisfiable', `Range "${req.headers.range}" is outside the file (${size} bytes)`, { size });
    }
    if (range === null) return reply.header('content-length', size).send(createReadStream(path));
    const [start, end] = range;
    return reply.status(206).header('content-range', `bytes ${start}-${end}/${size}`).header('content-length', end - start + 1)
      .send(createReadStream(path, { start, end }));
  });

  app.put('/voicemails/:id/read', {
    schema: { tags, summary: 'Mark a voicemail read', params: IdParams, response: { 200: VoicemailSchema, ...errorResponses(400, 401, 404) } },
  }, async (req) => {
    const row = await visibleVoicemail(db, currentUser(req), req.params.id);
    return viewOne((await files.markRead(row.id, true)) ?? row);
  });

  app.delete('/voicemails/:id', {
    schema: { tags, summary: 'Delete a voicemail (row and audio); an id already deleted answers deleted: false', params: IdParams, response: { 200: Deleted, ...errorResponses(400, 401, 404) } },
  }, async (req) => {
    const user = currentUser(req);
    if (!(await findVoicemail(db, req.params.id))) return { success: true, deleted: false };
    await visibleVoicemail(db, user, req.params.id);
    return { success: true, deleted: (await files.remove(req.params.id)) !== undefined };
  });
}
