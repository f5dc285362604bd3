/**
 * `/api/routes` (seed 003): inbound call routing rules per DID. Reads: any logged-in user;
 * writes: admin. How rules are chosen is documented in `src/pbx/evaluate-routes.ts`;
 * caller patterns in `src/pbx/phone-number.ts`.
 *
 * `action_data` depends on `action`, so it is checked here rather than by the body schema
 * (a union would report every branch's errors):
 *   ring      {device_ids: int[] ≥ 1, timeout?: 1-600 s, voicemail_fallback?: bool}
 *   forward   {device_id: int, voicemail_fallback?: bool} or {number: E.164}
 *   voicemail {device_id?: int}
 *   reject    {code?: 400-699 SIP status (default 603 Decline), reason?: string}
 * Device ids must name existing devices when the route is saved.
 *
 * Writes are announced as `pbx.routes.changed` {did_ids} on `ctx.events` after commit, so a
 * call engine caching routes per DID can drop its copy.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { errorResponses, notFound, validationError, type FieldError } from '../shared/errors.ts';
import { ListOf, page, PaginationQuery } from '../shared/pagination.ts';
import {
  deleteRoute, findRouteById, findRoutesByIds, insertRoute, listRoutes, ROUTE_ACTIONS, routeOwners, setRoutePriorities, toRoute, updateRoute,
  WEEKDAYS, type RouteActionName, type RouteConditions, type RoutePatch,
} from '../../store/routes.ts';
import { findDidById } from '../../store/dids.ts';
import { missingDeviceIds } from '../../store/devices.ts';
import { E164_PATTERN, NUMBER_PATTERN } from '../../pbx/phone-number.ts';
import { isValidTimeZone } from '../../pbx/evaluate-routes.ts';
import { IdParams, Ok } from './schemas.ts';
import type { Db } from '../../store/db.ts';

const Clock = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: '"HH:MM", 24 h', examples: ['09:00'] });
const Conditions = Type.Object({
  time_start: Type.Optional(Clock),
  time_end: Type.Optional(Type.String({ ...Clock, description: 'Exclusive; before time_start = crosses midnight' })),
  days: Type.Optional(Type.Array(Type.Union(WEEKDAYS.map((d) => Type.Literal(d))), { minItems: 1, uniqueItems: true })),
  caller_id: Type.Optional(Type.String({ pattern: NUMBER_PATTERN, description: 'Digits and "+"; X = one digit; * = any run of characters', examples: ['+1555*'] })),
  timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'IANA zone (default UTC)', examples: ['America/New_York'] })),
}, { additionalProperties: false, examples: [{ time_start: '09:00', time_end: '17:00', days: ['mon', 'tue', 'wed', 'thu', 'fri'], timezone: 'Europe/Paris' }] });

const DeviceId = Type.Integer({ minimum: 1 });
const strict = { additionalProperties: false };
const VoicemailFallback = Type.Optional(Type.Boolean({ description: 'Busy, unanswered or unregistered: the caller is sent to voicemail (the device\'s mailbox; several devices: the DID\'s)' }));
const RingData = Type.Object({ device_ids: Type.Array(DeviceId, { minItems: 1, uniqueItems: true }), timeout: Type.Optional(Type.Integer({ minimum: 1, maximum: 600 })), voicemail_fallback: VoicemailFallback }, strict);
const ForwardToDevice = Type.Object({ device_id: DeviceId, voicemail_fallback: VoicemailFallback }, strict);
const ForwardToNumber = Type.Object({ number: Type.String({ pattern: E164_PATTERN }) }, strict);
const VoicemailData = Type.Object({ device_id: Type.Optional(DeviceId) }, strict);
const RejectData = Type.Object({ code: Type.Optional(Type.Integer({ minimum: 400, maximum: 699 })), reason: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })) }, strict);

/** The schema `data` must satisfy for `action`; forward picks its branch by key. */
function actionDataSchema(action: RouteActionName, data: Record<string, unknown>): TSchema {
  switch (action) {
    case 'ring': return RingData;
    case 'forward': return 'number' in data ? ForwardToNumber : ForwardToDevice;
    case 'voicemail': return VoicemailData;
    case 'reject': return RejectData;
  }
}

/** TypeBox's value errors as `details`, named like Ajv's (`action_data.device_ids.0`). */
function actionDataErrors(action: RouteActionName, data: Record<string, unknown>): FieldError[] {
  const out: FieldError[] = [];
  const seen = new Set<string>();
  for (const e of Value.Errors(actionDataSchema(action, data), data)) {
    const field = 'action_data' + e.path.replace(/\//g, '.');
    if (seen.has(field)) continue;
    seen.add(field);
    const message = e.message === 'Expected required property' ? 'is required' : e.message === 'Unexpected property' ? 'is not allowed' : e.message;
    out.push({ field, message });
  }
  return out;
}

function conditionErrors(c: RouteConditions): FieldError[] {
  const out: FieldError[] = [];
  if ((c.time_start === undefined) !== (c.time_end === undefined)) {
    out.push({ field: c.time_start === undefined ? 'conditions.time_start' : 'conditions.time_end', message: 'is required with the other end of the window' });
  }
  if (c.timezone !== undefined && !isValidTimeZone(c.timezone)) out.push({ field: 'conditions.timezone', message: 'is not a known IANA time zone' });
  return out;
}

/** Checks references (DID, devices) that the schema cannot. */
async function referenceErrors(db: Db, didId: number | undefined, action: RouteActionName, data: Record<string, unknown>): Promise<FieldError[]> {
  const out: FieldError[] = [];
  if (didId !== undefined && !(await findDidById(db, didId))) out.push({ field: 'did_id', message: 'no such DID' });
  const ids: number[] = action === 'ring' ? (Array.isArray(data.device_ids) ? data.device_ids : []) : typeof data.device_id === 'number' ? [data.device_id] : [];
  const missing = await missingDeviceIds(db, ids);
  if (missing.length > 0) {
    out.push({ field: action === 'ring' ? 'action_data.device_ids' : 'action_data.device_id', message: `no such device: ${missing.join(', ')}` });
  }
  return out;
}

const Action = Type.Union(ROUTE_ACTIONS.map((a) => Type.Literal(a)));
const ActionData = Type.Object({}, {
  additionalProperties: true,
  description: 'ring {device_ids, timeout?} | forward {device_id} or {number} | voicemail {device_id?} | reject {code?, reason?}',
  examples: [{ device_id: 1 }],
});

const RouteSchema = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  did_id: Type.Union([Type.Integer(), Type.Null()]),
  priority: Type.Integer(),
  enabled: Type.Boolean(),
  conditions: Type.Object(Conditions.properties),
  action: Type.String(),
  action_data: ActionData,
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
}, { examples: [{ id: 1, name: 'Business Hours', did_id: 1, priority: 1, enabled: true, conditions: { time_start: '09:00', time_end: '17:00', days: ['mon', 'tue', 'wed', 'thu', 'fri'] }, action: 'forward', action_data: { device_id: 1 }, created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z' }] });

const CreateRoute = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  did_id: Type.Integer({ minimum: 1 }),
  priority: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'Lower runs first; default: after the DID\'s last route' })),
  enabled: Type.Optional(Type.Boolean()),
  conditions: Type.Optional(Conditions),
  action: Action,
  action_data: Type.Optional(ActionData),
}, { examples: [{ name: 'Business Hours', did_id: 1, priority: 1, conditions: { time_start: '09:00', time_end: '17:00', days: ['mon', 'tue', 'wed', 'thu', 'fri'] }, action: 'forward', action_data: { device_id: 1 } }] });
const UpdateRoute = Type.Partial(CreateRoute, { examples: [{ enabled: false }] });
const RoutesQuery = Type.Composite([PaginationQuery, Type.Object({ did_id: Type.Optional(Type.Integer({ minimum: 1, description: 'Only this DID\'s routes' })) })]);
const ReorderBody = Type.Object({
  order: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, uniqueItems: true, description: 'Every route id of one DID, or every route id' }),
}, { examples: [{ order: [3, 1, 2] }] });

export async function routesRoutes(base: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const db = ctx.store.db;
  const admin = { auth: 'admin' as const };
  const tags = ['routes'];
  const changed = (...didIds: Array<number | null>) => ctx.events.emit('pbx.routes.changed', { did_ids: [...new Set(didIds)] });

  app.get('/routes', {
    schema: { tags, summary: 'List routes in evaluation order (DID, priority, id)', querystring: RoutesQuery, response: { 200: ListOf(RouteSchema), ...errorResponses(400, 401) } },
  }, async (req) => {
    const { rows, total } = await listRoutes(db, req.query.did_id ?? null, req.query.limit, req.query.offset);
    return page(rows.map(toRoute), total, req.query);
  });

  app.post('/routes', {
    config: admin,
    schema: {
      tags, summary: 'Create a route (admin). Conditions: time window (may cross midnight), days, caller pattern, IANA timezone; action_data is checked against action',
      body: CreateRoute, response: { 201: RouteSchema, ...errorResponses(400, 401, 403) },
    },
  }, async (req, reply) => {
    const b = req.body;
    const conditions = b.conditions ?? {};
    const data = b.action_data ?? {};
    const shapeErrors = [...conditionErrors(conditions), ...actionDataErrors(b.action, data)];
    if (shapeErrors.length > 0) throw validationError(shapeErrors);
    const row = await db.transaction().execute(async (tx) => {
      const refErrors = await referenceErrors(tx, b.did_id, b.action, data);
      if (refErrors.length > 0) throw validationError(refErrors);
      return insertRoute(tx, { name: b.name, didId: b.did_id, priority: b.priority, enabled: b.enabled ?? true, conditions, action: b.action, actionData: data });
    });
    changed(row.did_id);
    return reply.status(201).send(toRoute(row));
  });

  app.put('/routes/reorder', {
    config: admin,
    schema: {
      tags, summary: 'Reorder routes (admin): `order` lists every route of one DID, or every route; priorities become 1..n in that order',
      body: ReorderBody, response: { 200: Type.Object({ data: Type.Array(RouteSchema) }), ...errorResponses(400, 401, 403) },
    },
  }, async (req) => {
    const order = req.body.order;
    const rows = await db.transaction().execute(async (tx) => {
      const owners = new Map((await routeOwners(tx)).map((r) => [r.id, r.did_id]));
      const unknown = order.filter((id) => !owners.has(id));
      if (unknown.length > 0) throw validationError([{ field: 'order', message: `no such route: ${unknown.join(', ')}` }]);
      if (order.length !== owners.size) {
        const dids = new Set(order.map((id) => owners.get(id)));
        if (dids.size !== 1) throw validationError([{ field: 'order', message: 'must list every route of one DID, or every route' }]);
        const did = owners.get(order[0]!);
        const listed = new Set(order);
        const missing = [...owners].filter(([id, d]) => d === did && !listed.has(id)).map(([id]) => id);
        if (missing.length > 0) throw validationError([{ field: 'order', message: `missing routes of DID ${did}: ${missing.join(', ')}` }]);
      }
      await setRoutePriorities(tx, order);
      return findRoutesByIds(tx, order);
    });
    const byId = new Map(rows.map((r) => [r.id, r]));
    const data = order.map((id) => toRoute(byId.get(id)!));
    changed(...data.map((r) => r.did_id));
    return { data };
  });

  app.get('/routes/:id', {
    schema: { tags, summary: 'Get a route', params: IdParams, response: { 200: RouteSchema, ...errorResponses(400, 401, 404) } },
  }, async (req) => {
    const row = await findRouteById(db, req.params.id);
    if (!row) throw notFound('Route');
    return toRoute(row);
  });

  app.put('/routes/:id', {
    config: admin,
    schema: {
      tags, summary: 'Update a route (admin). `conditions` is replaced as a whole; a new `action` needs matching `action_data`',
      params: IdParams, body: UpdateRoute, response: { 200: RouteSchema, ...errorResponses(400, 401, 403, 404) },
    },
  }, async (req) => {
    const b = req.body;
    const { before, after } = await db.transaction().execute(async (tx) => {
      const row = await findRouteById(tx, req.params.id);
      if (!row) throw notFound('Route');
      const current = toRoute(row);
      const action = b.action ?? current.action;
      const data = b.action_data ?? (b.action === undefined ? current.action_data as Record<string, unknown> : {});
      const errors = [...conditionErrors(b.conditions ?? {}), ...actionDataErrors(action, data)];
      if (errors.length > 0) throw validationError(errors);
      const refErrors = await referenceErrors(tx, b.did_id, action, b.action !== undefined || b.action_data !== undefined ? data : {});
      if (refErrors.length > 0) throw validationError(refErrors);
      const patch: RoutePatch = { name: b.name, didId: b.did_id, priority: b.priority, enabled: b.enabled, conditions: b.conditions };
      if (b.action !== undefined || b.action_data !== undefined) {
        patch.action = action;
        patch.actionData = data;
      }
      const updated = await updateRoute(tx, row.id, patch);
      if (!updated) throw notFound('Route');
      return { before: row, after: updated };
    });
    changed(before.did_id, after.did_id);
    return toRoute(after);
  });

  app.delete('/routes/:id', {
    config: admin,
    schema: { tags, summary: 'Delete a route (admin)', params: IdParams, response: { 200: Ok, ...errorResponses(400, 401, 403, 404) } },
  }, async (req) => {
    const row = await findRouteById(db, req.params.id);
    if (!row || !(await deleteRoute(db, row.id))) throw notFound('Route');
    changed(row.did_id);
    return { success: true };
  });
}
