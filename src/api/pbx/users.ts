import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { conflict, errorResponses, notFound } from '../shared/errors.ts';
import { ListOf, page, PaginationQuery } from '../shared/pagination.ts';
import { hashPassword } from '../shared/passwords.ts';
import { countUsers, deleteUser, findUserByEmail, findUserById, insertUser, listUsers, toUser, updateUser } from '../../store/users.ts';
import type { UserUpdate } from '../../store/schema.ts';
import { Email, IdParams, Ok, Password, Role } from './schemas.ts';

const CreateUser = Type.Object({ email: Email, password: Password, role: Type.Optional(Role) },
  { examples: [{ email: 'user@example.com', password: 'secure-password', role: 'user' }] });
const UpdateUser = Type.Object({ email: Type.Optional(Email), password: Type.Optional(Password), role: Type.Optional(Role) },
  { examples: [{ role: 'admin' }] });

export async function usersRoutes(base: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const db = ctx.store.db;
  const admin = { auth: 'admin' as const };
  const tags = ['users'];

  app.get('/users', {
    config: admin,
    schema: { tags, summary: 'List users (admin)', querystring: PaginationQuery, response: { 200: ListOf(Type.Ref('User')), ...errorResponses(400, 401, 403) } },
  }, async (req) => {
    const { rows, total } = await listUsers(db, req.query.limit, req.query.offset);
    return page(rows.map(toUser), total, req.query);
  });

  app.post('/users', {
    config: admin,
    schema: { tags, summary: 'Create a user (admin)', body: CreateUser, response: { 201: Type.Ref('User'), ...errorResponses(400, 401, 403, 409) } },
  }, async (req, reply) => {
    if (await findUserByEmail(db, req.body.email)) throw conflict('A user with this email already exists', [{ field: 'email', message: 'already exists' }]);
    const row = await insertUser(db, { email: req.body.email, password_hash: await hashPassword(req.body.password), role: req.body.role ?? 'user' });
    return reply.status(201).send(toUser(row));
  });

  app.get('/users/:id', {
    config: admin,
    schema: { tags, summary: 'Get a user (admin)', params: IdParams, response: { 200: Type.Ref('User'), ...errorResponses(400, 401, 403, 404) } },
  }, async (req) => {
    const row = await findUserById(db, req.params.id);
    if (!row) throw notFound('User');
    return toUser(row);
  });

  app.put('/users/:id', {
    config: admin,
    schema: { tags, summary: 'Update a user (admin)', params: IdParams, body: UpdateUser, response: { 200: Type.Ref('User'), ...errorResponses(400, 401, 403, 404, 409) } },
  }, async (req) => {
    const id = req.params.id;
    const updated = await db.transaction().execute(async (tx) => {
      const row = await findUserById(tx, id);
      if (!row) throw notFound('User');
      const patch: UserUpdate = {};
      if (req.body.email !== undefined && req.body.email.toLowerCase() !== row.email) {
        if (await findUserByEmail(tx, req.body.email)) throw conflict('A user with this email already exists', [{ field: 'email', message: 'already exists' }]);
        patch.email = req.body.email.toLowerCase();
      }
      if (req.body.role !== undefined && req.body.role !== row.role) {
        if (row.role === 'admin' && (await countUsers(tx, 'admin')) <= 1) throw conflict('Cannot demote the last admin');
        patch.role = req.body.role;
      }
      if (req.body.password !== undefined) patch.password_hash = await hashPassword(req.body.password);
      return updateUser(tx, id, patch);
    });
    if (!updated) throw notFound('User');
    return toUser(updated);
  });

  app.delete('/users/:id', {
    config: admin,
    schema: { tags, summary: 'Delete a user (admin); the last admin cannot be deleted', params: IdParams, response: { 200: Ok, ...errorResponses(400, 401, 403, 404, 409) } },
  }, async (req) => {
    await db.transaction().execute(async (tx) => {
      const row = await findUserById(tx, req.params.id);
      if (!row) throw notFound('User');
      if (row.role === 'admin' && (await countUsers(tx, 'admin')) <= 1) throw conflict('Cannot delete the last admin');
      await deleteUser(tx, row.id);
    });
    return { success: true };
  });
}
