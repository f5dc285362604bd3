/**
 * `POST /api/rooms/{name}/tokens`: mints a room token (see `src/rooms/room-tokens.ts`) for the
 * room page (`?token=` when STROWGER_ROOMS_REQUIRE_TOKEN=1) and for WHIP/WHEP (Bearer).
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { ApiContext } from '../context.ts';
import { errorResponses, validationError } from '../shared/errors.ts';
import { RoomRegistry } from '../../rooms/room-registry.ts';
import { RoomTokens } from '../../rooms/room-tokens.ts';

const Params = Type.Object({ name: Type.String({ maxLength: 64 }) });
const Body = Type.Object({
  display_name: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Shown for the bearer in the room (overrides what the page sends)' })),
  ttl_seconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 7 * 86400, default: 3600 })),
}, { additionalProperties: false });
const Minted = Type.Object({
  token: Type.String(),
  room: Type.String(),
  expires_at: Type.String({ format: 'date-time' }),
  join_path: Type.String({ description: 'The room page with the token' }),
  whip_path: Type.String(),
  whep_path: Type.String(),
});

export async function roomTokenRoutes(app: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const tokens = new RoomTokens(ctx.config.secretKey);
  app.post<{ Params: Static<typeof Params>; Body: Static<typeof Body> }>('/rooms/:name/tokens', {
    schema: {
      tags: ['rooms'], summary: 'Mint a room token (room page when tokens are required; WHIP/WHEP Bearer)',
      params: Params, body: Body, response: { 201: Minted, ...errorResponses(400, 401, 403) },
    },
  }, async (req, reply) => {
    const { name } = req.params;
    if (!RoomRegistry.validName(name)) throw validationError([{ field: 'name', message: 'room names are 1-64 letters, digits, "-", "_" or "."' }]);
    const { token, expiresAt } = await tokens.mint(name, { displayName: req.body?.display_name, ttlSeconds: req.body?.ttl_seconds ?? 3600 });
    return reply.status(201).send({
      token, room: name, expires_at: expiresAt.toISOString(),
      join_path: `/rooms/${name}?token=${token}`, whip_path: `/whip/${name}`, whep_path: `/whep/${name}`,
    });
  });
}
