import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { errorResponses, forbidden } from '../shared/errors.ts';
import { hashPassword } from '../shared/passwords.ts';
import { completeSetup, isSetupComplete } from '../../pbx/setup.ts';
import { Email, Password } from './schemas.ts';

const SetupBody = Type.Object({
  admin_email: Email,
  admin_password: Password,
  twilio_account_sid: Type.Optional(Type.String({ pattern: '^AC[0-9a-fA-F]{32}$' })),
  twilio_auth_token: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
}, { examples: [{ admin_email: 'admin@example.com', admin_password: 'secure-password', twilio_account_sid: 'AC00000000000000000000000000000000', twilio_auth_token: '0123456789abcdef' }] });

/** First-run wizard: both routes are public until setup completes, then answer 403. */
export async function setupRoutes(base: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['setup'];
  const closed = () => forbidden('Setup is already complete');

  app.get('/setup/status', {
    config: { auth: 'public' },
    schema: {
      tags, summary: 'First-run status (only before setup completes)', security: [],
      response: { 200: Type.Object({ setup_complete: Type.Boolean(), steps: Type.Array(Type.String()) }), ...errorResponses(403) },
    },
  }, async () => {
    if (await isSetupComplete(ctx.store.db)) throw closed();
    return { setup_complete: false, steps: ['admin_account', 'twilio_credentials (optional)'] };
  });

  app.post('/setup/complete', {
    config: { auth: 'public' },
    schema: {
      tags, summary: 'Create the first admin and store optional Twilio credentials', security: [],
      body: SetupBody,
      response: { 201: Type.Object({ setup_complete: Type.Boolean(), admin: Type.Ref('User') }), ...errorResponses(400, 403) },
    },
  }, async (req, reply) => {
    const b = req.body;
    const admin = await completeSetup(ctx.store.db, ctx.box, {
      email: b.admin_email, passwordHash: await hashPassword(b.admin_password),
      twilioAccountSid: b.twilio_account_sid, twilioAuthToken: b.twilio_auth_token,
    });
    if (!admin) throw closed();
    return reply.status(201).send({ setup_complete: true, admin });
  });
}
