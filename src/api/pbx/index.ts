/**
 * The PBX admin API of seed 003 under `/api`: its own auth hook (session or API key with
 * the `pbx` scope) and the `/api` error envelope set at the root.
 */
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';
import { authPlugin } from '../shared/auth.ts';
import { authRoutes } from './auth-routes.ts';
import { meRoutes } from './me.ts';
import { usersRoutes } from './users.ts';
import { keysRoutes } from './keys.ts';
import { setupRoutes } from './setup.ts';
import { systemRoutes } from './system.ts';
import { devicesRoutes } from './devices.ts';
import { didsRoutes } from './dids.ts';
import { routesRoutes } from './routes.ts';
import { blocklistRoutes } from './blocklist.ts';
import { dndRoutes } from './dnd.ts';
import { trunksRoutes } from './trunks.ts';
import { cdrsRoutes } from './cdrs.ts';
import { registrationsRoutes } from './registrations.ts';
import { callsRoutes } from './calls.ts';
import { mohRoutes } from './moh.ts';
import { securityRoutes } from './security.ts';
import { provisioningProfileRoutes } from './provisioning-profiles.ts';
import { provisioningTokenRoutes } from './provisioning-tokens.ts';
import { webhooksRoutes } from './webhooks.ts';
import { messagesRoutes } from './messages.ts';
import { voicemailsRoutes } from './voicemails.ts';
import { UserSchema } from './schemas.ts';
import { mwiRoutes } from './mwi.ts';
import { srtpRoutes } from './srtp.ts';
import { roomTokenRoutes } from './room-tokens.ts';
import { roomsRoutes } from './rooms.ts';
import { tlsRoutes } from './tls.ts';
import { encryptionRoutes } from './encryption.ts';
import { trunksTlsRoutes } from './trunks-tls.ts';
import { zrtpRoutes } from './zrtp.ts';
import { callGatewayAdminRoutes } from './call-gateway-admin.ts';

export async function pbxApi(app: FastifyInstance, opts: { ctx: ApiContext }) {
  app.addSchema(UserSchema);
  app.addHook('onRoute', (route) => {
    route.config = { scope: 'pbx', ...(route.config as object) };
  });
  const ctx = { ctx: opts.ctx };
  await app.register(authPlugin, ctx);
  for (const routes of [authRoutes, meRoutes, usersRoutes, keysRoutes, setupRoutes, systemRoutes,
    devicesRoutes, didsRoutes, routesRoutes, blocklistRoutes, dndRoutes, trunksRoutes, cdrsRoutes, registrationsRoutes, callsRoutes, mohRoutes, securityRoutes,
    provisioningProfileRoutes, provisioningTokenRoutes, webhooksRoutes, messagesRoutes, voicemailsRoutes]) {
    await app.register(routes, ctx);
  }
  await app.register(mwiRoutes, ctx);
  await app.register(srtpRoutes, ctx);
  await app.register(roomTokenRoutes, ctx);
  await app.register(roomsRoutes, ctx);
  await app.register(tlsRoutes, ctx);
  await app.register(encryptionRoutes, ctx);
  await app.register(trunksTlsRoutes, ctx);
  await app.register(zrtpRoutes, ctx);
  await app.register(callGatewayAdminRoutes, ctx);
}
