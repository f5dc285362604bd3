/**
 * `/api/system/zrtp/*` (seed 003, issue 16): ZRTP settings, the sessions running now with their
 * SAS, and the user's SAS verdict. Figures come from the sessions (`ZrtpService`), not from
 * configuration. Strowger is the ZRTP endpoint of each leg, so a SAS here is the one shown on
 * that leg's phone (docs/ZRTP.md).
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { ApiError, errorResponses, notFound } from '../shared/errors.ts';
import { ListOf, page } from '../shared/pagination.ts';
import { ZrtpNotSecureError, type ZrtpSessionSnapshot } from '../../media/zrtp/index.ts';
import { OFFER } from '../../media/zrtp/zrtp-algorithms.ts';
import { ZRTP_VERSION } from '../../media/zrtp/zrtp-messages.ts';
import { DEFAULT_KEY_AGREEMENTS } from '../../media/zrtp/zrtp-endpoint.ts';
import { countZrtpPeers } from '../../store/zrtp-cache.ts';
import type { ZrtpCalls } from '../../pbx/zrtp-calls.ts';

const tags = ['system'];
const admin = { auth: 'admin' } as const;
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

const Config = Type.Object({
  enabled: Type.Boolean({ description: 'Run ZRTP on answered calls (legs without SDES-SRTP)' }),
  strict_mode: Type.Boolean({ description: 'A leg whose device does not complete ZRTP ends the call (cause zrtp_failed)' }),
}, { examples: [{ enabled: true, strict_mode: false }] });

const ConfigUpdate = Type.Partial(Config, { additionalProperties: false, minProperties: 1, examples: [{ enabled: true, strict_mode: false }] });

const Session = Type.Object({
  session_id: Type.String(),
  call_id: Nullable(Type.String()),
  leg: Nullable(Type.String({ description: 'a: the caller side, b: the callee side' })),
  state: Type.String({ description: 'discovery, commit-sent, wait-*, secure, failed, no-peer (the device sent no ZRTP)' }),
  role: Nullable(Type.String({ description: 'Our role: Initiator or Responder' })),
  peer_zid: Nullable(Type.String()),
  peer_client_id: Nullable(Type.String()),
  sas: Nullable(Type.String({ description: 'Short authentication string shown on the phone (B32: 4 characters)' })),
  sas_type: Nullable(Type.String()),
  key_agreement: Nullable(Type.String()),
  cipher: Nullable(Type.String()),
  auth_tag: Nullable(Type.String()),
  srtp_suite: Nullable(Type.String()),
  cache_matched: Nullable(Type.String({ description: 'rs1/rs2: the retained secret of an earlier call matched; null: first call or mismatch' })),
  sas_verified: Type.Boolean({ description: 'The SAS with this peer was marked verified (POST /sas/verify)' }),
  both_verified: Type.Boolean({ description: 'Both ends sent the verified flag and the cache matched' }),
  started_at: Type.String(),
  secure_at: Nullable(Type.String()),
  error: Nullable(Type.String()),
});

const SasEntry = Type.Object({
  session_id: Type.String(), call_id: Nullable(Type.String()), leg: Nullable(Type.String()),
  sas: Type.String(), sas_type: Type.String(), peer_zid: Type.String(), sas_verified: Type.Boolean(), both_verified: Type.Boolean(),
});

const Status = Type.Object({
  enabled: Type.Boolean(),
  strict_mode: Type.Boolean(),
  version: Type.String({ examples: [ZRTP_VERSION] }),
  zid: Type.String({ description: 'Our ZID (96 bits, hex), kept across restarts' }),
  algorithms: Type.Object({ hash: Type.Array(Type.String()), cipher: Type.Array(Type.String()), auth_tag: Type.Array(Type.String()), key_agreement: Type.Array(Type.String()), sas: Type.Array(Type.String()) }),
  sessions: Type.Object({
    active: Type.Integer(), secure: Type.Integer({ description: 'Legs encrypted by ZRTP now' }),
    secured_total: Type.Integer({ description: 'Since start' }), failed_total: Type.Integer({ description: 'Since start' }),
  }),
  cache: Type.Object({ peers: Type.Integer({ description: 'Peer ZIDs with retained secrets' }), verified: Type.Integer() }),
});

const Verify = Type.Object({
  session_id: Type.String({ minLength: 1 }),
  verified: Type.Boolean(),
}, { additionalProperties: false, examples: [{ session_id: '7c9e…', verified: true }] });

function view(s: ZrtpSessionSnapshot) {
  return {
    session_id: s.id, call_id: s.callId, leg: s.side, state: s.state, role: s.role, peer_zid: s.peerZid, peer_client_id: s.peerClientId,
    sas: s.sas, sas_type: s.sasType, key_agreement: s.keyAgreement, cipher: s.cipher, auth_tag: s.authTag, srtp_suite: s.srtpSuite,
    cache_matched: s.cacheMatched, sas_verified: s.sasVerified, both_verified: s.bothVerified, started_at: s.startedAt, secure_at: s.secureAt, error: s.error,
  };
}

function sasView(s: ZrtpSessionSnapshot) {
  return { session_id: s.id, call_id: s.callId, leg: s.side, sas: s.sas!, sas_type: s.sasType!, peer_zid: s.peerZid!, sas_verified: s.sasVerified, both_verified: s.bothVerified };
}

function zrtpOf(ctx: ApiContext): ZrtpCalls {
  if (!ctx.zrtp) throw new ApiError('service_unavailable', 'ZRTP runs with the SIP server, which is not running');
  return ctx.zrtp;
}

export async function zrtpRoutes(base: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();

  app.get('/system/zrtp/status', {
    config: admin,
    schema: { tags, summary: 'ZRTP settings, algorithms, sessions and cached peers (admin)', response: { 200: Status, ...errorResponses(401, 403, 503) } },
  }, async () => {
    const z = zrtpOf(ctx);
    const s = z.settings();
    const t = z.service.totals();
    return {
      enabled: s.enabled, strict_mode: s.strictMode, version: ZRTP_VERSION, zid: z.service.zid.toString('hex'),
      algorithms: { hash: [...OFFER.hashes], cipher: [...OFFER.ciphers], auth_tag: [...OFFER.authTags], key_agreement: [...DEFAULT_KEY_AGREEMENTS], sas: OFFER.sasTypes.map((x) => x.trim()) },
      sessions: { active: t.active, secure: t.secure, secured_total: t.secured, failed_total: t.failed },
      cache: await countZrtpPeers(ctx.store.db),
    };
  });

  app.put('/system/zrtp/config', {
    config: admin,
    schema: { tags, summary: 'Turn ZRTP on or off, strict mode (admin); applies to calls answered from now on', body: ConfigUpdate, response: { 200: Config, ...errorResponses(400, 401, 403, 503) } },
  }, async (req) => {
    const s = await zrtpOf(ctx).update({ enabled: req.body.enabled, strictMode: req.body.strict_mode });
    return { enabled: s.enabled, strict_mode: s.strictMode };
  });

  app.get('/system/zrtp/sessions', {
    config: admin,
    schema: { tags, summary: 'ZRTP sessions of the legs of active calls (admin)', response: { 200: ListOf(Session), ...errorResponses(401, 403, 503) } },
  }, async () => {
    const list = zrtpOf(ctx).service.sessions().map(view);
    return page(list, list.length, { limit: list.length, offset: 0 });
  });

  app.get('/system/zrtp/sas', {
    config: admin,
    schema: {
      tags, summary: 'The SAS of each secure session, or of one (admin)',
      querystring: Type.Object({ session_id: Type.Optional(Type.String({ minLength: 1 })) }, { additionalProperties: false }),
      response: { 200: ListOf(SasEntry), ...errorResponses(400, 401, 403, 404, 503) },
    },
  }, async (req) => {
    const service = zrtpOf(ctx).service;
    const id = req.query.session_id;
    if (id !== undefined) {
      const s = service.session(id);
      if (!s) throw notFound('ZRTP session');
      if (s.sas === null) throw new ApiError('conflict', `the session is ${s.state}: no SAS yet`, { state: s.state });
      return page([sasView(s)], 1, { limit: 1, offset: 0 });
    }
    const list = service.sessions().filter((s) => s.sas !== null).map(sasView);
    return page(list, list.length, { limit: list.length, offset: 0 });
  });

  app.post('/system/zrtp/sas/verify', {
    config: admin,
    schema: {
      tags, summary: 'Record that the SAS was compared with the phone (or not): the verified flag of later calls with that peer (admin)',
      body: Verify, response: { 200: Session, ...errorResponses(400, 401, 403, 404, 409, 503) },
    },
  }, async (req) => {
    try {
      const s = await zrtpOf(ctx).service.verifySas(req.body.session_id, req.body.verified);
      if (!s) throw notFound('ZRTP session');
      return view(s);
    } catch (err) {
      if (err instanceof ZrtpNotSecureError) throw new ApiError('conflict', err.message, { state: err.state });
      throw err;
    }
  });
}
