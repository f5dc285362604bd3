import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { errorResponses, validationError } from '../shared/errors.ts';
import { currentUser, forgetUserCredentials } from '../shared/auth.ts';
import { hashPassword, verifyPassword } from '../shared/passwords.ts';
import { findUserById, updateUser } from '../../store/users.ts';
import { deleteOtherSessions } from '../../store/sessions.ts';
import { Ok, Password } from './schemas.ts';

export async function meRoutes(base: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();

  app.get('/me', {
    schema: { tags: ['me'], summary: "The authenticated user's profile", response: { 200: Type.Ref('User'), ...errorResponses(401) } },
  }, async (req) => currentUser(req));

  app.put('/me/password', {
    schema: {
      tags: ['me'], summary: 'Change password (ends the other sessions)',
      body: Type.Object({ current_password: Type.String({ minLength: 1 }), new_password: Password }, { examples: [{ current_password: 'old-password', new_password: 'new-password' }] }),
      response: { 200: Ok, ...errorResponses(400, 401) },
    },
  }, async (req) => {
    const user = currentUser(req);
    const row = await findUserById(ctx.store.db, user.id);
    if (!row || !(await verifyPassword(row.password_hash, req.body.current_password))) {
      throw validationError([{ field: 'current_password', message: 'is incorrect' }]);
    }
    const hash = await hashPassword(req.body.new_password);
    await ctx.store.db.transaction().execute(async (tx) => {
      await updateUser(tx, user.id, { password_hash: hash });
      await deleteOtherSessions(tx, user.id, req.auth?.sessionHash ?? null);
    });
    forgetUserCredentials(ctx, user.id);
    return { success: true };
  });
}
