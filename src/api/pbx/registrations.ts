import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { ApiError, errorResponses } from '../shared/errors.ts';
import { ListOf, page, PaginationQuery } from '../shared/pagination.ts';
import { currentUser } from '../shared/auth.ts';
import { deviceIdsOfUser } from '../../store/devices.ts';

const Registration = Type.Object({
  device_id: Type.Integer(),
  username: Type.String({ description: 'Address-of-record (the device username)' }),
  contact: Type.String({ description: 'Contact URI the device registered' }),
  transport: Type.String({ examples: ['udp'] }),
  source_ip: Type.String(),
  source_port: Type.Integer(),
  user_agent: Type.Union([Type.Null(), Type.String()]),
  q: Type.Number(),
  instance_id: Type.Union([Type.Null(), Type.String()]),
  registered_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
  expires_at: Type.String({ format: 'date-time' }),
  expires_in: Type.Integer({ description: 'Seconds left' }),
}, { examples: [{ device_id: 1, username: '1001', contact: 'sip:1001@192.0.2.10:5062', transport: 'udp', source_ip: '192.0.2.10', source_port: 5062, user_agent: 'Yealink T46U', q: 1, instance_id: null, registered_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:10:00.000Z', expires_at: '2026-01-01T01:10:00.000Z', expires_in: 3600 }] });

/** `GET /api/devices/registrations`: live SIP registrations from the location service. */
export async function registrationsRoutes(base: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/devices/registrations', {
    schema: {
      tags: ['devices'], summary: 'Active SIP registrations (admins see all; users see their own devices)',
      querystring: PaginationQuery,
      response: { 200: ListOf(Registration), ...errorResponses(400, 401, 503) },
    },
  }, async (req) => {
    const sip = ctx.sip;
    if (!sip) throw new ApiError('service_unavailable', 'The SIP server is not running');
    const user = currentUser(req);
    let bindings = sip.location.all();
    if (user.role !== 'admin') {
      const ids = new Set(await deviceIdsOfUser(ctx.store.db, user.id));
      bindings = bindings.filter((b) => ids.has(b.deviceId));
    }
    bindings.sort((a, b) => a.aor.localeCompare(b.aor) || b.q - a.q);
    const now = Date.now();
    const rows = bindings.slice(req.query.offset, req.query.offset + req.query.limit).map((b) => ({
      device_id: b.deviceId, username: b.aor, contact: b.contactUri, transport: b.transport,
      source_ip: b.sourceIp, source_port: b.sourcePort, user_agent: b.userAgent, q: b.q, instance_id: b.instanceId,
      registered_at: new Date(b.createdAt).toISOString(), updated_at: new Date(b.updatedAt).toISOString(),
      expires_at: new Date(b.expiresAt).toISOString(), expires_in: Math.max(0, Math.round((b.expiresAt - now) / 1000)),
    }));
    return page(rows, bindings.length, req.query);
  });
}
