/**
 * Admin side of the seed 002 call gateway under `/api` (admin only): apps (`/api/apps`; the
 * `app_secret` is returned once, at creation or rotation, and stored hashed + sealed) and
 * their phone numbers (`/api/call-numbers`; passwords are write-only). Numbers owned by
 * STROWGER_NUMBERS_SYNC_URL (`synced: true`) are read-only here: the next sync would undo
 * an edit.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { conflict, errorResponses, notFound, validationError } from '../shared/errors.ts';
import { ListOf, page, PaginationQuery } from '../shared/pagination.ts';
import { deleteApp, findAppByAppId, findAppById, insertApp, listApps, updateApp, type AppRow } from '../../store/apps.ts';
import {
  deleteCallNumber, findCallNumberById, insertCallNumber, listCallNumbers, updateCallNumber, type CallNumber,
} from '../../store/call-numbers.ts';
import { CallNumberInput, numberFields, toNumberFields } from '../../gateway/number-fields.ts';
import { IdParams, Ok } from './schemas.ts';

const AppSchema = Type.Object({
  id: Type.Integer(), app_id: Type.String(), name: Type.String(),
  created_at: Type.String({ format: 'date-time' }), updated_at: Type.String({ format: 'date-time' }),
});
const AppWithSecret = Type.Intersect([AppSchema, Type.Object({ app_secret: Type.String({ description: 'Shown only in this answer; the Bearer token of /call/*' }) })]);
const AppName = Type.String({ minLength: 1, maxLength: 100, examples: ['Support line'] });
const AppId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$', examples: ['support'] });

const Creds = Type.Union([Type.Null(), Type.Object({ username: Type.String() })], { description: 'The username; the password is never returned' });
const CallNumberSchema = Type.Object({
  id: Type.Integer(), number: Type.String(), app_id: Type.String(), subnets: Type.Array(Type.String()), auth: Creds,
  hook: Type.Union([Type.Null(), Type.String()]), hook_content_type: Type.String(), sip_server: Type.Union([Type.Null(), Type.String()]),
  sip_proxy: Type.Union([Type.Null(), Type.String()]), sip_auth: Creds, synced: Type.Boolean({ description: 'Owned by STROWGER_NUMBERS_SYNC_URL (read-only here)' }),
  created_at: Type.String({ format: 'date-time' }), updated_at: Type.String({ format: 'date-time' }),
});

const appView = (r: AppRow) => ({ id: r.id, app_id: r.app_id, name: r.name, created_at: r.created_at, updated_at: r.updated_at });
const numberView = (n: CallNumber) => ({
  ...n, auth: n.auth && { username: n.auth.username }, sip_auth: n.sip_auth && { username: n.sip_auth.username },
});
const newSecret = () => `app_${randomBytes(32).toString('base64url')}`;

export async function callGatewayAdminRoutes(base: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const db = ctx.store.db;
  const admin = { auth: 'admin' as const };

  app.get('/apps', { config: admin, schema: { tags: ['call gateway'], summary: 'List call-gateway apps (admin)', querystring: PaginationQuery, response: { 200: ListOf(AppSchema), ...errorResponses(400, 401, 403) } } }, async (req) => {
    const { rows, total } = await listApps(db, req.query.limit, req.query.offset);
    return page(rows.map(appView), total, req.query);
  });

  app.post('/apps', {
    config: admin,
    schema: { tags: ['call gateway'], summary: 'Create an app (admin); its app_secret is in this answer only', body: Type.Object({ name: AppName, app_id: Type.Optional(AppId) }, { additionalProperties: false }), response: { 201: AppWithSecret, ...errorResponses(400, 401, 403, 409) } },
  }, async (req, reply) => {
    const secret = newSecret();
    const row = await insertApp(db, ctx.box, { appId: req.body.app_id ?? `app_${randomBytes(8).toString('hex')}`, name: req.body.name, secret });
    if (!row) throw conflict('An app with this app_id already exists', [{ field: 'app_id', message: 'already exists' }]);
    return reply.status(201).send({ ...appView(row), app_secret: secret });
  });

  app.get('/apps/:id', { config: admin, schema: { tags: ['call gateway'], summary: 'Get an app (admin)', params: IdParams, response: { 200: AppSchema, ...errorResponses(400, 401, 403, 404) } } }, async (req) => {
    const row = await findAppById(db, req.params.id);
    if (!row) throw notFound('App');
    return appView(row);
  });

  app.patch('/apps/:id', { config: admin, schema: { tags: ['call gateway'], summary: 'Rename an app (admin)', params: IdParams, body: Type.Object({ name: AppName }, { additionalProperties: false }), response: { 200: AppSchema, ...errorResponses(400, 401, 403, 404) } } }, async (req) => {
    const row = await updateApp(db, ctx.box, req.params.id, { name: req.body.name });
    if (!row) throw notFound('App');
    return appView(row);
  });

  app.post('/apps/:id/secret', { config: admin, schema: { tags: ['call gateway'], summary: 'Rotate an app secret (admin); the old one stops working at once', params: IdParams, response: { 200: AppWithSecret, ...errorResponses(400, 401, 403, 404) } } }, async (req) => {
    const secret = newSecret();
    const row = await updateApp(db, ctx.box, req.params.id, { secret });
    if (!row) throw notFound('App');
    return { ...appView(row), app_secret: secret };
  });

  app.delete('/apps/:id', { config: admin, schema: { tags: ['call gateway'], summary: 'Delete an app (admin); its calls can no longer be addressed', params: IdParams, response: { 200: Ok, ...errorResponses(400, 401, 403, 404) } } }, async (req) => {
    if (!(await deleteApp(db, req.params.id))) throw notFound('App');
    return { success: true };
  });

  const fieldsOrThrow = async (b: CallNumberInput) => {
    const f = toNumberFields(b);
    if (typeof f === 'string') throw validationError([{ field: f.split(' ')[0]!, message: f }]);
    if (!(await findAppByAppId(db, f.app_id))) throw validationError([{ field: 'app_id', message: `no app "${f.app_id}"` }]);
    return f;
  };
  const numberTaken = () => conflict('This number is already assigned', [{ field: 'number', message: 'already exists' }]);

  app.get('/call-numbers', {
    config: admin,
    schema: { tags: ['call gateway'], summary: 'List app phone numbers (admin)', querystring: Type.Intersect([PaginationQuery, Type.Object({ app_id: Type.Optional(Type.String()) })]), response: { 200: ListOf(CallNumberSchema), ...errorResponses(400, 401, 403) } },
  }, async (req) => {
    const q = req.query as { limit: number; offset: number; app_id?: string };
    const { rows, total } = await listCallNumbers(db, ctx.box, q.limit, q.offset, q.app_id);
    return page(rows.map(numberView), total, q);
  });

  app.post('/call-numbers', { config: admin, schema: { tags: ['call gateway'], summary: 'Assign a phone number to an app (admin)', body: CallNumberInput, response: { 201: CallNumberSchema, ...errorResponses(400, 401, 403, 409) } } }, async (req, reply) => {
    const row = await insertCallNumber(db, ctx.box, await fieldsOrThrow(req.body));
    if (!row) throw numberTaken();
    return reply.status(201).send(numberView(row));
  });

  app.get('/call-numbers/:id', { config: admin, schema: { tags: ['call gateway'], summary: 'Get an app phone number (admin)', params: IdParams, response: { 200: CallNumberSchema, ...errorResponses(400, 401, 403, 404) } } }, async (req) => {
    const row = await findCallNumberById(db, ctx.box, req.params.id);
    if (!row) throw notFound('Call number');
    return numberView(row);
  });

  app.patch('/call-numbers/:id', {
    config: admin,
    schema: { tags: ['call gateway'], summary: 'Change an app phone number (admin; not a synced one)', params: IdParams, body: Type.Partial(Type.Object(numberFields), { additionalProperties: false }), response: { 200: CallNumberSchema, ...errorResponses(400, 401, 403, 404, 409) } },
  }, async (req) => {
    const current = await findCallNumberById(db, ctx.box, req.params.id);
    if (!current) throw notFound('Call number');
    if (current.synced) throw conflict('This number is owned by STROWGER_NUMBERS_SYNC_URL; change it there');
    const merged = { ...current, ...req.body } as CallNumberInput;
    const row = await updateCallNumber(db, ctx.box, req.params.id, await fieldsOrThrow(merged));
    if (row === 'conflict') throw numberTaken();
    if (!row) throw notFound('Call number');
    return numberView(row);
  });

  app.delete('/call-numbers/:id', { config: admin, schema: { tags: ['call gateway'], summary: 'Remove an app phone number (admin)', params: IdParams, response: { 200: Ok, ...errorResponses(400, 401, 403, 404) } } }, async (req) => {
    if (!(await deleteCallNumber(db, req.params.id))) throw notFound('Call number');
    return { success: true };
  });
}
