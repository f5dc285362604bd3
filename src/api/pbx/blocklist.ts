/**
 * `/api/blocklist` (seed 003): callers the PBX rejects. Reads: any logged-in user; writes:
 * admin. An entry is an exact E.164 number or a number pattern with a wildcard (`*` any
 * run, `X` one digit; see `src/pbx/phone-number.ts`). The call engine checks a caller with
 * `matchesAnyPattern(await blocklistCandidates(db, caller), caller)`.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { conflict, errorResponses, notFound } from '../shared/errors.ts';
import { ListOf, page, PaginationQuery } from '../shared/pagination.ts';
import { deleteBlocklistEntry, insertBlocklistEntry, listBlocklist, toBlocklistEntry } from '../../store/blocklist.ts';
import { IdParams, Ok } from './schemas.ts';

/** E.164, or the number-pattern grammar with at least one wildcard. */
const BLOCK_PATTERN = '^(\\+[1-9][0-9]{0,14}|\\+?[0-9X]*[*X][0-9X*]*)$';

const EntrySchema = Type.Object({
  id: Type.Integer(),
  phone_number: Type.String(),
  reason: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
}, { examples: [{ id: 1, phone_number: '+15551234567', reason: 'spam', created_at: '2026-01-01T00:00:00.000Z' }] });

const CreateEntry = Type.Object({
  phone_number: Type.String({ maxLength: 32, pattern: BLOCK_PATTERN, description: 'E.164 number, or a pattern: * = any run of characters, X = one digit', examples: ['+15551234567', '+1900*'] }),
  reason: Type.Optional(Type.Union([Type.Null(), Type.String({ maxLength: 200 })])), // null first: see dids.ts
}, { examples: [{ phone_number: '+15551234567', reason: 'spam' }] });

export async function blocklistRoutes(base: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const db = ctx.store.db;
  const admin = { auth: 'admin' as const };
  const tags = ['blocklist'];

  app.get('/blocklist', {
    schema: { tags, summary: 'List blocked numbers and patterns', querystring: PaginationQuery, response: { 200: ListOf(EntrySchema), ...errorResponses(400, 401) } },
  }, async (req) => {
    const { rows, total } = await listBlocklist(db, req.query.limit, req.query.offset);
    return page(rows.map(toBlocklistEntry), total, req.query);
  });

  app.post('/blocklist', {
    config: admin,
    schema: { tags, summary: 'Block a number or pattern (admin)', body: CreateEntry, response: { 201: EntrySchema, ...errorResponses(400, 401, 403, 409) } },
  }, async (req, reply) => {
    const row = await insertBlocklistEntry(db, { phoneNumber: req.body.phone_number, reason: req.body.reason ?? null });
    if (!row) throw conflict('This number is already blocked', [{ field: 'phone_number', message: 'already exists' }]);
    ctx.events.emit('pbx.blocklist.changed', {});
    return reply.status(201).send(toBlocklistEntry(row));
  });

  app.delete('/blocklist/:id', {
    config: admin,
    schema: { tags, summary: 'Unblock (admin)', params: IdParams, response: { 200: Ok, ...errorResponses(400, 401, 403, 404) } },
  }, async (req) => {
    if (!(await deleteBlocklistEntry(db, req.params.id))) throw notFound('Blocklist entry');
    ctx.events.emit('pbx.blocklist.changed', {});
    return { success: true };
  });
}
