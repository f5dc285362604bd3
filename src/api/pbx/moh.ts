/**
 * Music on hold (seed 003 "Active Calls"): `GET/PUT /api/calls/moh` (the setting),
 * `POST /api/calls/moh/upload` and `/validate` (multipart, field `file`), and, beyond the
 * seed, `GET /api/calls/moh/files` and `DELETE /api/calls/moh/files/{id}` to manage uploads.
 * Reading the setting: any logged-in user; everything else: admin.
 *
 * Uploads are converted to WAV 16-bit PCM mono 16 kHz (`src/pbx/moh-format.ts` says why).
 * A file that cannot be MOH gets 400 `bad_request` with `details.reason` (a code of
 * `src/pbx/moh-errors.ts`) and `details.problems` (every reason, for people); nothing is kept.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { MultipartFile } from '@fastify/multipart';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { ApiError, errorResponses, notFound, validationError } from '../shared/errors.ts';
import { ListOf, page, PaginationQuery } from '../shared/pagination.ts';
import type { MohFileRow } from '../../store/schema.ts';
import { MohRejectedError, MohToolError, MohUnknownFileError } from '../../pbx/moh-errors.ts';
import { MOH_CHANNELS } from '../../pbx/moh-format.ts';
import { IdParams, Ok } from './schemas.ts';

/** An uploaded file's fields. No `examples` inside: OpenAPI 3.0 has none in nested schemas (the union in MohStatus). */
const mohFileFields = {
  id: Type.Integer(),
  name: Type.String(),
  original_filename: Type.String(),
  original_format: Type.String({ description: 'Container as ffprobe names it' }),
  original_codec: Type.String(),
  original_sample_rate: Type.Integer(),
  original_channels: Type.Integer(),
  original_size: Type.Integer({ description: 'Bytes uploaded' }),
  duration: Type.Number({ description: 'Seconds of audio stored' }),
  sample_rate: Type.Integer({ description: 'Of the stored file: always 16000' }),
  channels: Type.Integer({ description: 'Of the stored file: always 1' }),
  size: Type.Integer({ description: 'Bytes of the stored WAV' }),
  in_use: Type.Boolean({ description: 'The current MOH source' }),
  created_at: Type.String({ format: 'date-time' }),
};
const MOH_FILE_DESCRIPTION = 'An uploaded MOH file, stored as WAV 16-bit PCM mono 16 kHz';
const MohFile = Type.Object(mohFileFields, {
  description: MOH_FILE_DESCRIPTION,
  examples: [{ id: 1, name: 'Jazz loop', original_filename: 'jazz loop.mp3', original_format: 'mp3', original_codec: 'mp3', original_sample_rate: 44100, original_channels: 2, original_size: 2400000, duration: 150.2, sample_rate: 16000, channels: 1, size: 4806444, in_use: true, created_at: '2026-01-01T00:00:00.000Z' }],
});

const Source = Type.Union([
  Type.String({ pattern: '^(default|[1-9][0-9]{0,9})$' }),
  Type.Integer({ minimum: 1 }),
], { description: '"default" (the generated tones) or the id of an uploaded file (as a number or a string)', examples: ['default', '3'] });

const MohStatus = Type.Object({
  enabled: Type.Boolean({ description: 'false: a held party hears silence' }),
  source: Type.String({ description: '"default" or the id of the uploaded file in use, as a string', examples: ['default'] }),
  file: Type.Union([Type.Object(mohFileFields, { description: MOH_FILE_DESCRIPTION }), Type.Null()], { description: 'The uploaded file in use; null for the default' }),
}, { examples: [{ enabled: true, source: 'default', file: null }] });

const MohUpdate = Type.Object({
  enabled: Type.Optional(Type.Boolean()),
  source: Type.Optional(Source),
}, { additionalProperties: false, minProperties: 1, examples: [{ enabled: true, source: 'default' }, { source: 3 }] });

const Validation = Type.Object({
  valid: Type.Boolean({ description: 'true: upload would accept this file' }),
  duration: Type.Union([Type.Number(), Type.Null()], { description: 'Seconds: decoded when decoding ran, otherwise as declared; null when unknown' }),
  sample_rate: Type.Union([Type.Integer(), Type.Null()], { description: 'Of the audio stream as uploaded' }),
  channels: Type.Union([Type.Integer(), Type.Null()]),
  codec: Type.Union([Type.String(), Type.Null()], { examples: ['vorbis'] }),
  format: Type.Union([Type.String(), Type.Null()], { description: 'Container as ffprobe names it', examples: ['ogg'] }),
  size: Type.Integer({ description: 'Bytes received (counting stops just past the limit)' }),
  problems: Type.Array(Type.String(), { description: 'Why the file cannot be MOH, for people; empty when valid' }),
  problem_codes: Type.Array(Type.String(), { description: 'The same, as codes: moh_too_large, moh_not_audio, moh_no_audio_stream, moh_too_long, moh_corrupt' }),
}, { examples: [{ valid: false, duration: 1.5, sample_rate: 44100, channels: 1, codec: 'mp3', format: 'mp3', size: 12234, problems: ['it is truncated or damaged: it declares 3.0 s but only 1.5 s decode'], problem_codes: ['moh_corrupt'] }] });

const UploadBody = Type.Object({
  name: Type.Optional(Type.String({ maxLength: 200, description: 'Display name (send it before the file part); default: the file name without extension' })),
  file: Type.String({ format: 'binary', description: 'Audio in any common format (MP3, WAV, Ogg/Vorbis/Opus, FLAC, AAC/M4A, …)' }),
});

function toMohFile(row: MohFileRow, source: string) {
  return {
    id: row.id, name: row.name, original_filename: row.original_filename, original_format: row.original_format,
    original_codec: row.original_codec, original_sample_rate: row.original_sample_rate, original_channels: row.original_channels,
    original_size: row.original_size, duration: row.duration_ms / 1000, sample_rate: row.sample_rate, channels: MOH_CHANNELS,
    size: row.size, in_use: source === String(row.id), created_at: row.created_at,
  };
}

/** Domain errors of MOH → the /api envelope. */
function toApiError(err: unknown): unknown {
  if (err instanceof MohRejectedError) {
    return new ApiError('bad_request', err.message, { reason: err.code, problems: err.problems.map((p) => p.message) });
  }
  if (err instanceof MohUnknownFileError) return validationError([{ field: 'source', message: err.message }]);
  if (err instanceof MohToolError) return new ApiError('service_unavailable', err.message, { reason: err.code });
  return err;
}

export async function mohRoutes(base: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const moh = ctx.moh;
  const admin = { auth: 'admin' as const };
  const tags = ['calls'];

  /** The `file` part, read with a per-request cap just above the limit (see MohService). */
  async function filePart(req: FastifyRequest): Promise<{ part: MultipartFile; name: string | undefined }> {
    const part = req.isMultipart()
      ? await req.file({ limits: { fileSize: moh.limits.maxBytes + 1 }, throwFileSizeLimit: false })
      : undefined;
    if (!part || part.fieldname !== 'file') {
      part?.file.resume();
      throw new ApiError('bad_request', 'Send the audio as multipart/form-data in the "file" field', { reason: 'moh_missing_file' });
    }
    const field = part.fields.name;
    const name = field && !Array.isArray(field) && field.type === 'field' ? String(field.value) : undefined;
    return { part, name };
  }

  const status = async () => {
    const s = await moh.state();
    return { enabled: s.enabled, source: s.source, file: s.file ? toMohFile(s.file, s.source) : null };
  };

  app.get('/calls/moh', {
    schema: { tags, summary: 'Music-on-hold setting: on or off, and which source plays', response: { 200: MohStatus, ...errorResponses(401) } },
  }, status);

  app.put('/calls/moh', {
    config: admin,
    schema: { tags, summary: 'Change the music-on-hold setting (admin)', body: MohUpdate, response: { 200: MohStatus, ...errorResponses(400, 401, 403) } },
  }, async (req) => {
    const { enabled, source } = req.body;
    try {
      await moh.update({ enabled, source: source === undefined ? undefined : String(source) });
    } catch (err) {
      throw toApiError(err);
    }
    return status();
  });

  const multipartRoute = (summary: string, description: string, ok: Record<number, unknown>) => ({
    config: admin,
    // The handler streams the multipart body; the body schema documents it for OpenAPI.
    validatorCompiler: () => () => true,
    schema: {
      tags, summary, description, consumes: ['multipart/form-data'], body: UploadBody,
      response: { ...ok, ...errorResponses(400, 401, 403, 503) },
    },
  });

  app.post('/calls/moh/upload', multipartRoute(
    'Upload a music-on-hold file (admin): converted to WAV 16-bit PCM mono 16 kHz',
    `Refused with 400 (details.reason, details.problems) and nothing stored when it is not audio, has no audio stream, is truncated or damaged, is longer than STROWGER_MOH_MAX_SECONDS (${ctx.config.moh.maxSeconds} s here) or larger than STROWGER_MOH_MAX_BYTES (${ctx.config.moh.maxBytes} bytes here). Upload does not switch the source: PUT /api/calls/moh does.`,
    { 201: MohFile },
  ), async (req, reply) => {
    const { part, name } = await filePart(req);
    try {
      const row = await moh.upload({ stream: part.file, filename: part.filename, name });
      return reply.status(201).send(toMohFile(row, (await moh.state()).source));
    } catch (err) {
      throw toApiError(err);
    }
  });

  app.post('/calls/moh/validate', multipartRoute(
    'Check a music-on-hold file without storing it (admin)',
    'Runs every check of upload, conversion included, and reports what it found; answers 200 whether the file is valid or not.',
    { 200: Validation },
  ), async (req) => {
    const { part } = await filePart(req);
    try {
      const r = await moh.validate({ stream: part.file, filename: part.filename });
      return {
        valid: r.problems.length === 0, duration: r.duration, sample_rate: r.sampleRate, channels: r.channels,
        codec: r.codec, format: r.format, size: r.size,
        problems: r.problems.map((p) => p.message), problem_codes: r.problems.map((p) => p.code),
      };
    } catch (err) {
      throw toApiError(err);
    }
  });

  app.get('/calls/moh/files', {
    config: admin,
    schema: { tags, summary: 'Uploaded music-on-hold files, oldest first (admin)', querystring: PaginationQuery, response: { 200: ListOf(MohFile), ...errorResponses(400, 401, 403) } },
  }, async (req) => {
    const [{ rows, total }, s] = await Promise.all([moh.list(req.query.limit, req.query.offset), moh.state()]);
    return page(rows.map((r) => toMohFile(r, s.source)), total, req.query);
  });

  app.get('/calls/moh/files/:id', {
    config: admin,
    schema: { tags, summary: 'One uploaded music-on-hold file (admin)', params: IdParams, response: { 200: MohFile, ...errorResponses(400, 401, 403, 404) } },
  }, async (req) => {
    const [row, s] = await Promise.all([moh.find(req.params.id), moh.state()]);
    if (!row) throw notFound('Music-on-hold file');
    return toMohFile(row, s.source);
  });

  app.delete('/calls/moh/files/:id', {
    config: admin,
    schema: { tags, summary: 'Delete an uploaded music-on-hold file (admin); if it was in use, the source goes back to default', params: IdParams, response: { 200: Ok, ...errorResponses(400, 401, 403, 404) } },
  }, async (req) => {
    if (!(await moh.delete(req.params.id))) throw notFound('Music-on-hold file');
    return { success: true };
  });
}
