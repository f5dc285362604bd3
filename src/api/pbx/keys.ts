import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { errorResponses, notFound } from '../shared/errors.ts';
import { ListOf, page, PaginationQuery } from '../shared/pagination.ts';
import { API_KEY_PREFIX, currentUser, forgetCredential, newToken, sha256 } from '../shared/auth.ts';
import { API_KEY_SCOPES, deleteApiKey, findApiKeyById, insertApiKey, listApiKeys, toApiKey } from '../../store/api-keys.ts';
import { IdParams, Ok } from './schemas.ts';

const Scope = Type.Union(API_KEY_SCOPES.map((s) => Type.Literal(s)));
const ApiKeySchema = Type.Object({
  id: Type.Integer(),
  user_id: Type.Integer(),
  name: Type.String(),
  prefix: Type.String({ description: 'First characters of the key, to recognise it' }),
  scopes: Type.Array(Scope),
  created_at: Type.String({ format: 'date-time' }),
  last_used_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
const CreatedKey = Type.Intersect([ApiKeySchema, Type.Object({ key: Type.String({ description: 'The secret: shown only in this answer' }) })]);

export async function keysRoutes(base: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const db = ctx.store.db;
  const tags = ['api-keys'];

  app.get('/keys', {
    schema: { tags, summary: 'List API keys (your own; admins see all)', querystring: PaginationQuery, response: { 200: ListOf(ApiKeySchema), ...errorResponses(400, 401) } },
  }, async (req) => {
    const user = currentUser(req);
    const { rows, total } = await listApiKeys(db, user.role === 'admin' ? null : user.id, req.query.limit, req.query.offset);
    return page(rows.map(toApiKey), total, req.query);
  });

  app.post('/keys', {
    schema: {
      tags, summary: 'Create an API key; the secret is returned once',
      body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }), scopes: Type.Array(Scope, { minItems: 1, uniqueItems: true }) },
        { examples: [{ name: 'provisioning script', scopes: ['pbx'] }] }),
      response: { 201: CreatedKey, ...errorResponses(400, 401) },
    },
  }, async (req, reply) => {
    const user = currentUser(req);
    const key = newToken(API_KEY_PREFIX);
    const row = await insertApiKey(db, { userId: user.id, name: req.body.name, prefix: key.slice(0, 10), secretHash: sha256(key), scopes: req.body.scopes });
    return reply.status(201).send({ ...toApiKey(row), key });
  });

  app.delete('/keys/:id', {
    schema: { tags, summary: 'Revoke an API key', params: IdParams, response: { 200: Ok, ...errorResponses(400, 401, 404) } },
  }, async (req) => {
    const user = currentUser(req);
    const row = await findApiKeyById(db, req.params.id);
    // Another user's key is "not found" to a non-admin: no probing of ids.
    if (!row || (user.role !== 'admin' && row.user_id !== user.id)) throw notFound('API key');
    await deleteApiKey(db, row.id);
    forgetCredential(ctx, row.secret_hash);
    return { success: true };
  });
}
