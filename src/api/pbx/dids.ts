/**
 * `/api/dids` (seed 003): the PBX's phone numbers. Reads: any logged-in user; writes: admin.
 * `phone_number` and `number` are aliases on input and both present on output.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { conflict, errorResponses, notFound, validationError } from '../shared/errors.ts';
import { ListOf, page, PaginationQuery } from '../shared/pagination.ts';
import { DID_CAPABILITIES, deleteDid, findDidById, findDidByNumber, insertDid, listDids, toDid, updateDid } from '../../store/dids.ts';
import { E164_PATTERN } from '../../pbx/phone-number.ts';
import { IdParams, Ok } from './schemas.ts';
import { syncDidsWithAccount } from '../../store/did-sync.ts';
import { twilioNotConfigured, viaTwilio } from './twilio-errors.ts';

const SyncResult = Type.Object({
  created: Type.Integer({ description: 'Numbers of the account that became DIDs' }),
  updated: Type.Integer({ description: 'DIDs whose friendly name, capabilities or Twilio sid changed (or that came back)' }),
  removed: Type.Integer({ description: 'DIDs whose number left the account: marked released_at, kept with their routes' }),
}, { examples: [{ created: 2, updated: 1, removed: 0 }] });

const E164 = Type.String({ pattern: E164_PATTERN, description: 'E.164: "+" then 1-15 digits, the first not 0', examples: ['+15551234567'] });
const Capabilities = Type.Array(Type.Union(DID_CAPABILITIES.map((c) => Type.Literal(c))), { minItems: 1, uniqueItems: true, examples: [['voice', 'sms']] });
// Null first: with Ajv's coerceTypes a string branch tried first would turn null into "".
const FriendlyName = Type.Union([Type.Null(), Type.String({ maxLength: 100 })]);

const DidSchema = Type.Object({
  id: Type.Integer(),
  phone_number: Type.String(),
  number: Type.String({ description: 'Same as phone_number' }),
  friendly_name: Type.Union([Type.String(), Type.Null()]),
  capabilities: Type.Array(Type.String()),
  twilio_sid: Type.Union([Type.String(), Type.Null()]),
  released_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'Set when a Twilio sync no longer found the number on the account' }),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
}, { examples: [{ id: 1, phone_number: '+15551234567', number: '+15551234567', friendly_name: 'Main Line', capabilities: ['voice', 'sms'], twilio_sid: null, released_at: null, created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z' }] });

const CreateDid = Type.Object({
  phone_number: Type.Optional(E164),
  number: Type.Optional(E164),
  friendly_name: Type.Optional(FriendlyName),
  capabilities: Type.Optional(Capabilities),
}, { examples: [{ phone_number: '+15551234567', friendly_name: 'Main Line', capabilities: ['voice', 'sms'] }] });
const UpdateDid = Type.Object(CreateDid.properties, { examples: [{ friendly_name: 'Support Line' }] });

/** `phone_number` and `number` name the same field: one value, or both equal. */
function numberOf(body: { phone_number?: string; number?: string }): string | undefined {
  if (body.phone_number !== undefined && body.number !== undefined && body.phone_number !== body.number) {
    throw validationError([{ field: 'number', message: 'must equal phone_number (they are aliases)' }]);
  }
  return body.phone_number ?? body.number;
}

const numberTaken = () => conflict('A DID with this number already exists', [{ field: 'phone_number', message: 'already exists' }]);

export async function didsRoutes(base: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const db = ctx.store.db;
  const admin = { auth: 'admin' as const };
  const tags = ['dids'];

  app.get('/dids', {
    schema: { tags, summary: 'List DIDs', querystring: PaginationQuery, response: { 200: ListOf(DidSchema), ...errorResponses(400, 401) } },
  }, async (req) => {
    const { rows, total } = await listDids(db, req.query.limit, req.query.offset);
    return page(rows.map(toDid), total, req.query);
  });

  app.post('/dids', {
    config: admin,
    schema: {
      tags, summary: 'Create a DID (admin). `number` is an alias of `phone_number`; capabilities default to ["voice"]',
      body: CreateDid, response: { 201: DidSchema, ...errorResponses(400, 401, 403, 409) },
    },
  }, async (req, reply) => {
    const phoneNumber = numberOf(req.body);
    if (phoneNumber === undefined) throw validationError([{ field: 'phone_number', message: 'is required' }]);
    const row = await insertDid(db, { phoneNumber, friendlyName: req.body.friendly_name ?? null, capabilities: req.body.capabilities ?? ['voice'] });
    if (!row) throw numberTaken();
    ctx.events.emit('pbx.dids.changed', { id: row.id });
    return reply.status(201).send(toDid(row));
  });

  app.post('/dids/sync', {
    config: admin,
    schema: {
      tags, summary: "Sync DIDs with the Twilio account's numbers (admin)",
      description: 'New numbers become DIDs; known ones (by Twilio sid, else by number) take Twilio\'s friendly name and capabilities; DIDs whose number left the account are marked released_at (kept with their routes). DIDs never linked to Twilio are untouched.',
      response: { 200: SyncResult, ...errorResponses(401, 403, 409, 502) },
    },
  }, async () => {
    const rest = await ctx.twilio.rest();
    if (!rest) throw twilioNotConfigured();
    const numbers = await viaTwilio(() => rest.listIncomingNumbers());
    const result = await db.transaction().execute((tx) => syncDidsWithAccount(tx, numbers.map((n) => ({
      sid: n.sid, phoneNumber: n.phoneNumber, friendlyName: n.friendlyName,
      capabilities: DID_CAPABILITIES.filter((c) => n.capabilities[c]),
    }))));
    for (const id of result.changedIds) ctx.events.emit('pbx.dids.changed', { id });
    return { created: result.created, updated: result.updated, removed: result.removed };
  });

  app.get('/dids/:id', {
    schema: { tags, summary: 'Get a DID', params: IdParams, response: { 200: DidSchema, ...errorResponses(400, 401, 404) } },
  }, async (req) => {
    const row = await findDidById(db, req.params.id);
    if (!row) throw notFound('DID');
    return toDid(row);
  });

  app.put('/dids/:id', {
    config: admin,
    schema: { tags, summary: 'Update a DID (admin)', params: IdParams, body: UpdateDid, response: { 200: DidSchema, ...errorResponses(400, 401, 403, 404, 409) } },
  }, async (req) => {
    const phoneNumber = numberOf(req.body);
    const row = await db.transaction().execute(async (tx) => {
      const existing = await findDidById(tx, req.params.id);
      if (!existing) throw notFound('DID');
      const changeNumber = phoneNumber !== undefined && phoneNumber !== existing.phone_number;
      if (changeNumber && (await findDidByNumber(tx, phoneNumber))) throw numberTaken();
      return updateDid(tx, existing.id, {
        phoneNumber: changeNumber ? phoneNumber : undefined,
        friendlyName: req.body.friendly_name,
        capabilities: req.body.capabilities,
      });
    });
    if (!row) throw notFound('DID');
    ctx.events.emit('pbx.dids.changed', { id: row.id });
    return toDid(row);
  });

  app.delete('/dids/:id', {
    config: admin,
    schema: { tags, summary: "Delete a DID (admin); its routes are deleted with it", params: IdParams, response: { 200: Ok, ...errorResponses(400, 401, 403, 404) } },
  }, async (req) => {
    if (!(await deleteDid(db, req.params.id))) throw notFound('DID');
    // Its routes went with it (ON DELETE CASCADE): the call engine drops both from its cache.
    ctx.events.emit('pbx.dids.changed', { id: req.params.id });
    return { success: true };
  });
}
