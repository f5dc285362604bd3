/**
 * `/api/security/bans` (admin): the SIP guard's bans in force (issue 12). A ban is either an
 * address (username null: nothing from it is answered, set when many usernames failed digest
 * from it) or a username locked at an address (its requests from there get 403, set after
 * repeated failures for it). Bans live in the SIP server's memory on this node, so a restart
 * lifts them; ids are not reused while the process runs.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { ApiError, errorResponses, notFound } from '../shared/errors.ts';
import { ListOf, page, PaginationQuery } from '../shared/pagination.ts';
import type { SipBan } from '../../pbx/sip-guard.ts';
import { IdParams, Ok } from './schemas.ts';

const BanSchema = Type.Object({
  id: Type.Integer(),
  address: Type.String({ description: 'Source IP address' }),
  username: Type.Union([Type.Null(), Type.String()], { description: 'Locked username at that address; null when the whole address is banned' }),
  reason: Type.String({
    description: 'repeated_failures (STROWGER_SIP_BAN_FAILURES failures for one username) | username_enumeration (failures for STROWGER_SIP_BAN_USERNAMES usernames)',
    examples: ['repeated_failures'],
  }),
  created_at: Type.String({ format: 'date-time' }),
  expires_at: Type.String({ format: 'date-time' }),
}, { examples: [{ id: 1, address: '192.0.2.10', username: '1001', reason: 'repeated_failures', created_at: '2026-01-01T00:00:00.000Z', expires_at: '2026-01-01T00:10:00.000Z' }] });

const toBan = (b: SipBan) => ({
  id: b.id, address: b.address, username: b.username, reason: b.reason,
  created_at: new Date(b.createdAt).toISOString(), expires_at: new Date(b.expiresAt).toISOString(),
});

export async function securityRoutes(base: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const admin = { auth: 'admin' as const };
  const tags = ['security'];
  const guard = () => {
    if (!ctx.sip) throw new ApiError('service_unavailable', 'The SIP server is not running');
    return ctx.sip.guard;
  };

  app.get('/security/bans', {
    config: admin,
    schema: { tags, summary: 'SIP bans in force, oldest first (admin)', querystring: PaginationQuery, response: { 200: ListOf(BanSchema), ...errorResponses(400, 401, 403, 503) } },
  }, async (req) => {
    const bans = guard().list();
    return page(bans.slice(req.query.offset, req.query.offset + req.query.limit).map(toBan), bans.length, req.query);
  });

  app.delete('/security/bans/:id', {
    config: admin,
    schema: { tags, summary: 'Lift a SIP ban (admin)', params: IdParams, response: { 200: Ok, ...errorResponses(400, 401, 403, 404, 503) } },
  }, async (req) => {
    const g = guard();
    const ban = g.list().find((b) => b.id === req.params.id);
    if (!ban || !g.lift(ban.id)) throw notFound('Ban');
    ctx.logger.child({ component: 'sip' }).info({ ban_id: ban.id, address: ban.address, username: ban.username, reason: ban.reason }, 'SIP ban lifted through the API');
    return { success: true };
  });
}
