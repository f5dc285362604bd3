/**
 * `/api/provisioning` (seed 003), the fetch side: tokens (the secret in a phone's
 * provisioning URL; shown once, stored hashed), their QR code, the provisioning event log,
 * and the public `GET /api/provision/{token}` the phone itself calls.
 *
 * The public route answers 404 alike for malformed and unknown tokens (no probing whether a
 * device exists), 403 for a revoked token, 410 for an expired one, and is rate-limited per
 * client address (`STROWGER_PROVISION_RATE_PER_MINUTE`).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import QRCode from 'qrcode';
import type { ApiContext } from '../context.ts';
import { ApiError, errorResponses, forbidden, notFound } from '../shared/errors.ts';
import { ListOf, page, PaginationQuery } from '../shared/pagination.ts';
import { currentUser } from '../shared/auth.ts';
import { RateWindow } from '../shared/rate-window.ts';
import {
  createToken, findTokenById, findTokenByPlaintext, listTokens, revokeToken, tokenState, toProvisioningToken,
} from '../../store/provisioning-tokens.ts';
import { deviceIdsOfUser } from '../../store/devices.ts';
import { insertDeviceEvent, listEventsByCategory, toDeviceEvent } from '../../store/device-events.ts';
import { fetchDeviceConfig } from '../../pbx/provisioning/device-config.ts';
import type { ServerSide } from '../../pbx/provisioning/build-account.ts';
import type { User } from '../../store/users.ts';
import { DeviceEventSchema, visibleDevice } from './devices.ts';
import { IdParams, Ok } from './schemas.ts';

const TokenSchema = Type.Object({
  id: Type.Integer(), device_id: Type.Integer(),
  token_prefix: Type.String({ description: 'First characters of the token, to tell tokens apart' }),
  state: Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('revoked')]),
  expires_at: Type.String({ format: 'date-time' }), revoked_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  last_used_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]), use_count: Type.Integer(),
  created_at: Type.String({ format: 'date-time' }),
});
const CreatedToken = Type.Intersect([TokenSchema, Type.Object({
  token: Type.String({ description: 'The secret itself: shown only in this answer' }),
  url: Type.String({ description: 'The provisioning URL to give the phone' }),
  qrcode_url: Type.String({ description: 'PNG QR code of `url` (authenticated)' }),
})]);
const CreateToken = Type.Object({
  device_id: Type.Integer({ minimum: 1 }),
  expires_hours: Type.Optional(Type.Integer({ minimum: 1, maximum: 8760, default: 24 })),
}, { examples: [{ device_id: 1, expires_hours: 24 }] });
const TokenParams = Type.Object({ token: Type.String({ maxLength: 128 }) });
/**
 * The QR route's segment is the token itself (seed: `/tokens/{token}/qrcode`), but the router
 * shares one parameter name per position with `DELETE /tokens/{id}`, so it is called `id`.
 */
const QrParams = Type.Object({ id: Type.String({ maxLength: 128, description: 'The token itself (as returned once at creation), not its numeric id' }) });

/** Base of the URLs we hand out: STROWGER_PUBLIC_URL, else the address the admin reached us at. */
function baseUrl(ctx: ApiContext, req: FastifyRequest): string {
  return ctx.config.twilio.publicUrl?.replace(/\/+$/, '') ?? `${req.protocol}://${req.host}`;
}

/** The device ids `user` may see tokens and events of; null = all (admin). */
async function scope(ctx: ApiContext, user: User): Promise<number[] | null> {
  return user.role === 'admin' ? null : deviceIdsOfUser(ctx.store.db, user.id);
}

export async function provisioningTokenRoutes(base: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const db = ctx.store.db;
  const tags = ['provisioning'];
  const server: ServerSide = {
    domain: ctx.config.domain, host: ctx.config.publicIp ?? ctx.config.domain, sipPort: ctx.config.sip.port, tlsPort: ctx.config.sip.tlsPort,
  };
  const fetchLimit = new RateWindow({ max: ctx.config.provisionRatePerMinute, windowMs: 60_000 });

  app.get('/provisioning/tokens', {
    schema: { tags, summary: 'List provisioning tokens (a user: of their own devices)', querystring: PaginationQuery, response: { 200: ListOf(TokenSchema), ...errorResponses(400, 401) } },
  }, async (req) => {
    const { rows, total } = await listTokens(db, await scope(ctx, currentUser(req)), req.query.limit, req.query.offset);
    return page(rows.map((r) => toProvisioningToken(r)), total, req.query);
  });

  app.post('/provisioning/tokens', {
    schema: { tags, summary: 'Create a provisioning token for a device; the token is shown once', body: CreateToken, response: { 201: CreatedToken, ...errorResponses(400, 401, 404) } },
  }, async (req, reply) => {
    const user = currentUser(req);
    const device = await visibleDevice(db, user, req.body.device_id);
    const hours = req.body.expires_hours ?? 24;
    const { row, token } = await createToken(db, { deviceId: device.id, expiresInMs: hours * 3600_000, createdBy: user.id });
    await insertDeviceEvent(db, { deviceId: device.id, category: 'provisioning', type: 'token_created', detail: `token ${row.token_prefix}… valid ${hours} h`, sourceIp: req.ip });
    const url = `${baseUrl(ctx, req)}/api/provision/${token}`;
    return reply.status(201).send({ ...toProvisioningToken(row), token, url, qrcode_url: `${baseUrl(ctx, req)}/api/provisioning/tokens/${token}/qrcode` });
  });

  app.get('/provisioning/tokens/:id/qrcode', {
    schema: {
      tags, summary: 'QR code (PNG) of the provisioning URL of a token (the token itself in the path)', params: QrParams,
      response: { 200: { description: 'image/png', type: 'string', format: 'binary' }, ...errorResponses(401, 403, 404, 410) },
    },
  }, async (req, reply) => {
    const plaintext = req.params.id;
    const row = await findTokenByPlaintext(db, plaintext);
    if (!row) throw notFound('Token');
    await visibleDevice(db, currentUser(req), row.device_id);
    const state = tokenState(row);
    if (state === 'revoked') throw forbidden('This token was revoked');
    if (state === 'expired') throw new ApiError('gone', 'This token has expired');
    const png = await QRCode.toBuffer(`${baseUrl(ctx, req)}/api/provision/${plaintext}`, { type: 'png', errorCorrectionLevel: 'M', margin: 2, scale: 6 });
    return reply.type('image/png').header('cache-control', 'no-store').send(png);
  });

  app.delete('/provisioning/tokens/:id', {
    schema: { tags, summary: 'Revoke a provisioning token (idempotent)', params: IdParams, response: { 200: Ok, ...errorResponses(400, 401, 404) } },
  }, async (req) => {
    const row = await findTokenById(db, req.params.id);
    if (!row) throw notFound('Token');
    await visibleDevice(db, currentUser(req), row.device_id).catch(() => { throw notFound('Token'); });
    const revoked = await revokeToken(db, row.id);
    if (row.revoked_at === null) {
      await insertDeviceEvent(db, { deviceId: row.device_id, category: 'provisioning', type: 'token_revoked', detail: `token ${row.token_prefix}…`, sourceIp: req.ip });
    }
    return { success: revoked !== undefined };
  });

  app.get('/provisioning/events', {
    schema: { tags, summary: 'Recent provisioning events, newest first (a user: of their own devices)', querystring: PaginationQuery, response: { 200: ListOf(DeviceEventSchema), ...errorResponses(400, 401) } },
  }, async (req) => {
    const { rows, total } = await listEventsByCategory(db, 'provisioning', await scope(ctx, currentUser(req)), req.query.limit, req.query.offset);
    return page(rows.map(toDeviceEvent), total, req.query);
  });

  app.get('/provision/:token', {
    config: { auth: 'public' },
    schema: {
      tags, summary: 'The configuration file of the device a token belongs to (public: the token is the credential)', params: TokenParams, security: [],
      response: { 200: { description: 'The vendor\'s configuration (XML, key/value text or JSON)', type: 'string' }, ...errorResponses(403, 404, 410, 429) },
    },
  }, async (req, reply) => {
    const wait = fetchLimit.hit(req.ip);
    if (wait > 0) {
      reply.header('retry-after', String(Math.ceil(wait / 1000)));
      throw new ApiError('rate_limited', 'Too many provisioning requests from this address; try again later');
    }
    const out = await fetchDeviceConfig(db, ctx.box, server, { token: req.params.token, sourceIp: req.ip, userAgent: req.headers['user-agent'] });
    if (out.kind === 'unknown') throw notFound('Configuration');
    if (out.kind === 'revoked') throw forbidden('This provisioning token was revoked');
    if (out.kind === 'expired') throw new ApiError('gone', 'This provisioning token has expired');
    return reply.type(out.contentType).header('cache-control', 'no-store').send(out.body);
  });
}
