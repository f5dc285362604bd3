/**
 * The HTTP-01 challenge (RFC 8555 §8.3): while an order is pending, the ACME CA fetches
 * `/.well-known/acme-challenge/<token>` on the HTTP port and must get the key authorization
 * back as plain text. Public by necessity; unknown tokens are 404.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from './context.ts';

export async function acmeChallengeRoutes(base: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/.well-known/acme-challenge/:token', {
    config: { auth: 'public' },
    schema: {
      tags: ['system'], summary: 'ACME HTTP-01 challenge response (fetched by the CA)', security: [],
      params: Type.Object({ token: Type.String({ pattern: '^[A-Za-z0-9_-]{1,256}$' }) }),
      response: { 200: Type.String(), 404: Type.String() },
    },
  }, async (req, reply) => {
    const keyAuthorization = ctx.tls?.challenges.answer(req.params.token);
    reply.type('text/plain');
    if (keyAuthorization === undefined) return reply.status(404).send('no such challenge\n');
    return keyAuthorization;
  });
}
